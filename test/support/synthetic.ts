/**
 * A synthetic director table for ingest tests: Obj(objectId, ra, decl, flux) as CSV, rows spread
 * over a 10° × 10° patch (about 30 chunks), positions from a seeded generator.
 */
import { writeFileSync } from "node:fs";
import {
  type DatabaseConfig,
  parseDatabaseConfig,
  parseTableConfig,
  type TableConfig,
} from "../../src/common/ingestConfig.js";

export const SYN_DATABASE_JSON = { database: "qsyn", num_stripes: 85, num_sub_stripes: 12, overlap: 0.01667 };

export const SYN_TABLE_JSON = {
  database: "qsyn",
  table: "Obj",
  is_partitioned: 1,
  director_key: "objectId",
  longitude_key: "ra",
  latitude_key: "decl",
  schema: [
    { name: "objectId", type: "BIGINT NOT NULL" },
    { name: "ra", type: "DOUBLE" },
    { name: "decl", type: "DOUBLE" },
    { name: "flux", type: "DOUBLE" },
    { name: "chunkId", type: "INT" },
    { name: "subChunkId", type: "INT" },
  ],
};

export const synDatabase = (): DatabaseConfig => parseDatabaseConfig(SYN_DATABASE_JSON);
export const synTable = (): TableConfig => parseTableConfig(SYN_TABLE_JSON);

/**
 * Writes `n` rows with objectIds from `firstId` in the patch (or its `span`° × `span`° corner);
 * `extra` lines are appended as they are.
 */
export function writeObjects(file: string, firstId: number, n: number, extra = "", span = 10): void {
  let seed = firstId * 2654435761 + 1;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const ra = (next() * span).toFixed(6);
    const decl = (next() * span - 5).toFixed(6);
    lines.push(`${firstId + i},${ra},${decl},${(next() * 1000).toFixed(3)}\n`);
  }
  writeFileSync(file, lines.join("") + extra);
}
