/**
 * Automatic incremental ingestion: a directory scanned again and again; each new complete file
 * (a `<file>.done` marker beside it, or the same size and mtime at two scans in a row) is loaded
 * as one ingest into the table its name maps to (rules.ts), one file at a time. The ledger
 * (ledger.ts) records every content and file before anything is sent, so nothing is loaded twice:
 * not after a restart, a kill -9 mid-load (a load whose id was recorded and that the czar lists
 * is done; any other is sent again, and the czar answers one it has already recorded as such),
 * a rename, or the same content delivered again. Transient failures (a worker or the czar down)
 * are retried with exponential backoff; a bad file (parse error, schema mismatch) is moved to
 * `rejected/` with `<file>.reason`, and the others go on.
 */
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { isQservError, QservError } from "../common/errors.js";
import { haltPoint } from "../common/haltPoint.js";
import { type Content, Ledger } from "./ledger.js";
import type { Loader } from "./loaders.js";
import { ruleFor, type WatchRule } from "./rules.js";
import { snapshotOf, type WatchSnapshot } from "./snapshot.js";

export const REJECTED_DIR = "rejected";
export const DONE_SUFFIX = ".done";
export const REASON_SUFFIX = ".reason";
/** The ledger's default file, in the watched directory (hidden files are never loaded). */
export const LEDGER_FILE = ".mini-qserv-watch.sqlite";

