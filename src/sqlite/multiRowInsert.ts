/** Multi-row INSERTs: one statement step for many rows, within SQLite's bound-parameter limit. */
import type Database from "better-sqlite3";
import { quoteIdent } from "./types.js";

/** SQLite's default SQLITE_MAX_VARIABLE_NUMBER. */
const MAX_PARAMS = 32766;

/** Rows per multi-row INSERT of `ncols` columns: 64, fewer for wide rows. */
export function rowsPerInsert(ncols: number): number {
  return Math.max(1, Math.min(64, Math.floor(MAX_PARAMS / Math.max(1, ncols))));
}

/** `INSERT INTO table [(columns)] VALUES (?, ...), ...` for `rows` rows of `ncols` values. */
export function insertStatement(
  db: Database.Database,
  table: string,
  ncols: number,
  rows: number,
  columns: readonly string[] | null = null,
): Database.Statement {
  const tuple = `(${Array.from({ length: ncols }, () => "?").join(", ")})`;
  const names = columns === null ? "" : ` (${columns.map(quoteIdent).join(", ")})`;
  return db.prepare(`INSERT INTO ${quoteIdent(table)}${names} VALUES ${Array(rows).fill(tuple).join(", ")}`);
}
