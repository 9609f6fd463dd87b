import { readFileSync } from "node:fs";
import { QservError } from "./errors.js";

/** A database's partitioning, from Qserv's `database.json` ingest config. */
export interface DatabaseConfig {
  readonly database: string;
  readonly numStripes: number;
  readonly numSubStripes: number;
  readonly overlap: number;
}

export interface ColumnConfig {
  readonly name: string;
  /** The MySQL column type as written in the config, e.g. "bigint(20) NOT NULL". */
  readonly type: string;
}

/** A table, from Qserv's per-table ingest config. */
export interface TableConfig {
  readonly database: string;
  readonly table: string;
  readonly isPartitioned: boolean;
  /** For a child table, the director it follows; "" for a director or a replicated table. */
  readonly directorTable: string;
  readonly directorKey: string;
  readonly longitudeKey: string;
  readonly latitudeKey: string;
  /** Every column of the table, including chunkId/subChunkId of partitioned tables. */
  readonly schema: ReadonlyArray<ColumnConfig>;
}

export const CHUNK_COLUMN = "chunkId";
export const SUB_CHUNK_COLUMN = "subChunkId";

export function isDirector(t: TableConfig): boolean {
  return t.isPartitioned && t.directorTable === "";
}

/** The columns that input files carry: the schema without the partitioner's trailing chunk columns. */
export function inputColumns(t: TableConfig): ReadonlyArray<ColumnConfig> {
  if (!t.isPartitioned) return t.schema;
  return t.schema.filter((c) => c.name !== CHUNK_COLUMN && c.name !== SUB_CHUNK_COLUMN);
}

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new QservError("BAD_CONFIG", `${path}: cannot read: ${(e as Error).message}`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not a JSON object");
    return v as Record<string, unknown>;
  } catch (e) {
    throw new QservError("BAD_CONFIG", `${path}: invalid JSON: ${(e as Error).message}`);
  }
}

function str(path: string, o: Record<string, unknown>, key: string, fallback?: string): string {
  const v = o[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "string") throw new QservError("BAD_CONFIG", `${path}: "${key}" must be a string`);
  return v.trim();
}

function num(path: string, o: Record<string, unknown>, key: string): number {
  const v = o[key];
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    throw new QservError("BAD_CONFIG", `${path}: "${key}" must be a number`);
  }
  return n;
}

export function parseDatabaseConfig(o: Record<string, unknown>, path = "database config"): DatabaseConfig {
  const cfg: DatabaseConfig = {
    database: str(path, o, "database"),
    numStripes: num(path, o, "num_stripes"),
    numSubStripes: num(path, o, "num_sub_stripes"),
    overlap: num(path, o, "overlap"),
  };
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(cfg.database)) {
    throw new QservError("BAD_CONFIG", `${path}: database name "${cfg.database}" is not a valid identifier`);
  }
  return cfg;
}

export function parseTableConfig(o: Record<string, unknown>, path = "table config"): TableConfig {
  const partitioned = o.is_partitioned;
  const isPartitioned = partitioned === 1 || partitioned === true || partitioned === "1";
  const rawSchema = o.schema;
  if (!Array.isArray(rawSchema) || rawSchema.length === 0) {
    throw new QservError("BAD_CONFIG", `${path}: "schema" must be a non-empty list of columns`);
  }
  const schema = rawSchema.map((c, i) => {
    const col = c as Record<string, unknown>;
    if (typeof col?.name !== "string" || typeof col.type !== "string") {
      throw new QservError("BAD_CONFIG", `${path}: schema column ${i + 1} needs a string "name" and "type"`);
    }
    return { name: col.name.trim(), type: col.type.trim() };
  });
  const t: TableConfig = {
    database: str(path, o, "database"),
    table: str(path, o, "table"),
    isPartitioned,
    directorTable: str(path, o, "director_table", ""),
    directorKey: str(path, o, "director_key", ""),
    longitudeKey: str(path, o, "longitude_key", ""),
    latitudeKey: str(path, o, "latitude_key", ""),
    schema,
  };
  const names = new Set<string>();
  for (const c of schema) {
    const lower = c.name.toLowerCase();
    if (names.has(lower)) throw new QservError("BAD_CONFIG", `${path}: column "${c.name}" is listed twice`);
    names.add(lower);
  }
  if (isPartitioned) {
    const has = (n: string) => n === "" || schema.some((c) => c.name === n);
    for (const key of ["director_key", "longitude_key", "latitude_key"] as const) {
      const v = key === "director_key" ? t.directorKey : key === "longitude_key" ? t.longitudeKey : t.latitudeKey;
      if (!has(v)) throw new QservError("BAD_CONFIG", `${path}: ${key} "${v}" is not a column of the schema`);
    }
    if (t.directorKey === "") throw new QservError("BAD_CONFIG", `${path}: a partitioned table needs a director_key`);
    if (isDirector(t) && (t.longitudeKey === "" || t.latitudeKey === "")) {
      throw new QservError("BAD_CONFIG", `${path}: a director table needs longitude_key and latitude_key`);
    }
  }
  return t;
}

export function loadDatabaseConfig(path: string): DatabaseConfig {
  return parseDatabaseConfig(readJson(path), path);
}

export function loadTableConfig(path: string): TableConfig {
  return parseTableConfig(readJson(path), path);
}
