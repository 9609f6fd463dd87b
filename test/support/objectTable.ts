import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type Database from "better-sqlite3";
import type { GeneratedCatalog } from "../../bench/generate.js";
import { loadDatabaseConfig, loadTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { loadReference, referenceDb } from "./referenceDb.js";

/**
 * Ingests a generated catalog's Object table by path (the czar has an --ingest-root above it) and
 * returns one SQLite database holding the same rows, to check answers against.
 */
export async function ingestObjects(czarUrl: string, cat: GeneratedCatalog): Promise<Database.Database> {
  const r = await fetch(`${czarUrl}/ingest`, {
    method: "POST",
    body: JSON.stringify({
      database: JSON.parse(readFileSync(cat.databaseJson, "utf8")),
      table: JSON.parse(readFileSync(cat.objectJson, "utf8")),
      files: [cat.objectCsv],
    }),
  });
  assert.equal(r.status, 200, await r.text());
  const ref = referenceDb();
  const cfg = loadTableConfig(cat.objectJson);
  loadReference(ref, cat.objectCsv, cfg, tableDialect(cfg, cat.objectCsv), loadDatabaseConfig(cat.databaseJson));
  return ref;
}
