import fs from "node:fs";
import zlib from "node:zlib";
import Database from "better-sqlite3";
import type { TableConfig } from "../../src/common/ingestConfig.js";
import { inputColumns, tableDialect } from "../../src/common/ingestConfig.js";
import type { Dialect } from "../../src/partitioner/dialect.js";
import { registerMysqlCompat } from "../../src/sqlite/mysqlCompat.js";
import { RowInserter } from "../../src/sqlite/rowInserter.js";
import { registerScisql } from "../../src/sqlite/scisql.js";
import { quoteIdent, sqliteType } from "../../src/sqlite/types.js";
import type { CaseData } from "./itestData.js";
import { referenceLocate } from "./referenceChunker.js";

/** One in-memory SQLite database with the scisql functions: what distributed answers are checked against. */
export function referenceDb(): Database.Database {
  const db = new Database(":memory:");
  registerScisql(db);
  registerMysqlCompat(db);
  return db;
}

/**
 * Loads a catalog file (plain or .gz) into table `t.table` with every column of the config; for a
 * partitioned table with position columns chunkId/subChunkId come from the test's own chunker
 * transcription, at the row's position (a match table has none: they stay NULL).
 */
export function loadReference(
  db: Database.Database,
  file: string,
  t: TableConfig,
  dialect: Dialect,
  stripes: { numStripes: number; numSubStripes: number },
): number {
  const cols = t.schema.map((c) => `${quoteIdent(c.name)} ${sqliteType(c.type)}`).join(", ");
  db.exec(`CREATE TABLE ${quoteIdent(t.table)} (${cols})`);
  const raw = fs.readFileSync(file);
  const text = file.endsWith(".gz") ? zlib.gunzipSync(raw) : raw;
  const columns = inputColumns(t).map((c) => ({ name: c.name, mysqlType: c.type }));
  const ins = new RowInserter(db, t.table, columns, dialect, file);
  db.transaction(() => ins.feed(text, true))();
  if (t.isPartitioned && t.longitudeKey !== "" && t.latitudeKey !== "") {
    const where = (ra: number, dec: number) => referenceLocate(stripes.numStripes, stripes.numSubStripes, ra, dec);
    db.function("ref_chunk", (ra: number, dec: number) => where(ra, dec).chunkId);
    db.function("ref_sub_chunk", (ra: number, dec: number) => where(ra, dec).subChunkId);
    const lon = quoteIdent(t.longitudeKey);
    const lat = quoteIdent(t.latitudeKey);
    db.exec(
      `UPDATE ${quoteIdent(t.table)} SET chunkId = ref_chunk(${lon}, ${lat}), subChunkId = ref_sub_chunk(${lon}, ${lat})`,
    );
  }
  return ins.rows;
}

/** One case's reference: every table whose data file exists, loaded; the others listed as absent. */
export function loadReferenceCase(data: CaseData): {
  db: Database.Database;
  rows: Map<string, number>;
  absent: string[];
} {
  const db = referenceDb();
  const rows = new Map<string, number>();
  const absent: string[] = [];
  for (const t of data.tables) {
    if (t.file === null) absent.push(t.config.table);
    else rows.set(t.config.table, loadReference(db, t.file, t.config, tableDialect(t.config, t.file), data.database));
  }
  return { db, rows, absent };
}