export interface WatchOptions {
  /** A name for the czar's listing. */
  id: string;
  dir: string;
  rules: WatchRule[];
  /** Which file names are looked at (the rules then map them to tables). */
  pattern: RegExp;
  loader: Loader;
  log: Logger;
  /** Default: LEDGER_FILE in `dir`. */
  ledgerPath?: string;
  /** Between scans (default 1000). */
  scanMs?: number;
  /** The first retry's delay, doubled at each one up to `retryMaxMs` (defaults 1000, 60000). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** Failures that say nothing about the file: tried again later. Others reject the file. */
function transient(e: unknown): boolean {
  if (!isQservError(e)) return true;
  if (e.code === "CONFLICT") return !/duplicate director key/.test(e.message);
  return ["UNAVAILABLE", "IO", "INTERNAL", "CANCELLED", "NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"].includes(e.code);
}

async function sha256(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const piece of createReadStream(path) as AsyncIterable<Buffer>) h.update(piece);
  return h.digest("hex");
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class Watcher {
  private readonly ledger: Ledger;
  /** Files seen but not yet complete: their size and mtime at the last scan. */
  private readonly growing = new Map<string, { size: number; mtimeMs: number }>();
  private readonly stopping = new AbortController();
  private running: Promise<void> | null = null;
  private reportedOk = false;
  private lastReport = 0;

  constructor(private readonly o: WatchOptions) {
    if (statSync(o.dir, { throwIfNoEntry: false })?.isDirectory() !== true) {
      throw new QservError("BAD_ARGUMENT", `--watch ${o.dir}: not a directory`);
    }
    mkdirSync(join(o.dir, REJECTED_DIR), { recursive: true });
    this.ledger = new Ledger(o.ledgerPath ?? join(o.dir, LEDGER_FILE));
  }

  /** Recovers what a watcher that stopped left, then scans until stopped. */
  start(): void {
    this.running = (async () => {
      await this.recover();
      while (!this.stopping.signal.aborted) {
        try {
          await this.report(await this.tick());
        } catch (e) {
          // e.g. the ledger's disk: logged, and the next scan tries again
          this.o.log.error({ err: message(e) }, "watch scan failed");
        }
        await sleep(this.o.scanMs ?? 1000, undefined, { signal: this.stopping.signal }).catch(() => {});
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running?.catch(() => {});
    this.ledger.close();
  }

  snapshot(): WatchSnapshot {
    const incomplete = [...this.growing].map(([name, s]) => ({ name, size: s.size }));
    return snapshotOf(this.o.id, this.o.dir, this.ledger.all(), this.ledger.deliveries(), incomplete);
  }

  /**
   * Loads a watcher stopped in the middle of: one whose load id it recorded and the czar lists
   * is loaded; any other goes back to pending (sent again: the czar answers a load it recorded).
   */
  private async recover(): Promise<void> {
    for (const c of this.ledger.inState("loading")) {
      let rows: number | null = null;
      if (c.loadId !== null) rows = await this.o.loader.recorded(c.loadId, c.target).catch(() => null);
      if (c.loadId !== null && rows !== null) {
        this.ledger.loaded(c.hash, c.loadId, rows);
        this.o.log.info({ file: c.name, loadId: c.loadId }, "published before the watcher stopped: loaded");
      } else {
        this.ledger.retry(c.hash, "the watcher stopped before the load was published", 0);
        this.o.log.info({ file: c.name }, "not published before the watcher stopped: to be loaded again");
      }
    }
  }

  /** One scan, then the loads due; whether anything changed. */
  async tick(): Promise<boolean> {
    let changed = await this.scan();
    for (const c of this.ledger.inState("pending")) {
      if (this.stopping.signal.aborted) break;
      if (c.nextAt > Date.now()) continue;
      if (await this.loadOne(c)) {
        changed = true;
        await this.report(true);
      }
    }
    return changed;
  }

  /** Files of the directory to look at: regular, not hidden, not markers or reasons, matching the pattern. */
  private candidates(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.o.dir);
    } catch (e) {
      this.o.log.warn({ dir: this.o.dir, err: message(e) }, "cannot list the watched directory");
      return [];
    }
    return names.filter(
      (n) => !n.startsWith(".") && !n.endsWith(DONE_SUFFIX) && !n.endsWith(REASON_SUFFIX) && this.o.pattern.test(n),
    );
  }

  /** Records the files newly complete; whether there were any (or files began or stopped growing). */
  private async scan(): Promise<boolean> {
    let changed = false;
    const present = new Set<string>();
    for (const name of this.candidates()) {
      const path = join(this.o.dir, name);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(path);
      } catch {
        continue; // gone meanwhile
      }
      if (!st.isFile() || this.ledger.known(name, st.size, st.mtimeMs)) continue;
      present.add(name);
      const before = this.growing.get(name);
      const stable = before !== undefined && before.size === st.size && before.mtimeMs === st.mtimeMs;
      if (!stable && !existsSync(path + DONE_SUFFIX)) {
        if (before === undefined) changed = true;
        this.growing.set(name, { size: st.size, mtimeMs: st.mtimeMs });
        continue;
      }
      const hash = await sha256(path).catch(() => null);
      const after = statSync(path, { throwIfNoEntry: false });
      if (hash === null || after === undefined || after.size !== st.size || after.mtimeMs !== st.mtimeMs) {
        this.growing.set(name, { size: after?.size ?? 0, mtimeMs: after?.mtimeMs ?? 0 });
        continue; // written to meanwhile: complete at a later scan
      }
      this.growing.delete(name);
      changed = true;
      this.found(name, st.size, st.mtimeMs, hash);
    }
    for (const name of this.growing.keys()) {
      if (!present.has(name)) {
        this.growing.delete(name);
        changed = true;
      }
    }
    return changed;
  }

  /** A complete file: a new content to load (or reject, when no rule takes it), or one seen before. */
  private found(name: string, size: number, mtimeMs: number, hash: string): void {
    const rule = ruleFor(this.o.rules, name);
    const { content, isNew } = this.ledger.deliver({ name, size, mtimeMs, hash }, rule?.target ?? "-");
    if (isNew) {
      this.o.log.info({ file: name, table: content.target }, "new file");
      if (rule === null) this.reject(content, `no rule matches the name ${name}`);
      return;
    }
    this.o.log.info({ file: name, sameAs: content.name, state: content.state }, "same content as a file seen before");
    if (content.state === "rejected") {
      this.park(name, `the same content as ${content.name}, rejected: ${content.error ?? ""}`);
    }
  }

  /** Where a content is now: a file delivered with it that is still there, unchanged. */
  private whereIs(c: Content): string | null {
    for (const d of this.ledger.deliveries(c.hash)) {
      const path = join(this.o.dir, d.name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (st !== undefined && st.size === d.size && st.mtimeMs === d.mtimeMs) return path;
    }
    return null;
  }

  /** One attempt at a pending content; false when none was made (its file is gone for now). */
  private async loadOne(c: Content): Promise<boolean> {
    const path = this.whereIs(c);
    if (path === null) return false;
    const rule = ruleFor(this.o.rules, c.name);
    if (rule === null) {
      this.reject(c, `no rule matches the name ${c.name}`);
      return true;
    }
    this.ledger.loading(c.hash);
    await haltPoint("watch:loading", this.o.log);
    try {
      const r = await this.o.loader.load(
        { path, name: c.name, hash: c.hash },
        rule,
        (loadId) => this.ledger.publishing(c.hash, loadId),
        this.stopping.signal,
      );
      await haltPoint("watch:loaded", this.o.log);
      this.ledger.loaded(c.hash, r.loadId, r.rows);
      this.o.log.info(
        { file: c.name, table: rule.target, loadId: r.loadId, rows: r.rows, duplicate: r.duplicate },
        "file loaded",
      );
    } catch (e) {
      if (this.stopping.signal.aborted) {
        this.ledger.retry(c.hash, "the watcher stopped", 0);
      } else if (transient(e)) {
        const attempts = c.attempts + 1;
        const delay = Math.min(this.o.retryMaxMs ?? 60_000, (this.o.retryBaseMs ?? 1000) * 2 ** (attempts - 1));
        this.ledger.retry(c.hash, message(e), Date.now() + delay);
        this.o.log.warn({ file: c.name, attempts, retryInMs: delay, err: message(e) }, "load failed: retried later");
      } else {
        this.reject(c, message(e));
      }
    }
    return true;
  }

  /** A bad content: every file of it goes to rejected/ with the reason. */
  private reject(c: Content, reason: string): void {
    this.ledger.rejected(c.hash, reason);
    this.o.log.warn({ file: c.name, reason }, "file rejected");
    for (const d of this.ledger.deliveries(c.hash)) this.park(d.name, reason);
  }

  /** Moves a file (if still there) to rejected/, writes its reason beside it, removes its marker. */
  private park(name: string, reason: string): void {
    const from = join(this.o.dir, name);
    if (!existsSync(from)) return;
    const to = join(this.o.dir, REJECTED_DIR, name);
    try {
      renameSync(from, to);
      writeFileSync(to + REASON_SUFFIX, `${reason}\n`);
      rmSync(from + DONE_SUFFIX, { force: true });
    } catch (e) {
      this.o.log.error({ file: name, err: message(e) }, "cannot move a rejected file");
    }
  }

  /** Sends the state to the czar when it changed, or every 10 s, or until a report got through. */
  private async report(changed: boolean): Promise<void> {
    if (!changed && this.reportedOk && Date.now() - this.lastReport < 10_000) return;
    this.lastReport = Date.now();
    try {
      await this.o.loader.report(this.snapshot());
      this.reportedOk = true;
    } catch (e) {
      if (this.reportedOk) this.o.log.warn({ err: message(e) }, "cannot report to the czar");
      this.reportedOk = false;
    }
  }
}
