/**
 * The load thread: parses delimited text (or decodes binary row batches) and inserts it, one SQLite transaction per load, so
 * inserts never block the main thread. Loads into different files interleave message by message;
 * the main thread lets only one load at a time touch a file. Nothing is committed before the
 * "commit" message; any failure or "abort" rolls back and removes a file the load created.
 * A staged load commits into its stage's tables; "publish" moves a stage into the live tables.
 */
import { parentPort } from "node:worker_threads";
import Database from "better-sqlite3";
import { isQservError, QservError } from "../common/errors.js";
import { RecordInserter } from "../sqlite/recordInserter.js";
import { RowInserter } from "../sqlite/rowInserter.js";
import { quoteIdent } from "../sqlite/types.js";
import { removeDataFile } from "./catalog.js";
import {
  createIndexSql,
  createTableSql,
  META_SQL,
  STAGES_SEQ_SQL,
  type StageRecord,
  stagedNames,
  type TableRecord,
  tableNames,
} from "./layout.js";
import type { ColumnDef, LoadPart } from "./messages.js";
import type { FromLoadThread, LoadCounts, LoadJob, StageRef, ToLoadThread } from "./threadMessages.js";

const port = parentPort!;

function post(m: FromLoadThread): void {
  port.postMessage(m);
}

class Load {
  readonly db: Database.Database;
  private readonly parts = new Map<LoadPart, RowInserter | RecordInserter>();

