/**
 * The load thread: parses delimited text and inserts it, one SQLite transaction per load, so
 * inserts never block the main thread. Loads into different files interleave message by message;
 * the main thread lets only one load at a time touch a file. Nothing is committed before the
 * "commit" message; any failure or "abort" rolls back and removes a file the load created.
 */
import { parentPort } from "node:worker_threads";
import Database from "better-sqlite3";
import { isQservError, QservError } from "../common/errors.js";
import { RowInserter } from "../sqlite/rowInserter.js";
import { quoteIdent } from "../sqlite/types.js";
import { removeDataFile } from "./catalog.js";
import { createIndexSql, createTableSql, META_SQL, type TableRecord, tableNames } from "./layout.js";
import type { LoadPart } from "./messages.js";
import type { FromLoadThread, LoadCounts, LoadJob, ToLoadThread } from "./threadMessages.js";

const port = parentPort!;

function post(m: FromLoadThread): void {
  port.postMessage(m);
}

class Load {
  readonly db: Database.Database;
  private readonly parts = new Map<LoadPart, RowInserter>();

  constructor(readonly job: LoadJob) {
    this.db = new Database(job.file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec("BEGIN IMMEDIATE");
  }

  /** Creates what is missing; the counts of an earlier commit of the same load id, if any. */
  begin(): LoadCounts | null {
    const { db, job } = this;
    for (const sql of META_SQL) db.exec(sql);
    const seen = db.prepare("SELECT rows, overlap_rows FROM _mq_loads WHERE load_id = ?").get(job.loadId) as
      | { rows: number; overlap_rows: number }
      | undefined;
    if (seen !== undefined) return { rows: seen.rows, overlapRows: seen.overlap_rows };
    const held = db.prepare("SELECT columns FROM _mq_tables WHERE name = ?").get(job.table) as
      | { columns: string }
      | undefined;
    if (held !== undefined && held.columns !== JSON.stringify(job.columns)) {
      throw new QservError("CONFLICT", `table ${job.table} is held with other columns`);
    }
    const names = tableNames(job.table, job.chunkId);
    for (const t of [names.rows, names.overlap]) if (t !== null) db.exec(createTableSql(t, job.columns));
    return null;
  }

  data(part: LoadPart, data: Buffer): void {
    let w = this.parts.get(part);
    if (w === undefined) {
      const names = tableNames(this.job.table, this.job.chunkId);
      const table = part === "OVERLAP" ? names.overlap : names.rows;
      if (table === null) throw new QservError("BAD_ARGUMENT", `replicated table ${this.job.table} has no overlap`);
      const label = `${this.job.table} ${part === "OVERLAP" ? "overlap rows" : "rows"}`;
      w = new RowInserter(this.db, table, this.job.columns, this.job.dialect, label);
      this.parts.set(part, w);
    }
    w.feed(data, false);
  }

  commit(): { loaded: LoadCounts; totals: LoadCounts } {
    const { db, job } = this;
    for (const w of this.parts.values()) w.feed(Buffer.alloc(0), true);
    const loaded = { rows: this.parts.get("ROWS")?.rows ?? 0, overlapRows: this.parts.get("OVERLAP")?.rows ?? 0 };
    const names = tableNames(job.table, job.chunkId);
    for (const t of [names.rows, names.overlap]) {
      if (t !== null) for (const sql of createIndexSql(t, job.columns, job.directorKey)) db.exec(sql);
    }
    db.prepare(
      `INSERT INTO _mq_tables (name, columns, director_key, rows, overlap_rows) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET rows = rows + excluded.rows, overlap_rows = overlap_rows + excluded.overlap_rows`,
    ).run(job.table, JSON.stringify(job.columns), job.directorKey, loaded.rows, loaded.overlapRows);
    db.prepare("INSERT INTO _mq_loads VALUES (?, ?, ?, ?, datetime('now'))").run(
      job.loadId,
      job.table,
      loaded.rows,
      loaded.overlapRows,
    );
    const rec = db.prepare("SELECT * FROM _mq_tables WHERE name = ?").get(job.table) as TableRecord;
    db.exec("COMMIT");
    db.close();
    return { loaded, totals: { rows: rec.rows, overlapRows: rec.overlap_rows } };
  }

  /** Rolls back (whatever state the transaction is in) and removes a file this load created. */
  abort(): void {
    try {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
    } finally {
      this.db.close();
      if (this.job.created) removeDataFile(this.job.file);
    }
  }
}

const loads = new Map<number, Load>();

function failed(id: number, e: unknown): void {
  const load = loads.get(id);
  loads.delete(id);
  try {
    load?.abort();
  } catch {
    // the error below is what the caller needs to hear
  }
  const code = isQservError(e) ? e.code : "SQL_ERROR";
  post({ t: "failed", id, code, message: e instanceof Error ? e.message : String(e) });
}

/** Drops one table from a file; true when the file holds no table any more. */
function dropTable(file: string, table: string, chunkId: number): boolean {
  const db = new Database(file, { fileMustExist: true });
  try {
    const names = tableNames(table, chunkId);
    db.transaction(() => {
      for (const t of [names.rows, names.overlap]) if (t !== null) db.exec(`DROP TABLE IF EXISTS ${quoteIdent(t)}`);
      db.prepare("DELETE FROM _mq_tables WHERE name = ?").run(table);
      db.prepare("DELETE FROM _mq_loads WHERE table_name = ?").run(table);
    })();
    return (db.prepare("SELECT count(*) AS n FROM _mq_tables").get() as { n: number }).n === 0;
  } finally {
    db.close();
  }
}

port.on("message", (m: ToLoadThread) => {
  if (m.t === "dropTable") {
    try {
      post({ t: "dropped", id: m.id, empty: dropTable(m.file, m.table, m.chunkId) });
    } catch (e) {
      failed(m.id, e);
    }
    return;
  }
  if (m.t === "begin") {
    try {
      const load = new Load(m);
      loads.set(m.id, load);
      const duplicate = load.begin();
      if (duplicate !== null) {
        loads.delete(m.id);
        load.abort();
      }
      post({ t: "begun", id: m.id, duplicate });
    } catch (e) {
      failed(m.id, e);
    }
    return;
  }
  const load = loads.get(m.id);
  if (load === undefined) {
    // Already failed (and rolled back) or finished: an abort has nothing left to do.
    if (m.t === "abort") post({ t: "aborted", id: m.id });
    return;
  }
  try {
    if (m.t === "data") {
      load.data(m.part, Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
      post({ t: "ack", id: m.id });
    } else if (m.t === "commit") {
      loads.delete(m.id);
      const r = load.commit();
      post({ t: "committed", id: m.id, ...r });
    } else {
      loads.delete(m.id);
      load.abort();
      post({ t: "aborted", id: m.id });
    }
  } catch (e) {
    loads.set(m.id, load);
    failed(m.id, e);
  }
});
