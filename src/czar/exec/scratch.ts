/** An in-memory SQLite database on the czar for merging and for small local answers. */
import Database from "better-sqlite3";
import type { Value } from "../../common/rowCodec.js";
import { registerMysqlCompat } from "../../sqlite/mysqlCompat.js";
import { registerScisql } from "../../sqlite/scisql.js";
import { quoteIdent } from "../../sqlite/types.js";

export function scratchDb(): Database.Database {
  const db = new Database(":memory:");
  registerScisql(db);
  registerMysqlCompat(db);
  return db;
}

/** Creates `table` with untyped columns (values keep their storage class). */
export function createScratchTable(db: Database.Database, table: string, columns: readonly string[]): void {
  db.exec(`CREATE TABLE ${quoteIdent(table)} (${columns.map(quoteIdent).join(", ")})`);
}

/** Rows per multi-row INSERT: one statement step for many rows instead of one per row. */
const ROWS_PER_INSERT = 64;

/**
 * Appends rows to a table made by createScratchTable, each call's rows in one transaction; the
 * statements are prepared once per inserter (merges call it per chunk job).
 */
export function rowInserter(db: Database.Database, table: string, ncols: number): (rows: readonly Value[][]) => void {
  const tuple = `(${Array.from({ length: ncols }, () => "?").join(", ")})`;
  const insert = (n: number) =>
    db.prepare(`INSERT INTO ${quoteIdent(table)} VALUES ${Array.from({ length: n }, () => tuple).join(", ")}`);
  const one = insert(1);
  const many = ncols * ROWS_PER_INSERT <= 32766 ? insert(ROWS_PER_INSERT) : null;
  const params: Value[] = [];
  return db.transaction((rows: readonly Value[][]) => {
    let i = 0;
    if (many !== null) {
      for (; i + ROWS_PER_INSERT <= rows.length; i += ROWS_PER_INSERT) {
        params.length = 0;
        for (let j = i; j < i + ROWS_PER_INSERT; j++) for (const v of rows[j]!) params.push(v);
        many.run(params);
      }
    }
    for (; i < rows.length; i++) one.run(rows[i]!);
  });
}

/** Appends rows to a table made by createScratchTable, in one transaction. */
export function insertRows(db: Database.Database, table: string, ncols: number, rows: readonly Value[][]): void {
  rowInserter(db, table, ncols)(rows);
}

/** Every row of a SELECT, integers as bigint (exact), blobs as Buffers. */
export function selectRows(db: Database.Database, sql: string, params: unknown[] = []): Value[][] {
  return db
    .prepare(sql)
    .raw(true)
    .safeIntegers(true)
    .all(...params) as Value[][];
}
