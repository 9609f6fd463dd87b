import { readFileSync } from "node:fs";
import { type Dialect, type DialectOverrides, dialectFor } from "../partitioner/dialect.js";
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
  /** Optional metadata shown through TAP (TAP_SCHEMA, VOSI tables): unit, UCD, description. */
  readonly unit?: string;
  readonly ucd?: string;
  readonly description?: string;
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
  /** `unique_primary_key`: false when a director's keys may repeat (absent = true). */
  readonly uniquePrimaryKey?: boolean;
  /** Optional description shown through TAP. */
  readonly description?: string;
  /**
   * `director_table2` / `director_key2` of a match table (e.g. RefDeepSrcMatch): the second
   * director, which places rows whose first director key is NULL ("" or absent = none).
   */
  readonly directorTable2?: string;
  readonly directorKey2?: string;
  /** The text format of the input files, as MySQL LOAD DATA clauses (absent = the defaults). */
  readonly fieldsTerminatedBy?: string;
  readonly fieldsEnclosedBy?: string;
  readonly fieldsEscapedBy?: string;
  readonly linesTerminatedBy?: string;
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

/** An optional string, or undefined when absent. */
function optStr(path: string, o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new QservError("BAD_CONFIG", `${path}: "${key}" must be a string`);
  return v;
}

function flag(path: string, o: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (v === 1 || v === true || v === "1") return true;
  if (v === 0 || v === false || v === "0") return false;
  throw new QservError("BAD_CONFIG", `${path}: "${key}" must be 0 or 1`);
}

function num(path: string, o: Record<string, unknown>, key: string): number {
  const v = o[key];
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    throw new QservError("BAD_CONFIG", `${path}: "${key}" must be a number`);
  }
  return n;
}

/** Database and table names become file names: plain identifiers only (no `/`, `..`, quotes). */
function identifier(path: string, what: string, name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
    throw new QservError(
      "BAD_CONFIG",
      `${path}: ${what} ${JSON.stringify(name.slice(0, 80))} is not a valid identifier (letters, digits, _; at most 64)`,
    );
  }
}

export function parseDatabaseConfig(o: Record<string, unknown>, path = "database config"): DatabaseConfig {
  const cfg: DatabaseConfig = {
    database: str(path, o, "database"),
    numStripes: num(path, o, "num_stripes"),
    numSubStripes: num(path, o, "num_sub_stripes"),
    overlap: num(path, o, "overlap"),
  };
  identifier(path, "database name", cfg.database);
  // Bounds that keep the chunker's tables small: Qserv's own catalogs use at most a few hundred stripes.
  if (!Number.isInteger(cfg.numStripes) || cfg.numStripes < 1 || cfg.numStripes > 2000) {
    throw new QservError("BAD_CONFIG", `${path}: "num_stripes" must be an integer from 1 to 2000`);
  }
  if (!Number.isInteger(cfg.numSubStripes) || cfg.numSubStripes < 1 || cfg.numSubStripes > 100) {
    throw new QservError("BAD_CONFIG", `${path}: "num_sub_stripes" must be an integer from 1 to 100`);
  }
  if (!(cfg.overlap >= 0 && cfg.overlap <= 10)) {
    throw new QservError("BAD_CONFIG", `${path}: "overlap" must be from 0 to 10 degrees`);
  }
  return cfg;
}

/**
 * A table config from its JSON. A partitioned table's schema gets the `chunkId` and
 * `subChunkId` columns Qserv's ingest requires when it leaves them out, with a line in `notices`.
 */
