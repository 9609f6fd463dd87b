/** The options of the watch mode (`mini-qserv ingest --watch`, `mini-qserv czar --watch`) and its start. */
import { hostname } from "node:os";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import { createLogger } from "../common/log.js";
import { globRegExp } from "../watch/glob.js";
import { httpLoader, type Loader } from "../watch/loaders.js";
import { type InputOptions, makeRule, readRules, type WatchRule } from "../watch/rules.js";
import { Watcher } from "../watch/watcher.js";
import { czarUrl, exitOnSignals, type InputOptions as InputFlags, ingestInputFields, seconds } from "./options.js";

/** The watch options under their names for `ingest` (prefix "") or `czar` (prefix "watch-"). */
export function withWatchOptions(cmd: Command, prefix: "" | "watch-"): Command {
  return cmd
    .option(`--${prefix}pattern <glob>`, "only files whose names match (* ? [...] {a,b})", "*")
    .option(
      `--${prefix}rules <file>`,
      'JSON {"rules": [{"pattern", "database", "table", "header", "dialect"}]}: file name to table (first match)',
    )
    .option(`--${prefix}ledger <file>`, "the record of the files loaded (default: .mini-qserv-watch.sqlite in DIR)")
    .option(`--${prefix}scan-interval <seconds>`, "between scans of the directory", "1")
    .option(`--${prefix}retry-base <seconds>`, "first retry after a transient failure (doubled each time)", "1")
    .option(`--${prefix}retry-max <seconds>`, "longest wait between retries", "60");
}

export interface WatchFlags {
  pattern: string;
  rules?: string;
  ledger?: string;
  scanInterval: string;
  retryBase: string;
  retryMax: string;
}

/** The flags of `czar --watch-...` under the names `ingest --watch` gives them. */
export function unprefixed(o: Record<string, unknown>): WatchFlags {
  const get = (k: string) => o[`watch${k[0]?.toUpperCase()}${k.slice(1)}`] as string;
  return {
    pattern: get("pattern"),
    ...(get("rules") === undefined ? {} : { rules: get("rules") }),
    ...(get("ledger") === undefined ? {} : { ledger: get("ledger") }),
    scanInterval: get("scanInterval"),
    retryBase: get("retryBase"),
    retryMax: get("retryMax"),
  };
}

/** The rules: a rules file, or one rule for every file from --database/--table and the input options. */
export function watchRules(
  o: WatchFlags,
  single?: { database?: string; table?: string; options: InputOptions },
): WatchRule[] {
  if (o.rules !== undefined) {
    if (single?.database !== undefined || single?.table !== undefined) {
      throw new QservError("BAD_ARGUMENT", "--watch takes --rules or --database with --table, not both");
    }
    return readRules(o.rules);
  }
  if (single?.database === undefined || single.table === undefined) {
    throw new QservError("BAD_ARGUMENT", "a watched directory needs --rules FILE (or --database and --table)");
  }
  return [makeRule("*", single.database, single.table, single.options)];
}

/** `mini-qserv ingest --watch DIR`: loads through the czar's HTTP API until SIGTERM / SIGINT. */
export function ingestWatch(
  dir: string,
  files: string[],
  o: WatchFlags & InputFlags & { database?: string; table?: string; czar?: string; byPath?: boolean },
): void {
  if (files.length > 0) throw new QservError("BAD_ARGUMENT", "--watch takes a directory, not files");
  if (o.rejects !== undefined || o.byPath === true) {
    throw new QservError(
      "BAD_ARGUMENT",
      "not supported: --rejects or --by-path with --watch (a bad file is moved to rejected/)",
    );
  }
  const rules = watchRules(o, {
    ...(o.database === undefined ? {} : { database: o.database }),
    ...(o.table === undefined ? {} : { table: o.table }),
    options: ingestInputFields(o),
  });
  const log = createLogger("watch");
  const loader = httpLoader(czarUrl(o.czar));
  const watcher = startWatcher(dir, o, rules, loader, `${hostname()}:${resolve(dir)}`, log);
  exitOnSignals(log, () => watcher.stop());
}

/** Starts watching `dir`; stopped with the returned watcher. */
export function startWatcher(
  dir: string,
  o: WatchFlags,
  rules: WatchRule[],
  loader: Loader,
  id: string,
  log: Logger,
): Watcher {
  const ms = (what: string, v: string) => (seconds(what, v) ?? 0) * 1000;
  const watcher = new Watcher({
    id,
    dir: resolve(dir),
    rules,
    pattern: globRegExp(o.pattern),
    loader,
    log,
    ...(o.ledger === undefined ? {} : { ledgerPath: resolve(o.ledger) }),
    scanMs: ms("--scan-interval", o.scanInterval),
    retryBaseMs: ms("--retry-base", o.retryBase),
    retryMaxMs: ms("--retry-max", o.retryMax),
  });
  watcher.start();
  log.info({ dir: resolve(dir), pattern: o.pattern, tables: rules.map((r) => r.target) }, "watching");
  return watcher;
}
