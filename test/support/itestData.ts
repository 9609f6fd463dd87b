/**
 * The tables of an itest case: ingest configs (case0N/data/ingest/<Table>.json + database.json),
 * their data files when present, and an order that loads directors first.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type DatabaseConfig,
  parseDatabaseConfig,
  parseTableConfig,
  type TableConfig,
  tableDialect,
} from "../../src/common/ingestConfig.js";
import { readRows } from "../../src/partitioner/inputFiles.js";
import { ITEST } from "./paths.js";

export interface CaseTable {
  config: TableConfig;
  /** The table JSON as parsed, as the czar's /ingest takes it. */
  json: Record<string, unknown>;
  /** The data file, or null when the dataset lacks it. */
  file: string | null;
  /** The tables this one follows (`director_table`, and `director_table2` of a match table). */
  directors: string[];
}

export interface CaseData {
  name: string;
  database: DatabaseConfig;
  databaseJson: Record<string, unknown>;
  /** Every table with an ingest config, in load order (directors before their children). */
  tables: CaseTable[];
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

/** Orders tables so that each comes after the tables it follows that are in the list. */
export function loadOrder<T extends { config: TableConfig; directors: string[] }>(tables: readonly T[]): T[] {
  const byName = new Map(tables.map((t) => [t.config.table, t]));
  const out: T[] = [];
  const seen = new Set<string>();
  const visit = (t: T, path: Set<string>): void => {
    if (seen.has(t.config.table) || path.has(t.config.table)) return;
    path.add(t.config.table);
    for (const d of t.directors) {
      const dt = byName.get(d);
      if (dt !== undefined) visit(dt, path);
    }
    seen.add(t.config.table);
    out.push(t);
  };
  for (const t of [...tables].sort((a, b) => a.config.table.localeCompare(b.config.table))) visit(t, new Set());
  return out;
}

/** Reads case `name`'s ingest configs and finds its data files. */
export function caseData(name: string): CaseData {
  const data = join(ITEST, name, "data");
  const ingest = join(data, "ingest");
  const databaseJson = readJson(join(ingest, "database.json"));
  const tables = readdirSync(ingest)
    .filter((f) => f.endsWith(".json") && f !== "database.json" && f !== "metadata.json")
    .map((f): CaseTable => {
      const path = join(ingest, f);
      const json = readJson(path);
      const config = parseTableConfig(json, path);
      const file =
        [".tsv.gz", ".csv.gz", ".tsv", ".csv"].map((ext) => join(data, config.table + ext)).find(existsSync) ?? null;
      const directors = [json.director_table, json.director_table2].filter(
        (d): d is string => typeof d === "string" && d.trim() !== "",
      );
      return { config, json, file, directors: directors.map((d) => d.trim()) };
    });
  return {
    name,
    database: parseDatabaseConfig(databaseJson, join(ingest, "database.json")),
    databaseJson,
    tables: loadOrder(tables),
  };
}

/** Rows of a data file in its table's dialect (rows may hold escaped newlines: not its line count). */
export async function countRows(t: TableConfig, file: string): Promise<number> {
  let n = 0;
  await readRows(file, tableDialect(t, file), () => {
    n++;
  });
  return n;
}
