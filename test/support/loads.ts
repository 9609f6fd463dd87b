import { dialectFor } from "../../src/partitioner/dialect.js";
import { loadHeader } from "../../src/worker/client.js";
import type { LoadHeader } from "../../src/worker/messages.js";

/** The header of a load of a small test table (id BIGINT, x DOUBLE) as CSV. */
export function idXHeader(loadId: string, database: string, table: string, chunkId: number): LoadHeader {
  return loadHeader(
    {
      loadId,
      database,
      table,
      columns: [
        { name: "id", mysqlType: "BIGINT" },
        { name: "x", mysqlType: "DOUBLE" },
      ],
      directorKey: "id",
      dialect: dialectFor("rows.csv"),
    },
    chunkId,
  );
}
