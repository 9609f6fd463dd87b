import path from "node:path";
import { QservError } from "../common/errors.js";
import { quoteIdent, sqliteType } from "../sqlite/types.js";
import type { ColumnDef } from "./messages.js";

/**
 * Where a worker keeps its data: DIR/<database>/chunk_<id>.sqlite holds every partitioned table
 * of one chunk (<T>_<id> and <T>FullOverlap_<id>), DIR/<database>/replicated.sqlite the
 * replicated tables. Each file describes itself in _mq_tables and remembers its loads in _mq_loads,
 * so a chunk file can be copied to another worker as it is. Staged loads wait in the same file
 * under `_mq_stage_<stage>_` names (listed in _mq_stages) until published.
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

const STAGE = /^[A-Za-z0-9_]{1,64}$/;

/** Stage names become part of table names: letters, digits, underscore only. */
export function checkStage(stage: string): string {
  if (!STAGE.test(stage))
    throw new QservError("BAD_ARGUMENT", `stage name ${JSON.stringify(stage)} must match ${STAGE.source}`);
  return stage;
}

/**
 * Names of a stage's tables in a file: the live names behind `_mq_stage_<stage>_`, a prefix no
 * query names (and no partitioned table's stand-in, which are the live names).
 */
export function stagedNames(table: string, chunkId: number, stage: string): { rows: string; overlap: string | null } {
  const live = tableNames(table, chunkId);
  const staged = (n: string) => `_mq_stage_${stage}_${n}`;
  return { rows: staged(live.rows), overlap: live.overlap === null ? null : staged(live.overlap) };
}

export function createTableSql(name: string, columns: readonly ColumnDef[], temp = false): string {
  const cols = columns.map((c) => `${quoteIdent(c.name)} ${sqliteType(c.mysqlType)}`).join(", ");
  return `CREATE ${temp ? "TEMP " : ""}TABLE IF NOT EXISTS ${quoteIdent(name)} (${cols})`;
}

/**
 * Indexes for key lookups and sub-chunk selection, named `<prefix>_<column>`; with position
 * columns, the sub-chunk index is (subChunkId, latitude, longitude): a near-neighbour join then
 * reads only a declination band of the sub-chunk per row and tests longitude on index entries.
 */
export function createIndexSql(
  name: string,
  columns: readonly ColumnDef[],
  directorKey: string,
  prefix = name,
  position: { latitudeKey: string; longitudeKey: string } = { latitudeKey: "", longitudeKey: "" },
): string[] {
  const out: string[] = [];
  const has = (c: string) => c !== "" && columns.some((x) => x.name === c);
  const index = (col: string, cols: string[]) =>
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${prefix}_${col}`)} ON ${quoteIdent(name)} (${cols.map(quoteIdent).join(", ")})`;
  if (has(directorKey)) out.push(index(directorKey, [directorKey]));
  const { latitudeKey: lat, longitudeKey: lon } = position;
  if (has("subChunkId"))
    out.push(index("subChunkId", has(lat) && has(lon) ? ["subChunkId", lat, lon] : ["subChunkId"]));
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
  // Loads committed to a stage; published = 1 once moved into the live tables (kept so that a
  // second publish of the stage is recognised), first_rowid / first_overlap_rowid then being the
  // first rowid its rows took in the live tables (0: the publish created the table), and seq the
  // publish's sequence number in its database (NULL: before snapshots; see snapshotBoundsSql).
  `CREATE TABLE IF NOT EXISTS _mq_stages (
     load_id TEXT PRIMARY KEY, table_name TEXT NOT NULL, stage TEXT NOT NULL, columns TEXT NOT NULL,
     director_key TEXT NOT NULL, rows INTEGER NOT NULL, overlap_rows INTEGER NOT NULL,
     published INTEGER NOT NULL DEFAULT 0, first_rowid INTEGER, first_overlap_rowid INTEGER, seq INTEGER)`,
];

/** Files written before snapshots lack _mq_stages.seq: added when the load thread opens them. */
export const STAGES_SEQ_SQL = "ALTER TABLE _mq_stages ADD COLUMN seq INTEGER";

/**
 * Per table of a file (in schema `schema`), the first rowids of the rows published after snapshot
 * `?`: a query of that snapshot sees only the rows below them (0: the table itself came later).
 */
export function snapshotBoundsSql(schema: string): string {
  return `SELECT table_name, min(first_rowid) AS rows_from, min(first_overlap_rowid) AS overlap_from, min(columns) AS columns
    FROM ${schema}._mq_stages WHERE published = 1 AND seq > ? GROUP BY table_name`;
}

/** A row of _mq_stages. */
export interface StageRecord {
  load_id: string;
  table_name: string;
  stage: string;
  columns: string;
  director_key: string;
  rows: number;
  overlap_rows: number;
  published: number;
  first_rowid: number | null;
  first_overlap_rowid: number | null;
  seq: number | null;
}

/** A row of _mq_tables. */
export interface TableRecord {
  name: string;
  columns: string;
  director_key: string;
  rows: number;
  overlap_rows: number;
}
