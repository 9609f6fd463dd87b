/**
 * Index-seek-sized chunk queries run on the service thread, on connections it owns: no hand-off to
 * an executor thread and back. Only what the worker can tell is small: a statement whose every
 * step (SQLite's EXPLAIN QUERY PLAN) is an equality seek on a director key or a rowid — a point
 * lookup, a director-key IN list, one object's rows of a child table — with no sub-chunk passes
 * and a short text, in a call for one chunk (the service's choice: a batch of chunks keeps the
 * executor threads working side by side). Anything else, or anything that fails here, goes to the pool as before (which
 * then reports the error). MINI_QSERV_WORKER_INLINE=0 turns this off.
 */
import { QservError } from "../common/errors.js";
import { ChunkExecutor } from "./chunkExec.js";
import { connectionsPerThread, type JobSink } from "./queryPool.js";
import type { FromQueryThread, QueryJob } from "./threadMessages.js";

/** Longer statements (long IN lists) go to the pool. */
const MAX_TEXT = 16 << 10;
/** A number literal (not digits inside a name). */
const NUMBER = /(?<![\w$.])\d+(?:\.\d*)?(?:[eE][-+]?\d+)?/g;
/** Gate decisions kept (by text with its numbers as `?`: the same for every chunk and key). */
const MAX_DECISIONS = 4096;

const SEEK =
  /^SEARCH \S+(?: AS \S+)? USING (?:INTEGER PRIMARY KEY \(rowid=\?\)|(?:COVERING )?INDEX \S+ \(([A-Za-z_][\w$]*)=\?\))$/;

/** Every step an equality seek on the rowid or on one of `keys` (sorting such rows allowed). */
export function seekOnly(details: readonly string[], keys: ReadonlySet<string>): boolean {
  if (details.length === 0) return false;
  return details.every((d) => {
    if (d.startsWith("USE TEMP B-TREE FOR ORDER BY")) return true;
    const m = SEEK.exec(d);
    return m !== null && (m[1] === undefined || keys.has(m[1].toLowerCase()));
  });
}

export class InlineQueries {
  /** The running job's messages, handed on once it ran here (not when it was sent to the pool). */
  private held: Array<{ m: FromQueryThread }> = [];
  /**
   * Whether SQLite's plan was seeks only, by text with the chunk id of table names as `#` and
   * number literals as `?`: that plan is the same for every chunk file (each has the director
   * key's index) and every key, so EXPLAIN runs once per shape of query.
   */
  private readonly decisions = new Map<string, boolean>();
  /** As many chunk connections as a quarter of the executor threads keep (least recently used closed first). */
  private readonly exec = new ChunkExecutor(connectionsPerThread(4), {
    post: (m) => this.held.push({ m }),
    afterBatch: () => {},
    cancelled: () => false,
  });

  /** On unless MINI_QSERV_WORKER_INLINE=0. */
  static fromEnv(): InlineQueries | null {
    return process.env.MINI_QSERV_WORKER_INLINE === "0" ? null : new InlineQueries();
  }

  /**
   * Runs `spec` here if it is small, its messages to `sink` (synchronously); false: it was not
   * run, nothing was sent (run it in the pool). `directorKeys`: the database's director keys.
   */
  tryRun(spec: Omit<QueryJob, "job">, directorKeys: readonly string[], sink: JobSink): boolean {
    if (spec.subChunkIds.length > 0 || spec.sql.length > MAX_TEXT) return false;
    const shape = `${directorKeys.join(",")}\0${spec.sql.replaceAll(`_${spec.chunkId}`, "_#").replace(NUMBER, "?")}`;
    if (this.decisions.get(shape) === false) return false;
    const gate = (details: () => readonly string[]): boolean => {
      let ok = this.decisions.get(shape);
      if (ok === undefined) {
        const keys = new Set(directorKeys.filter((k) => k !== "").map((k) => k.toLowerCase()));
        ok = seekOnly(details(), keys);
        if (this.decisions.size >= MAX_DECISIONS) this.decisions.clear();
        this.decisions.set(shape, ok);
      }
      return ok;
    };
    this.held = [];
    if (!this.exec.run({ job: 0, ...spec }, gate)) return false;
    for (const { m } of this.held.splice(0)) {
      switch (m.t) {
        case "header":
          sink.header(m.columns);
          break;
        case "batch":
          sink.batch(m.rows, Buffer.from(m.data, m.offset, m.length), () => {});
          break;
        case "done":
          sink.done({ rows: m.rows, bytes: m.bytes, execMs: m.execMs, queuedMs: 0 });
          break;
        case "error":
          sink.error(new QservError(m.code, m.message));
          break;
      }
    }
    return true;
  }

  /** Closes the connections to `file` (dropped or replaced). */
  closeFile(file: string): void {
    this.exec.closeFile(file);
  }
}
