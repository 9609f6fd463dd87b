import path from "node:path";
import { QservError } from "../common/errors.js";
import { quoteIdent, sqliteType } from "../sqlite/types.js";
import type { ColumnDef } from "./messages.js";

/**
 * Where a worker keeps its data: DIR/<database>/chunk_<id>.sqlite holds every partitioned table
 * of one chunk (<T>_<id> and <T>FullOverlap_<id>), DIR/<database>/replicated.sqlite the
 * replicated tables. Each file describes itself in _mq_tables and remembers its loads in _mq_loads,
 * so a chunk file can be copied to another worker as it is.
 */

/** chunk_id of a request that addresses the replicated tables. */
export const NO_CHUNK = -1;
export const REPLICATED_FILE = "replicated.sqlite";
const CHUNK_FILE = /^chunk_(\d+)\.sqlite$/;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Database and table names become file and table names: letters, digits, underscore only. */
export function checkName(what: string, name: string): string {
  if (!NAME.test(name)) {
    throw new QservError("BAD_ARGUMENT", `${what} name ${JSON.stringify(name)} must match ${NAME.source}`);
  }
  return name;
}

export function databaseDir(dataDir: string, database: string): string {
  return path.join(dataDir, checkName("database", database));
}

export function chunkFileName(chunkId: number): string {
  return `chunk_${chunkId}.sqlite`;
}

/** The chunk id of a chunk file name, or null for any other file. */
export function chunkIdOfFile(name: string): number | null {
  const m = CHUNK_FILE.exec(name);
  return m === null ? null : Number(m[1]);
}

/** The SQLite file holding `chunkId` (or the replicated tables for NO_CHUNK). */
export function dataFile(dataDir: string, database: string, chunkId: number): string {
  return path.join(databaseDir(dataDir, database), chunkId === NO_CHUNK ? REPLICATED_FILE : chunkFileName(chunkId));
}

/** Names of a table's SQLite tables in a file: rows, and overlap rows (null when replicated). */
export function tableNames(table: string, chunkId: number): { rows: string; overlap: string | null } {
  if (chunkId === NO_CHUNK) return { rows: table, overlap: null };
  return { rows: `${table}_${chunkId}`, overlap: `${table}FullOverlap_${chunkId}` };
}

export function createTableSql(name: string, columns: readonly ColumnDef[], temp = false): string {
  const cols = columns.map((c) => `${quoteIdent(c.name)} ${sqliteType(c.mysqlType)}`).join(", ");
  return `CREATE ${temp ? "TEMP " : ""}TABLE IF NOT EXISTS ${quoteIdent(name)} (${cols})`;
}

/** Indexes for key lookups and sub-chunk selection. */
export function createIndexSql(name: string, columns: readonly ColumnDef[], directorKey: string): string[] {
  const out: string[] = [];
  const has = (c: string) => columns.some((x) => x.name === c);
  for (const col of [directorKey, "subChunkId"]) {
    if (col !== "" && has(col)) {
      out.push(
        `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${name}_${col}`)} ON ${quoteIdent(name)} (${quoteIdent(col)})`,
      );
    }
  }
  return out;
}

/** The bookkeeping tables of every data file. */
export const META_SQL = [
  `CREATE TABLE IF NOT EXISTS _mq_tables (
     name TEXT PRIMARY KEY, columns TEXT NOT NULL, director_key TEXT NOT NULL,
     rows INTEGER NOT NULL, overlap_rows INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS _mq_loads (
     load_id TEXT PRIMARY KEY, table_name TEXT NOT NULL, rows INTEGER NOT NULL,
     overlap_rows INTEGER NOT NULL, committed_at TEXT NOT NULL)`,
];

/** A row of _mq_tables. */
export interface TableRecord {
  name: string;
  columns: string;
  director_key: string;
  rows: number;
  overlap_rows: number;
}
