/**
 * The czar's scratch SQLite databases: for merging, gathering and composing a query's rows (a
 * file under the spool directory, its disk counted in the spool budget, removed when the query
 * ends), and in memory for small local answers.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { QservError } from "../../common/errors.js";
import type { Value } from "../../common/rowCodec.js";
import { insertStatement, rowsPerInsert } from "../../sqlite/multiRowInsert.js";
import { registerMysqlCompat } from "../../sqlite/mysqlCompat.js";
import { registerScisql } from "../../sqlite/scisql.js";
import { quoteIdent } from "../../sqlite/types.js";
import { rowBytes, type SizeGuard } from "./resultLimit.js";
import type { SpoolBudget } from "./spool.js";

/** An in-memory database for small answers (SHOW filters, local SELECTs). */
export function scratchDb(): Database.Database {
  return withFunctions(new Database(":memory:"));
}

/** A database with the SQL functions the czar's merges use (MySQL's semantics, scisql). */
export function withFunctions(db: Database.Database): Database.Database {
  registerScisql(db);
  registerMysqlCompat(db);
  return db;
}

/** Pages of a scratch file kept in memory (the rest stays on disk): 8 MiB. */
const SCRATCH_CACHE_KIB = 8192;
let nextScratch = 0;

/**
 * A scratch database for one query's rows: a file `scratch-<pid>-<n>.sqlite` in the budget's
 * directory (so the czar's memory stays bounded however many rows are gathered), or in memory
 * without a budget. Rows stored are counted against the budget (TOO_LARGE past it); close()
 * removes the file and gives its disk back. Files a dead czar left are removed at its restart.
 */
export class Scratch {
  readonly db: Database.Database;
  private readonly file: string | null;
  private held = 0;
  /** Rows stored so far. */
  private rows = 0;

  constructor(private readonly budget?: SpoolBudget) {
    if (budget === undefined) {
      this.file = null;
      this.db = scratchDb();
      return;
    }
    mkdirSync(budget.dir, { recursive: true });
    this.file = join(budget.dir, `scratch-${process.pid}-${nextScratch++}.sqlite`);
    this.db = withFunctions(new Database(this.file));
    scratchPragmas(this.db);
    // A hard stop for the file itself, should the rows' estimate fall short of it.
    const pageSize = this.db.pragma("page_size", { simple: true }) as number;
    this.db.pragma(`max_page_count = ${Math.max(16, Math.floor(budget.maxBytes / pageSize))}`);
  }

  /** Counts rows about to be stored against the disk budget. */
  hold(rows: readonly Value[][]): void {
    this.rows += rows.length;
    if (this.budget === undefined) return;
    let n = 0;
    for (const r of rows) n += rowBytes(r);
    this.budget.reserve(n, "the rows gathered on the czar");
    this.held += n;
  }

  /**
   * The rows of a SELECT over the stored rows, counted against the result limit: with many rows
   * stored on disk, computed by a thread of its own (a sort or grouping of them takes SQLite a
   * while), else read here between turns of the event loop. The last use of the scratch.
   */
  read(sql: string, guard: SizeGuard): Promise<Value[][]> {
    if (this.file === null || this.rows < OFF_LOOP_ROWS) return readRows(this.db, sql, guard);
    // The thread opens the file: this connection (which holds it exclusively) is done with it.
    this.db.close();
    return readInThread(this.file, sql, guard);
  }

  close(): void {
    this.db.close();
    if (this.file !== null) rmSync(this.file, { force: true });
    this.budget?.release(this.held);
    this.held = 0;
  }
}

/** A full scratch database (its disk, or its share of the spool limit) as TOO_LARGE. */
export function scratchFull(e: unknown): unknown {
  if (e instanceof Error && !(e instanceof QservError) && "code" in e && e.code === "SQLITE_FULL") {
    return new QservError("TOO_LARGE", `the rows gathered on the czar do not fit its scratch disk: ${e.message}`);
  }
  return e;
}

/** SQLite's own errors (from a scratch database) as SQL_ERROR, a full scratch disk as TOO_LARGE. */
export function asSqlError(e: unknown): unknown {
  const full = scratchFull(e);
  if (full !== e) return full;
  if (e instanceof Error && !(e instanceof QservError) && "code" in e) {
    return new QservError("SQL_ERROR", `merge query failed: ${e.message}`);
  }
  return e;
}

/** Creates `table` with untyped columns (values keep their storage class). */
export function createScratchTable(db: Database.Database, table: string, columns: readonly string[]): void {
  db.exec(`CREATE TABLE ${quoteIdent(table)} (${columns.map(quoteIdent).join(", ")})`);
}

/**
 * Appends rows to a table made by createScratchTable, each call's rows in one transaction; the
 * statements are prepared once per inserter (merges call it per chunk job).
 */
