import type { Command } from "commander";
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import type { DialectOverrides } from "../partitioner/dialect.js";
import type { InputOptions as RequestInputOptions } from "../watch/rules.js";

/** A whole-number option value (undefined when absent). */
export function int(what: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new QservError("BAD_ARGUMENT", `${what} must be a whole number, got ${v}`);
  return n;
}

/** A duration option in seconds, fractions allowed (undefined when absent). */
export function seconds(what: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new QservError("BAD_ARGUMENT", `${what} must be a number of seconds, got ${v}`);
  }
  return n;
}

/** SIGTERM / SIGINT: log, run `close`, exit 0 (1 if closing failed). */
export function exitOnSignals(log: Logger, close: () => Promise<void>): void {
  const stop = (signal: string) => {
    log.info({ signal }, "shutting down");
    close().then(
      () => process.exit(0),
      (e) => {
        log.error({ err: String(e) }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

/** The czar URL: --czar, else $MINI_QSERV_CZAR, else the local default. */
export function czarUrl(v: string | undefined): string {
  return (v ?? process.env.MINI_QSERV_CZAR ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
}

/** The options that say how input files are read, shared by `partition` and `ingest`. */
export function withInputOptions(cmd: Command): Command {
  return cmd
    .option("--rejects <file>", "write bad rows here with their reasons and carry on, instead of stopping at the first")
    .option(
      "--delimiter <char>",
      "field delimiter (default: the config's fields_terminated_by, else tab for .tsv, comma otherwise)",
    )
    .option("--quote <char>", "character enclosing fields (default: the config's fields_enclosed_by, else none)")
    .option("--escape <char>", 'escape character, "" for none (default: the config\'s fields_escaped_by, else \\)')
    .option("--null <token>", "text that stands for NULL (default: \\N)")
    .option("--header", "each file's first line is a header: skip it")
    .option("--columns-from-header", "each file's first line names its columns: map them to the table's by name")
    .option(
      "--format <name>",
      "input format: csv, tsv, parquet or fits (default: by the file's name, else its first bytes)",
    )
    .option(
      "--drop-extra-columns",
      "Parquet/FITS: leave out the file's columns the table lacks (default: they stop the run)",
    )
    .option("--nan-as-null", "Parquet/FITS: load NaN and infinities as NULL (default: such rows are refused)");
}

/** What the input options say, as read by commander. */
export interface InputOptions {
  rejects?: string;
  delimiter?: string;
  quote?: string;
  escape?: string;
  null?: string;
  header?: boolean;
  columnsFromHeader?: boolean;
  format?: string;
  dropExtraColumns?: boolean;
  nanAsNull?: boolean;
}

/** The Parquet/FITS reading flags given (as the ingest request and the partitioner take them). */
export function readingFlags(o: InputOptions): { format?: string; dropExtraColumns?: boolean; nanAsNull?: boolean } {
  return {
    ...(o.format ? { format: o.format } : {}),
    ...(o.dropExtraColumns ? { dropExtraColumns: true } : {}),
    ...(o.nanAsNull ? { nanAsNull: true } : {}),
  };
}

/** The dialect flags given on the command line (they win over the table config's fields_* settings). */
export function dialectFlags(o: InputOptions): DialectOverrides {
  return { delimiter: o.delimiter, quote: o.quote, escape: o.escape, nullToken: o.null };
}

/** How to read the input files, as an ingest request (or a watch rule) carries it: dialect, header, reading flags. */
export function ingestInputFields(o: InputOptions): RequestInputOptions {
  const dialect: DialectOverrides = Object.fromEntries(
    Object.entries(dialectFlags(o)).filter(([, v]) => v !== undefined),
  );
  return {
    ...(Object.keys(dialect).length > 0 ? { dialect } : {}),
    ...(o.header ? { header: true } : {}),
    ...(o.columnsFromHeader ? { columnsFromHeader: true } : {}),
    ...readingFlags(o),
  };
}

/** Notices (columns added, reserved words, ...) on stderr, one a line. */
export function printNotices(notices: readonly string[]): void {
  for (const n of notices) process.stderr.write(`mini-qserv: notice: ${n}\n`);
}
