import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  type DatabaseConfig,
  loadDatabaseConfig,
  loadTableConfig,
  type TableConfig,
  tableDialect,
} from "../../src/common/ingestConfig.js";
import { tableKind } from "../../src/czar/metadata.js";
import { readRows } from "../../src/partitioner/inputFiles.js";
import { ITEST } from "./paths.js";

export interface CaseTable {
  config: TableConfig;
  /** The data file, null where the case does not ship it. */
  file: string | null;
}

export interface ItestCase {
  database: DatabaseConfig;
  /** Every table of the case's ingest configs: directors, then children, then replicated tables. */
  tables: CaseTable[];
}

const ORDER = { director: 0, child: 1, replicated: 2 } as const;

/** The ingest configs and data files of `../shared/qserv-itest/<name>`. */
export function itestCase(name: string): ItestCase {
  const data = join(ITEST, name, "data");
  const ingest = join(data, "ingest");
  const tables = readdirSync(ingest)
    .filter((f) => f.endsWith(".json") && f !== "database.json" && f !== "metadata.json")
    .sort()
    .map((f) => {
      const config = loadTableConfig(join(ingest, f));
      const file = [".tsv.gz", ".csv.gz", ".tsv", ".csv"]
        .map((ext) => join(data, `${config.table}${ext}`))
        .find((p) => existsSync(p));
      return { config, file: file ?? null };
    })
    .sort((a, b) => ORDER[tableKind(a.config)] - ORDER[tableKind(b.config)]);
  return { database: loadDatabaseConfig(join(ingest, "database.json")), tables };
}

/** Rows of a data file in its table's dialect (rows may hold escaped newlines: not its line count). */
export async function countRows(t: TableConfig, file: string): Promise<number> {
  let n = 0;
  await readRows(file, tableDialect(t, file), () => {
    n++;
  });
  return n;
}
