/** mini-qserv under test: a supervised cluster (`up()`), the catalog ingested through POST /ingest. */
import { readFileSync, rmSync } from "node:fs";
import { postJson, postUpload } from "../../src/cli/httpClient.js";
import { up } from "../../src/cluster/up.js";
import { QservError } from "../../src/common/errors.js";
import type { GeneratedCatalog } from "../generate.js";
import type { System } from "./system.js";

/** One point of the sweep: partitioning and cluster shape. */
export interface QservConfig {
  stripes: number;
  subStripes: number;
  workers: number;
}

/** "85/12/2" → stripes 85, sub-stripes 12, 2 workers. */
export function parseConfig(text: string): QservConfig {
  const [stripes, subStripes, workers] = text.split("/").map(Number);
  if (![stripes, subStripes, workers].every((n) => Number.isInteger(n) && (n as number) > 0)) {
    throw new QservError(
      "BAD_ARGUMENT",
      `bad config ${JSON.stringify(text)}: want stripes/subStripes/workers, e.g. 85/12/2`,
    );
  }
  return { stripes: stripes as number, subStripes: subStripes as number, workers: workers as number };
}

export const configLabel = (c: QservConfig) => `${c.stripes}/${c.subStripes} ×${c.workers}`;

export async function startQserv(
  cat: GeneratedCatalog,
  c: QservConfig,
  dir: string,
  say: (line: string) => void,
): Promise<System> {
  rmSync(dir, { recursive: true, force: true });
  const log: string[] = [];
  const cluster = await up({
    dataDir: dir,
    workers: c.workers,
    replicas: 1,
    httpPort: 0,
    restartDelayS: 0,
    czarArgs: ["--repair-interval", "0"],
    write: (s) => log.push(s),
  });
  try {
    const dbJson = JSON.parse(readFileSync(cat.databaseJson, "utf8")) as { database: string };
    const database = {
      ...dbJson,
      num_stripes: c.stripes,
      num_sub_stripes: c.subStripes,
    };
    const t0 = performance.now();
    const chunks: string[] = [];
    for (const [table, json, csv] of [
      ["Object", cat.objectJson, cat.objectCsv],
      ["Source", cat.sourceJson, cat.sourceCsv],
      ["Hsc", cat.hscJson ?? null, cat.hscCsv ?? null],
    ] as const) {
      if (json === null || csv === null) continue;
      say(`mini-qserv ${configLabel(c)}: ingesting ${table}`);
      const config = JSON.parse(readFileSync(json, "utf8")) as unknown;
      const r = await postUpload(`${cluster.url}/ingest`, { database, table: config }, [csv], () => {});
      chunks.push(`${table} in ${r.chunks} chunks`);
    }
    const ingestSeconds = (performance.now() - t0) / 1000;
    const query = async (sql: string) => {
      const r = await postJson(`${cluster.url}/query`, { query: sql, database: dbJson.database });
      return { rows: r.rows as unknown[][], chunks: (r.stats as { chunks: number }).chunks };
    };
    return {
      name: `mini-qserv ${configLabel(c)}`,
      dialect: "qserv",
      ingestSeconds,
      detail: chunks.join(", "),
      query,
      clients: async (n) => Array.from({ length: n }, () => query),
      close: async () => {
        await cluster.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await cluster.stop();
    const tail = log.slice(-20).join("");
    throw new QservError("UNAVAILABLE", `${(e as Error).message}${tail ? `\ncluster log:\n${tail}` : ""}`);
  }
}
