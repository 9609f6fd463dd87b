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

/** Appends rows to a table made by createScratchTable, in one transaction. */
export function insertRows(db: Database.Database, table: string, ncols: number, rows: readonly Value[][]): void {
  const marks = Array.from({ length: ncols }, () => "?").join(", ");
  const ins = db.prepare(`INSERT INTO ${quoteIdent(table)} VALUES (${marks})`);
  db.transaction(() => {
    for (const r of rows) ins.run(...r);
  })();
}

/** Every row of a SELECT, integers as bigint (exact), blobs as Buffers. */
export function selectRows(db: Database.Database, sql: string, params: unknown[] = []): Value[][] {
  return db
    .prepare(sql)
    .raw(true)
    .safeIntegers(true)
    .all(...params) as Value[][];
}