  constructor(readonly job: LoadJob) {
    this.db = new Database(job.file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec("BEGIN IMMEDIATE");
  }

  /** The tables this load writes: the live ones, or its stage's. */
  private names(): { rows: string; overlap: string | null } {
    const { job } = this;
    return job.stage === "" ? tableNames(job.table, job.chunkId) : stagedNames(job.table, job.chunkId, job.stage);
  }

  /**
   * Creates what is missing; the counts of an earlier commit of the same load id (live, staged or
   * published), if any.
   */
  begin(): LoadCounts | null {
    const { db, job } = this;
    for (const sql of META_SQL) db.exec(sql);
    const seen = db
      .prepare(
        `SELECT rows, overlap_rows FROM _mq_loads WHERE load_id = @id
         UNION ALL SELECT rows, overlap_rows FROM _mq_stages WHERE load_id = @id`,
      )
      .get({ id: job.loadId }) as { rows: number; overlap_rows: number } | undefined;
    if (seen !== undefined) return { rows: seen.rows, overlapRows: seen.overlap_rows };
    const held = db.prepare("SELECT columns FROM _mq_tables WHERE name = ?").get(job.table) as
      | { columns: string }
      | undefined;
    if (held !== undefined && held.columns !== JSON.stringify(job.columns)) {
      throw new QservError("CONFLICT", `table ${job.table} is held with other columns`);
    }
    const names = this.names();
    for (const t of [names.rows, names.overlap]) if (t !== null) db.exec(createTableSql(t, job.columns));
    return null;
  }

  data(part: LoadPart, data: Buffer): void {
    let w = this.parts.get(part);
    if (w === undefined) {
      const names = this.names();
      const table = part === "OVERLAP" ? names.overlap : names.rows;
      if (table === null) throw new QservError("BAD_ARGUMENT", `replicated table ${this.job.table} has no overlap`);
      const label = `${this.job.table} ${part === "OVERLAP" ? "overlap rows" : "rows"}`;
      w = this.job.batch
        ? new RecordInserter(this.db, table, this.job.columns, label)
        : new RowInserter(this.db, table, this.job.columns, this.job.dialect, label);
      this.parts.set(part, w);
    }
    w.feed(data, false);
  }

  commit(): { loaded: LoadCounts; totals: LoadCounts } {
    const { db, job } = this;
    for (const w of this.parts.values()) w.feed(Buffer.alloc(0), true);
    const loaded = { rows: this.parts.get("ROWS")?.rows ?? 0, overlapRows: this.parts.get("OVERLAP")?.rows ?? 0 };
    if (job.stage !== "") return this.commitStage(loaded);
    const names = tableNames(job.table, job.chunkId);
    for (const t of [names.rows, names.overlap]) {
      if (t !== null) for (const sql of createIndexSql(t, job.columns, job.directorKey, t, job)) db.exec(sql);
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

  /**
   * Commits into the stage. When the live table does not exist yet, the stage's indexes get the
   * names the live ones will have, so that publishing renames the table and is done.
   */
  private commitStage(loaded: LoadCounts): { loaded: LoadCounts; totals: LoadCounts } {
    const { db, job } = this;
    const live = tableNames(job.table, job.chunkId);
    const staged = this.names();
    for (const [s, l] of [
      [staged.rows, live.rows],
      [staged.overlap, live.overlap],
    ] as const) {
      if (s === null || l === null) continue;
      const prefix = tableExists(db, l) ? s : l;
      for (const sql of createIndexSql(s, job.columns, job.directorKey, prefix, job)) db.exec(sql);
    }
    db.prepare(
      `INSERT INTO _mq_stages (load_id, table_name, stage, columns, director_key, rows, overlap_rows)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      job.loadId,
      job.table,
      job.stage,
      JSON.stringify(job.columns),
      job.directorKey,
      loaded.rows,
      loaded.overlapRows,
    );
    const totals = db
      .prepare(
        `SELECT coalesce(sum(rows), 0) AS rows, coalesce(sum(overlap_rows), 0) AS overlapRows FROM _mq_stages
         WHERE table_name = ? AND stage = ? AND published = 0`,
      )
      .get(job.table, job.stage) as LoadCounts;
    db.exec("COMMIT");
    db.close();
    return { loaded, totals };
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
  const message = e instanceof Error ? e.message : String(e);
  if (diskFull(e))
    post({ t: "failed", id, code: "IO", message: `no space left on the worker's disk (ENOSPC): ${message}` });
  else post({ t: "failed", id, code: isQservError(e) ? e.code : "SQL_ERROR", message });
}

/** Whether `e` says the disk is full (SQLite says "database or disk is full"). */
function diskFull(e: unknown): boolean {
  return e instanceof Error && "code" in e && (e.code === "SQLITE_FULL" || e.code === "ENOSPC");
}

function tableExists(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** A file holds nothing once it has neither live tables nor pending stages. */
function isEmpty(db: Database.Database): boolean {
  const n = db
    .prepare("SELECT (SELECT count(*) FROM _mq_tables) + (SELECT count(*) FROM _mq_stages WHERE published = 0)")
    .pluck()
    .get() as number;
  return n === 0;
}

function openFile(file: string): Database.Database {
  const db = new Database(file, { fileMustExist: true });
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  for (const sql of META_SQL) db.exec(sql);
  const cols = db.prepare("SELECT name FROM pragma_table_info('_mq_stages')").pluck().all() as string[];
  if (!cols.includes("seq")) db.exec(STAGES_SEQ_SQL);
  return db;
}

/** Drops one table (live, and its published-stage records) from a file; true when the file holds nothing any more. */
function dropTable(file: string, table: string, chunkId: number): boolean {
  const db = openFile(file);
  try {
    const names = tableNames(table, chunkId);
    db.transaction(() => {
      for (const t of [names.rows, names.overlap]) if (t !== null) db.exec(`DROP TABLE IF EXISTS ${quoteIdent(t)}`);
      db.prepare("DELETE FROM _mq_tables WHERE name = ?").run(table);
      db.prepare("DELETE FROM _mq_loads WHERE table_name = ?").run(table);
      db.prepare("DELETE FROM _mq_stages WHERE table_name = ? AND published = 1").run(table);
    })();
    return isEmpty(db);
  } finally {
    db.close();
  }
}

/** Drops a table's pending stage (every one for "*"); true when the file holds nothing any more. */
function dropStage(r: StageRef): boolean {
  const db = openFile(r.file);
  try {
    db.transaction(() => {
      const stages = db
        .prepare(
          "SELECT DISTINCT stage FROM _mq_stages WHERE table_name = @table AND published = 0 AND @stage IN ('*', stage)",
        )
        .pluck()
        .all({ table: r.table, stage: r.stage }) as string[];
      for (const s of stages) {
        const names = stagedNames(r.table, r.chunkId, s);
        for (const t of [names.rows, names.overlap]) if (t !== null) db.exec(`DROP TABLE IF EXISTS ${quoteIdent(t)}`);
      }
      db.prepare("DELETE FROM _mq_stages WHERE table_name = @table AND published = 0 AND @stage IN ('*', stage)").run({
        table: r.table,
        stage: r.stage,
      });
    })();
    return isEmpty(db);
  } finally {
    db.close();
  }
}

/**
 * Moves a stage into the live tables in one transaction: renames a stage table whose live table
 * does not exist yet (its indexes were named for it), else copies its rows over and drops it.
 */
function publish(r: StageRef): Extract<FromLoadThread, { t: "published" }> {
  const db = openFile(r.file);
  try {
    return db.transaction(() => {
      const loads = db
        .prepare("SELECT * FROM _mq_stages WHERE table_name = ? AND stage = ?")
        .all(r.table, r.stage) as StageRecord[];
      const first = loads[0];
      if (first === undefined) {
        throw new QservError("NOT_FOUND", `chunk ${r.chunkId} holds no stage ${r.stage} of table ${r.table}`);
      }
      const columns = JSON.parse(first.columns) as ColumnDef[];
      const pending = loads.filter((l) => l.published === 0);
      if (pending.length > 0) {
        const live = tableNames(r.table, r.chunkId);
        const staged = stagedNames(r.table, r.chunkId, r.stage);
        const firstRowids: Array<number | null> = [];
        for (const [s, l] of [
          [staged.rows, live.rows],
          [staged.overlap, live.overlap],
        ] as const) {
          if (s === null || l === null) {
            firstRowids.push(null);
            continue;
          }
          if (!tableExists(db, l)) {
            db.exec(`ALTER TABLE ${quoteIdent(s)} RENAME TO ${quoteIdent(l)}`);
            firstRowids.push(0);
          } else {
            firstRowids.push(
              db
                .prepare(`SELECT coalesce(max(rowid), 0) + 1 FROM ${quoteIdent(l)}`)
                .pluck()
                .get() as number,
            );
            db.exec(`INSERT INTO ${quoteIdent(l)} SELECT * FROM ${quoteIdent(s)}`);
            db.exec(`DROP TABLE ${quoteIdent(s)}`);
          }
          for (const sql of createIndexSql(l, columns, first.director_key)) db.exec(sql);
        }
        const add = db.prepare(
          `INSERT INTO _mq_tables (name, columns, director_key, rows, overlap_rows) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET rows = rows + excluded.rows, overlap_rows = overlap_rows + excluded.overlap_rows`,
        );
        const record = db.prepare("INSERT OR IGNORE INTO _mq_loads VALUES (?, ?, ?, ?, datetime('now'))");
        for (const l of pending) {
          add.run(r.table, first.columns, first.director_key, l.rows, l.overlap_rows);
          record.run(l.load_id, r.table, l.rows, l.overlap_rows);
        }
        db.prepare(
          `UPDATE _mq_stages SET published = 1, first_rowid = ?, first_overlap_rowid = ?, seq = ?
           WHERE table_name = ? AND stage = ?`,
        ).run(firstRowids[0], firstRowids[1], r.seq || null, r.table, r.stage);
      }
      const rec = db.prepare("SELECT * FROM _mq_tables WHERE name = ?").get(r.table) as TableRecord | undefined;
      return {
        t: "published" as const,
        id: r.id,
        applied: pending.length > 0,
        columns,
        directorKey: first.director_key,
        totals: { rows: rec?.rows ?? 0, overlapRows: rec?.overlap_rows ?? 0 },
      };
    })();
  } finally {
    db.close();
  }
}

/**
 * Undoes a stage's publish, whichever load of the table came after it: deletes exactly the rows
 * it added, by the rowid range the publish recorded (rows copied in one statement take
 * consecutive rowids; a renamed stage table holds rowids 1..n; VACUUM INTO, the chunk copy, keeps
 * rowids); its loads are forgotten. A table left without loads is dropped.
 */
function unpublish(r: StageRef): Extract<FromLoadThread, { t: "unpublished" }> {
  const db = openFile(r.file);
  try {
    return db.transaction(() => {
      const loads = db
        .prepare("SELECT * FROM _mq_stages WHERE table_name = ? AND stage = ? AND published = 1")
        .all(r.table, r.stage) as StageRecord[];
      const first = loads[0];
      const live = tableNames(r.table, r.chunkId);
      if (first !== undefined) {
        const rows = loads.reduce((n, l) => n + l.rows, 0);
        const overlapRows = loads.reduce((n, l) => n + l.overlap_rows, 0);
        for (const [l, from, n] of [
          [live.rows, first.first_rowid, rows],
          [live.overlap, first.first_overlap_rowid, overlapRows],
        ] as const) {
          if (l === null || from === null || !tableExists(db, l)) continue;
          const lo = Math.max(from, 1);
          const gone = db.prepare(`DELETE FROM ${quoteIdent(l)} WHERE rowid >= ? AND rowid < ?`).run(lo, lo + n);
          if (gone.changes !== n) {
            // Rolled back: the file keeps the load rather than lose rows of another.
            throw new QservError("INTERNAL", `${l}: the rows of stage ${r.stage} are not where its publish put them`);
          }
        }
        db.prepare("UPDATE _mq_tables SET rows = rows - ?, overlap_rows = overlap_rows - ? WHERE name = ?").run(
          rows,
          overlapRows,
          r.table,
        );
        const forget = db.prepare("DELETE FROM _mq_loads WHERE load_id = ?");
        for (const l of loads) forget.run(l.load_id);
        db.prepare("DELETE FROM _mq_stages WHERE table_name = ? AND stage = ? AND published = 1").run(r.table, r.stage);
        const left = db.prepare("SELECT count(*) FROM _mq_loads WHERE table_name = ?").pluck().get(r.table) as number;
        if (left === 0) {
          for (const t of [live.rows, live.overlap]) if (t !== null) db.exec(`DROP TABLE IF EXISTS ${quoteIdent(t)}`);
          db.prepare("DELETE FROM _mq_tables WHERE name = ?").run(r.table);
        }
      }
      const rec = db.prepare("SELECT * FROM _mq_tables WHERE name = ?").get(r.table) as TableRecord | undefined;
      return {
        t: "unpublished" as const,
        id: r.id,
        applied: first !== undefined,
        totals: rec === undefined ? null : { rows: rec.rows, overlapRows: rec.overlap_rows },
        empty: isEmpty(db),
      };
    })();
  } finally {
    db.close();
  }
}

port.on("message", (m: ToLoadThread) => {
  if (m.t === "dropTable" || m.t === "dropStage" || m.t === "publish" || m.t === "unpublish") {
    try {
      if (m.t === "publish") post(publish(m));
      else if (m.t === "unpublish") post(unpublish(m));
      else
        post({
          t: "dropped",
          id: m.id,
          empty: m.t === "dropStage" ? dropStage(m) : dropTable(m.file, m.table, m.chunkId),
        });
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
