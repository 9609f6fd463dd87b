import { join } from "node:path";
import type Database from "better-sqlite3";
import { loadDatabaseConfig, loadTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { toJsonValue } from "../../src/common/jsonValue.js";
import type { Value } from "../../src/common/rowCodec.js";
import { loadReference, referenceDb } from "./referenceDb.js";
import { rowSet } from "./rows.js";

/** The demo catalog's files (written by loadDemo into `catalogDir`) in one SQLite database. */
export function demoReference(catalogDir: string): Database.Database {
  const db = referenceDb();
  const dbCfg = loadDatabaseConfig(join(catalogDir, "database.json"));
  for (const t of ["Object", "Source"]) {
    const cfg = loadTableConfig(join(catalogDir, `${t}.json`));
    const file = join(catalogDir, `${t}.csv`);
    loadReference(db, file, cfg, tableDialect(cfg, file), dbCfg);
  }
  return db;
}

/** The reference's answer to `sql`, as comparable rows (reals to 9 digits). */
export function expectedRows(ref: Database.Database, sql: string): string[] {
  const rows = ref.prepare(sql).raw(true).safeIntegers(true).all() as Value[][];
  return rowSet(
    rows.map((r) => r.map(toJsonValue)),
    false,
    9,
  );
}

/** An areaspec query restated for the reference: the same region as a scisql test on `prefix`ra/decl. */
export function referenceSql(sql: string, prefix = ""): string {
  return sql
    .replace(/qserv_areaspec_circle\(([^)]*)\)/, (_, a) => `scisql_s2PtInCircle(${prefix}ra, ${prefix}decl, ${a}) = 1`)
    .replace(/qserv_areaspec_box\(([^)]*)\)/, (_, a) => `scisql_s2PtInBox(${prefix}ra, ${prefix}decl, ${a}) = 1`);
}