export function rowInserter(db: Database.Database, table: string, ncols: number): (rows: readonly Value[][]) => void {
  const perInsert = rowsPerInsert(ncols);
  const many = insertStatement(db, table, ncols, perInsert);
  const one = insertStatement(db, table, ncols, 1);
  const params: Value[] = [];
  return db.transaction((rows: readonly Value[][]) => {
    let i = 0;
    for (; i + perInsert <= rows.length; i += perInsert) {
      params.length = 0;
      for (let j = i; j < i + perInsert; j++) for (const v of rows[j]!) params.push(v);
      many.run(params);
    }
    for (; i < rows.length; i++) one.run(rows[i]!);
  });
}

/** Appends rows to a table made by createScratchTable, in one transaction. */
export function insertRows(db: Database.Database, table: string, ncols: number, rows: readonly Value[][]): void {
  rowInserter(db, table, ncols)(rows);
}

/**
 * Every row of a SELECT, integers as bigint (exact), blobs as Buffers; with a guard, counted
 * against the result limit as they are read (TOO_LARGE before the rows past it are held).
 */
export function selectRows(db: Database.Database, sql: string, params: unknown[] = [], guard?: SizeGuard): Value[][] {
  const stmt = db.prepare(sql).raw(true).safeIntegers(true);
  if (guard === undefined) return stmt.all(...params) as Value[][];
  const out: Value[][] = [];
  for (const r of stmt.iterate(...params) as IterableIterator<Value[]>) {
    guard.addRow(r);
    out.push(r);
  }
  return out;
}

/** Rows read from a scratch database between turns of the event loop. */
const ROWS_PER_TURN = 5000;

/** Scratch files holding this many rows are read by a thread (fewer: inline, no thread started). */
export const OFF_LOOP_ROWS = 20_000;

/** The pragmas of a scratch file's connection (the czar's, or a reading thread's). */
export function scratchPragmas(db: Database.Database): void {
  db.pragma("journal_mode = OFF");
  db.pragma("synchronous = OFF");
  db.pragma("locking_mode = EXCLUSIVE");
  db.pragma(`cache_size = -${SCRATCH_CACHE_KIB}`);
}

export type FromReadThread =
  | { t: "rows"; rows: Value[][] }
  | { t: "done" }
  | { t: "error"; message: string; code?: string };

/** Runs `sql` over scratch file `file` in a thread (readThread.ts); its rows as they come, counted by `guard`. */
function readInThread(file: string, sql: string, guard: SizeGuard): Promise<Value[][]> {
  return new Promise((resolve, reject) => {
    const thread = new Worker(new URL("./readThread.js", import.meta.url), {
      workerData: { file, sql, batchRows: ROWS_PER_TURN },
    });
    const out: Value[][] = [];
    let settled = false;
    const end = (e: unknown) => {
      if (settled) return;
      settled = true;
      void thread.terminate();
      if (e === null) resolve(out);
      else reject(e);
    };
    thread.on("message", (m: FromReadThread) => {
      if (m.t === "done") return end(null);
      if (m.t === "error")
        return end(Object.assign(new Error(m.message), m.code === undefined ? {} : { code: m.code }));
      try {
        for (const r of m.rows) {
          // Blobs cross the thread as plain Uint8Arrays.
          for (let i = 0; i < r.length; i++) {
            const v = r[i];
            if (v instanceof Uint8Array && !Buffer.isBuffer(v))
              r[i] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
          }
          guard.addRow(r);
          out.push(r);
        }
      } catch (e) {
        end(e);
      }
    });
    thread.on("error", (e) => end(new QservError("INTERNAL", `merge thread failed: ${e.message}`)));
    thread.on("exit", () => end(new QservError("INTERNAL", "merge thread ended without its rows")));
  });
}

/** Inserts rows into a scratch table in slices, with turns of the event loop between them. */
export async function insertRowsInTurns(
  db: Database.Database,
  table: string,
  ncols: number,
  rows: readonly Value[][],
): Promise<void> {
  const insert = rowInserter(db, table, ncols);
  for (let i = 0; i < rows.length; i += ROWS_PER_TURN) {
    insert(rows.slice(i, i + ROWS_PER_TURN));
    if (i + ROWS_PER_TURN < rows.length) await yieldToLoop();
  }
}

/**
 * selectRows for a query's scratch database, counted against the result limit, giving the event
 * loop a turn every few thousand rows: other clients are answered while a large answer is read.
 */
export async function readRows(db: Database.Database, sql: string, guard: SizeGuard): Promise<Value[][]> {
  const stmt = db.prepare(sql).raw(true).safeIntegers(true);
  const out: Value[][] = [];
  let n = 0;
  for (const r of stmt.iterate() as IterableIterator<Value[]>) {
    guard.addRow(r);
    out.push(r);
    if (++n % ROWS_PER_TURN === 0) await yieldToLoop();
  }
  return out;
}
