/**
 * Which table a watched file goes to: rules read from a small JSON file, the first whose
 * `pattern` matches the file's name wins.
 *
 *   {"rules": [{"pattern": "Object_*.csv", "database": "database.json", "table": "Object.json",
 *               "header": true, "columnsFromHeader": false, "dialect": {"delimiter": ","}}]}
 *
 * `database` and `table` are Qserv ingest config files (paths relative to the rules file); the
 * input options are those of `mini-qserv ingest` (`dialect`: delimiter, quote, escape, nullToken;
 * `format`, `dropExtraColumns`, `nanAsNull` for Parquet/FITS).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { QservError } from "../common/errors.js";
import { parseDatabaseConfig, parseTableConfig } from "../common/ingestConfig.js";
import type { DialectOverrides } from "../partitioner/dialect.js";
import { FORMAT_NAMES } from "../partitioner/inputFormat.js";
import { globRegExp } from "./glob.js";

/** The input options of a rule, as `POST /ingest` takes them. */
export interface InputOptions {
  header?: boolean;
  columnsFromHeader?: boolean;
  dialect?: DialectOverrides;
  /** Parquet/FITS reading (as `mini-qserv ingest` takes them): the format when the name does not say it. */
  format?: string;
  dropExtraColumns?: boolean;
  nanAsNull?: boolean;
}

export interface WatchRule {
  pattern: string;
  /** The Qserv database.json and table config, as JSON objects (sent with each ingest). */
  database: Record<string, unknown>;
  table: Record<string, unknown>;
  /** "db.table" */
  target: string;
  options: InputOptions;
  match: RegExp;
}

const bad = (where: string, message: string) => new QservError("BAD_CONFIG", `${where}: ${message}`);

function readObject(path: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw bad(path, (e as Error).message);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad(path, "not a JSON object");
  return v as Record<string, unknown>;
}

const DIALECT_KEYS = new Set(["delimiter", "quote", "escape", "nullToken"]);

function inputOptions(where: string, o: Record<string, unknown>): InputOptions {
  const out: InputOptions = {};
  for (const k of ["header", "columnsFromHeader", "dropExtraColumns", "nanAsNull"] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== "boolean") throw bad(where, `"${k}" must be true or false`);
    out[k] = o[k];
  }
  if (o.format !== undefined) {
    if (typeof o.format !== "string" || !(o.format in FORMAT_NAMES)) {
      throw bad(where, `"format" must be one of ${Object.keys(FORMAT_NAMES).join(", ")}`);
    }
    out.format = o.format;
  }
  const d = o.dialect;
  if (d !== undefined) {
    if (typeof d !== "object" || d === null || Array.isArray(d)) throw bad(where, `"dialect" must be an object`);
    for (const [k, v] of Object.entries(d)) {
      if (!DIALECT_KEYS.has(k) || typeof v !== "string") {
        throw bad(where, `"dialect" takes delimiter, quote, escape, nullToken (strings); not ${JSON.stringify(k)}`);
      }
    }
    out.dialect = d as DialectOverrides;
  }
  return out;
}

/** A rule from config file paths, checked now (a bad config stops the watcher before it starts). */
export function makeRule(pattern: string, databasePath: string, tablePath: string, options: InputOptions): WatchRule {
  const database = readObject(databasePath);
  const table = readObject(tablePath);
  const db = parseDatabaseConfig(database, databasePath);
  const t = parseTableConfig(table, tablePath);
  if (t.database !== db.database) throw bad(tablePath, `table of ${t.database}, not of ${db.database}`);
  return { pattern, database, table, target: `${db.database}.${t.table}`, options, match: globRegExp(pattern) };
}

/** The rules of a rules file. */
export function readRules(path: string): WatchRule[] {
  const o = readObject(path);
  const rules = o.rules;
  if (!Array.isArray(rules) || rules.length === 0) throw bad(path, `"rules" must be a non-empty list`);
  const base = dirname(resolve(path));
  return rules.map((r, i) => {
    const where = `${path}: rules[${i}]`;
    if (typeof r !== "object" || r === null || Array.isArray(r)) throw bad(where, "not an object");
    const x = r as Record<string, unknown>;
    for (const k of ["pattern", "database", "table"]) {
      if (typeof x[k] !== "string" || x[k] === "") throw bad(where, `"${k}" must be a non-empty string`);
    }
    const known = new Set([
      "pattern",
      "database",
      "table",
      "header",
      "columnsFromHeader",
      "dialect",
      "format",
      "dropExtraColumns",
      "nanAsNull",
    ]);
    const unknown = Object.keys(x).filter((k) => !known.has(k));
    if (unknown.length > 0) throw bad(where, `unknown key(s) ${unknown.join(", ")}`);
    return makeRule(
      x.pattern as string,
      resolve(base, x.database as string),
      resolve(base, x.table as string),
      inputOptions(where, x),
    );
  });
}

/** The first rule whose pattern matches `name`, or null. */
export function ruleFor(rules: readonly WatchRule[], name: string): WatchRule | null {
  return rules.find((r) => r.match.test(name)) ?? null;
}
