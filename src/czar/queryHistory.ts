/**
 * Finished queries, kept by the czar across restarts: an append-only JSON-lines file under
 * DATA_DIR, bounded (past twice `max` lines it is rewritten with the last `max`). A line that
 * does not parse (a czar killed mid-write) is skipped.
 */
import { closeSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import type { QueryRecord } from "../frontends/web/apiTypes.js";

export type { QueryRecord };

export interface HistoryFilter {
  /** Only the failed ones. */
  failed?: boolean;
  /** Slowest first (else the most recent first). */
  slowest?: boolean;
  /** Of this user only. */
  user?: string;
  limit?: number;
}

/** Longest query text kept in a record. */
const MAX_TEXT = 4096;

export class QueryHistory {
  private records: QueryRecord[] = [];
  private lines = 0;
  private listeners = new Set<(r: QueryRecord) => void>();
  /** The file, open for appending (null: opened at the next record). */
  private fd: number | null = null;

  constructor(
    private readonly file: string,
    private readonly max = 1000,
  ) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return;
    }
    for (const line of text.split("\n")) {
      if (line === "") continue;
      this.lines++;
      try {
        this.records.push(JSON.parse(line) as QueryRecord);
      } catch {
        // a torn last line
      }
    }
    this.records = this.records.slice(-max);
  }

  /** Appends one finished query (its seq is assigned here). */
  record(r: Omit<QueryRecord, "seq">): QueryRecord {
    const rec: QueryRecord = { seq: (this.records.at(-1)?.seq ?? 0) + 1, ...r, query: r.query.slice(0, MAX_TEXT) };
    this.records.push(rec);
    if (this.records.length > this.max) this.records.shift();
    try {
      if (++this.lines > 2 * this.max) {
        this.close();
        writeFileSync(`${this.file}.tmp`, this.records.map((x) => `${JSON.stringify(x)}\n`).join(""));
        renameSync(`${this.file}.tmp`, this.file);
        this.lines = this.records.length;
      } else {
        // One write on a descriptor kept open (a line at a time, so a kill tears at most the last).
        this.fd ??= openSync(this.file, "a");
        writeSync(this.fd, `${JSON.stringify(rec)}\n`);
      }
    } catch {
      // history is best effort: a full disk must not fail queries
    }
    for (const l of this.listeners) l(rec);
    return rec;
  }

  /** Closes the file (a later record opens it again). */
  close(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // nothing more to do
    }
    this.fd = null;
  }

  list(f: HistoryFilter = {}): QueryRecord[] {
    let out = this.records.filter((r) => (f.failed !== true || r.error !== undefined) && (f.user ?? r.user) === r.user);
    out = f.slowest === true ? out.sort((a, b) => b.elapsedMs - a.elapsedMs) : out.reverse();
    return out.slice(0, f.limit ?? 100);
  }

  /** Calls `l` with every record from now on; returns its removal. */
  subscribe(l: (r: QueryRecord) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