export function parseTableConfig(
  o: Record<string, unknown>,
  path = "table config",
  notices: string[] = [],
): TableConfig {
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
    const extra: { unit?: string; ucd?: string; description?: string } = {};
    for (const k of ["unit", "ucd", "description"] as const) {
      const v = col[k];
      if (v === undefined) continue;
      if (typeof v !== "string")
        throw new QservError("BAD_CONFIG", `${path}: schema column ${i + 1}: "${k}" must be a string`);
      extra[k] = v;
    }
    return { name: col.name.trim(), type: col.type.trim(), ...extra };
  });
  if (isPartitioned) {
    const absent = [CHUNK_COLUMN, SUB_CHUNK_COLUMN].filter((n) => !schema.some((c) => c.name === n));
    for (const name of absent) schema.push({ name, type: "int(11) NOT NULL" });
    if (absent.length > 0) {
      notices.push(
        `${path}: the schema has no ${absent.join(" or ")} column: added as int(11) NOT NULL (Qserv's ingest requires them; the partitioner fills them)`,
      );
    }
  }
  const t: TableConfig = {
    database: str(path, o, "database"),
    table: str(path, o, "table"),
    isPartitioned,
    directorTable: str(path, o, "director_table", ""),
    directorKey: str(path, o, "director_key", ""),
    longitudeKey: str(path, o, "longitude_key", ""),
    latitudeKey: str(path, o, "latitude_key", ""),
    schema,
    uniquePrimaryKey: flag(path, o, "unique_primary_key", true),
    ...(typeof o.description === "string" ? { description: o.description } : {}),
    directorTable2: str(path, o, "director_table2", ""),
    directorKey2: str(path, o, "director_key2", ""),
    fieldsTerminatedBy: optStr(path, o, "fields_terminated_by"),
    fieldsEnclosedBy: optStr(path, o, "fields_enclosed_by"),
    fieldsEscapedBy: optStr(path, o, "fields_escaped_by"),
    linesTerminatedBy: optStr(path, o, "lines_terminated_by"),
  };
  identifier(path, "database name", t.database);
  identifier(path, "table name", t.table);
  if (t.directorTable !== "") identifier(path, "director_table", t.directorTable);
  if (t.directorTable2 !== "") identifier(path, "director_table2", t.directorTable2 ?? "");
  const names = new Set<string>();
  for (const c of schema) {
    if (c.name === "" || c.name.length > 64 || c.name.includes("\0")) {
      throw new QservError("BAD_CONFIG", `${path}: column name ${JSON.stringify(c.name.slice(0, 80))} is not valid`);
    }
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
    if (t.directorTable2 !== "" && (t.directorKey2 === "" || !has(t.directorKey2 ?? ""))) {
      throw new QservError("BAD_CONFIG", `${path}: director_key2 "${t.directorKey2}" is not a column of the schema`);
    }
    if (t.directorKey === "") throw new QservError("BAD_CONFIG", `${path}: a partitioned table needs a director_key`);
    if (isDirector(t) && (t.longitudeKey === "" || t.latitudeKey === "")) {
      throw new QservError("BAD_CONFIG", `${path}: a director table needs longitude_key and latitude_key`);
    }
  }
  return t;
}

/** A LOAD DATA character as Qserv configs write it: raw ("\t") or MySQL-escaped ("\\t", "\\\\"). */
function mysqlChar(s: string): string {
  if (s.length !== 2 || s[0] !== "\\") return s;
  const c = s[1] as string;
  return ({ t: "\t", n: "\n", r: "\r", "0": "\0" } as Record<string, string>)[c] ?? c;
}

/**
 * The dialect overrides a table config implies (fields_terminated_by, fields_enclosed_by,
 * fields_escaped_by), with `explicit` ones (e.g. command-line flags) taking precedence.
 */
export function tableDialectOverrides(t: TableConfig, explicit: DialectOverrides = {}): DialectOverrides {
  const lines = t.linesTerminatedBy === undefined ? "\n" : mysqlChar(t.linesTerminatedBy);
  if (lines !== "\n" && lines !== "\r\n" && lines !== "\\r\\n") {
    throw new QservError(
      "BAD_CONFIG",
      `${t.table}: lines_terminated_by ${JSON.stringify(t.linesTerminatedBy)} is not supported (only newline)`,
    );
  }
  const cfg = (v: string | undefined): string | undefined => (v === undefined ? undefined : mysqlChar(v));
  return {
    delimiter: explicit.delimiter ?? cfg(t.fieldsTerminatedBy),
    quote: explicit.quote ?? cfg(t.fieldsEnclosedBy),
    escape: explicit.escape ?? cfg(t.fieldsEscapedBy),
    nullToken: explicit.nullToken,
  };
}

/** The dialect of a table's input file: explicit overrides, then the config, then the file extension. */
export function tableDialect(t: TableConfig, file: string, explicit: DialectOverrides = {}): Dialect {
  return dialectFor(file, tableDialectOverrides(t, explicit));
}

export function loadDatabaseConfig(path: string): DatabaseConfig {
  return parseDatabaseConfig(readJson(path), path);
}

export function loadTableConfig(path: string, notices?: string[]): TableConfig {
  return parseTableConfig(readJson(path), path, notices);
}
