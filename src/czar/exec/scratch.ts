/** An in-memory SQLite database on the czar for merging and for small local answers. */
import Database from "better-sqlite3";
import type { Value } from "../../common/rowCodec.js";
import { insertStatement, rowsPerInsert } from "../../sqlite/multiRowInsert.js";
import { registerMysqlCompat } from "../../sqlite/mysqlCompat.js";
import { registerScisql } from "../../sqlite/scisql.js";
import { quoteIdent } from "../../sqlite/types.js";
import type { SizeGuard } from "./resultLimit.js";

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
