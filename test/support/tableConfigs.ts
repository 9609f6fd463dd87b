import type { DatabaseConfig, TableConfig } from "../../src/common/ingestConfig.js";

/** A database of Qserv's default partitioning, for metadata tests. */
export const DB: DatabaseConfig = { database: "db1", numStripes: 85, numSubStripes: 12, overlap: 0.01667 };

/** A director table config of db1 (id, ra, decl, chunkId, subChunkId), with overrides. */
export function table(name: string, o: Partial<TableConfig> = {}): TableConfig {
  return {
    database: "db1",
    table: name,
    isPartitioned: true,
    directorTable: "",
    directorKey: "id",
    longitudeKey: "ra",
    latitudeKey: "decl",
    schema: [
      { name: "id", type: "BIGINT NOT NULL" },
      { name: "ra", type: "DOUBLE" },
      { name: "decl", type: "DOUBLE" },
      { name: "chunkId", type: "INT" },
      { name: "subChunkId", type: "INT" },
    ],
    ...o,
  };
}
