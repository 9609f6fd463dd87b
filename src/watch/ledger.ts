/**
 * The watcher's durable record (SQLite, synchronous writes): each distinct content (by SHA-256)
 * once, with its state and the load that holds it, and each file delivered (name, size, mtime)
 * with the content it had. A content is loaded at most once, whatever names it comes under.
 *
 * States: pending (to load, at `next_at`), loading (sent to the czar; `load_id` once the czar said
 * it publishes), loaded, rejected (a bad file: moved to rejected/ with its reason).
 */
import Database from "better-sqlite3";
import { QservError } from "../common/errors.js";

export type ContentState = "pending" | "loading" | "loaded" | "rejected";

export interface Content {
  hash: string;
  /** The name of its first file: every attempt uploads it under this name (one load identity). */
  name: string;
  size: number;
  /** "db.table" it goes to. */
  target: string;
  state: ContentState;
  loadId: string | null;
  rows: number | null;
  attempts: number;
  /** When a pending content is due (ms since the epoch). */
  nextAt: number;
  /** The last failure (a retry's cause, or a rejection's reason). */
  error: string | null;
  seenAt: string;
  doneAt: string | null;
}

export interface Delivery {
  name: string;
  size: number;
  mtimeMs: number;
  hash: string;
  seenAt: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS contents (
  hash TEXT PRIMARY KEY, name TEXT NOT NULL, size INTEGER NOT NULL, target TEXT NOT NULL,
  state TEXT NOT NULL, load_id TEXT, rows INTEGER, attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL DEFAULT 0, error TEXT, seen_at TEXT NOT NULL, done_at TEXT
);
CREATE TABLE IF NOT EXISTS deliveries (
  name TEXT NOT NULL, size INTEGER NOT NULL, mtime_ms REAL NOT NULL, hash TEXT NOT NULL, seen_at TEXT NOT NULL,
  PRIMARY KEY (name, size, mtime_ms)
);
CREATE INDEX IF NOT EXISTS deliveries_hash ON deliveries (hash);
`;

interface ContentRow {
  hash: string;
  name: string;
  size: number;
  target: string;
  state: ContentState;
  load_id: string | null;
  rows: number | null;
  attempts: number;
  next_at: number;
  error: string | null;
  seen_at: string;
  done_at: string | null;
}

const content = (r: ContentRow): Content => ({
  hash: r.hash,
  name: r.name,
  size: r.size,
  target: r.target,
  state: r.state,
  loadId: r.load_id,
  rows: r.rows,
  attempts: r.attempts,
  nextAt: r.next_at,
  error: r.error,
  seenAt: r.seen_at,
  doneAt: r.done_at,
});

const now = () => new Date().toISOString();

export class Ledger {
  private readonly db: Database.Database;

  constructor(path: string) {
    try {
      this.db = new Database(path);
    } catch (e) {
      throw new QservError("IO", `watch ledger ${path}: ${(e as Error).message}`);
    }
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  /** Whether this file (name, size, mtime) was seen already. */
  known(name: string, size: number, mtimeMs: number): boolean {
    return (
      this.db
        .prepare("SELECT 1 FROM deliveries WHERE name = ? AND size = ? AND mtime_ms = ?")
        .get(name, size, mtimeMs) !== undefined
    );
  }

  content(hash: string): Content | null {
    const r = this.db.prepare("SELECT * FROM contents WHERE hash = ?").get(hash) as ContentRow | undefined;
    return r === undefined ? null : content(r);
  }

  /**
   * Records a file seen complete; its content is new (pending, for `target`) or one recorded
   * before (then returned: a re-delivery, loaded once).
   */
  deliver(d: Omit<Delivery, "seenAt">, target: string): { content: Content; isNew: boolean } {
    return this.db.transaction(() => {
      const at = now();
      this.db
        .prepare("INSERT OR IGNORE INTO deliveries (name, size, mtime_ms, hash, seen_at) VALUES (?, ?, ?, ?, ?)")
        .run(d.name, d.size, d.mtimeMs, d.hash, at);
      const old = this.content(d.hash);
      if (old !== null) return { content: old, isNew: false };
      this.db
        .prepare("INSERT INTO contents (hash, name, size, target, state, seen_at) VALUES (?, ?, ?, ?, 'pending', ?)")
        .run(d.hash, d.name, d.size, target, at);
      return { content: this.content(d.hash) as Content, isNew: true };
    })();
  }

  /** The files delivered with this content, first seen first. */
  deliveries(hash?: string): Delivery[] {
    const rows = (
      hash === undefined
        ? this.db.prepare("SELECT * FROM deliveries ORDER BY seen_at, name").all()
        : this.db.prepare("SELECT * FROM deliveries WHERE hash = ? ORDER BY seen_at, name").all(hash)
    ) as Array<{ name: string; size: number; mtime_ms: number; hash: string; seen_at: string }>;
    return rows.map((r) => ({ name: r.name, size: r.size, mtimeMs: r.mtime_ms, hash: r.hash, seenAt: r.seen_at }));
  }

  /** Contents in `state`, first seen first. */
  inState(state: ContentState): Content[] {
    return (
      this.db.prepare("SELECT * FROM contents WHERE state = ? ORDER BY seen_at, name").all(state) as ContentRow[]
    ).map(content);
  }

  all(): Content[] {
    return (this.db.prepare("SELECT * FROM contents ORDER BY seen_at, name").all() as ContentRow[]).map(content);
  }

  /** Sent to the czar: one attempt more, no load id yet. */
  loading(hash: string): void {
    this.db
      .prepare("UPDATE contents SET state = 'loading', attempts = attempts + 1, load_id = NULL WHERE hash = ?")
      .run(hash);
  }

  /** The czar publishes it as this load: recorded before the publish is. */
  publishing(hash: string, loadId: string): void {
    this.db.prepare("UPDATE contents SET load_id = ? WHERE hash = ?").run(loadId, hash);
  }

  loaded(hash: string, loadId: string, rows: number): void {
    this.db
      .prepare("UPDATE contents SET state = 'loaded', load_id = ?, rows = ?, error = NULL, done_at = ? WHERE hash = ?")
      .run(loadId, rows, now(), hash);
  }

  /** To be tried again at `nextAt`, after `error`. */
  retry(hash: string, error: string, nextAt: number): void {
    this.db
      .prepare("UPDATE contents SET state = 'pending', load_id = NULL, error = ?, next_at = ? WHERE hash = ?")
      .run(error, nextAt, hash);
  }

  rejected(hash: string, reason: string): void {
    this.db
      .prepare("UPDATE contents SET state = 'rejected', error = ?, done_at = ? WHERE hash = ?")
      .run(reason, now(), hash);
  }
}
