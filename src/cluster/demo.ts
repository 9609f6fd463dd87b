/** The demo catalog: generated once (deterministic), ingested through a czar once. */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type GeneratedCatalog, generateCatalog } from "../../bench/generate.js";
import { postJson, postUpload } from "../cli/httpClient.js";

export const DEMO_DATABASE = "demo";

export interface DemoOptions {
  czarUrl: string;
  /** Where the catalog files go (the czar reads them by path). */
  dataDir: string;
  objects?: number;
  /** One line per step. */
  say?: (line: string) => void;
}

export interface DemoResult {
  /** Tables ingested by this call (empty when the demo was loaded already). */
  loaded: Array<{ table: string; rows: number; chunks: number; seconds: number }>;
  catalog: GeneratedCatalog;
}

/** Few stripes: a small catalog in a few hundred chunks rather than thousands of tiny ones. */
const DEMO_LAYOUT = { numStripes: 18, numSubStripes: 6, overlap: 0.01667 };
const MARKER = "catalog.json";

/**
 * The demo layout's catalog of `objects` objects under `dir`, generated unless a complete one is
 * there already (also the benchmarks' data, under their own database name).
 */
export async function cachedCatalog(
  dir: string,
  objects: number,
  say: (line: string) => void,
  database = DEMO_DATABASE,
  hscFraction = 0,
): Promise<GeneratedCatalog> {
  const marker = join(dir, MARKER);
  if (existsSync(marker)) {
    const cat = JSON.parse(readFileSync(marker, "utf8")) as GeneratedCatalog & { requested: number; database?: string };
    const hsc = (cat.hscCsv ?? null) !== null;
    if (cat.requested === objects && (cat.database ?? DEMO_DATABASE) === database && hsc === hscFraction > 0)
      return cat;
  }
  // The files are overwritten in place (the dir may be a mount point, so it is not removed).
  rmSync(marker, { force: true });
  say(`generating the ${database} catalog (${objects} objects) in ${dir}`);
  const cat = await generateCatalog({
    outDir: resolve(dir),
    objects,
    sourcesPerObject: 4,
    database,
    hscFraction,
    ...DEMO_LAYOUT,
  });
  writeFileSync(`${marker}.tmp`, JSON.stringify({ ...cat, requested: objects, database }, null, 2));
  renameSync(`${marker}.tmp`, marker);
  return cat;
}

/**
 * Loads the demo database (Object, then Source) through the czar's HTTP API, skipping the tables
 * it holds already, so calling it again on a loaded cluster does nothing.
 */
export async function loadDemo(o: DemoOptions): Promise<DemoResult> {
  const say = o.say ?? (() => {});
  const query = (sql: string, database?: string) =>
    postJson(`${o.czarUrl}/query`, { query: sql, ...(database === undefined ? {} : { database }) });
  const dbs = ((await query("SHOW DATABASES")).rows as unknown[][]).map((r) => r[0]);
  const held = dbs.includes(DEMO_DATABASE)
    ? ((await query("SHOW TABLES", DEMO_DATABASE)).rows as unknown[][]).map((r) => String(r[0]))
    : [];
  const catalog = await cachedCatalog(o.dataDir, o.objects ?? 50_000, say);
  const database = JSON.parse(readFileSync(catalog.databaseJson, "utf8")) as unknown;
  const tables: Array<[string, string, string | null]> = [
    ["Object", catalog.objectJson, catalog.objectCsv],
    ["Source", catalog.sourceJson ?? "", catalog.sourceCsv],
  ];
  const loaded: DemoResult["loaded"] = [];
  for (const [name, json, csv] of tables) {
    if (csv === null || held.includes(name)) continue;
    say(`ingesting ${DEMO_DATABASE}.${name}`);
    // Uploaded: the czar reads no path of ours (it has no --ingest-root by default).
    const table = JSON.parse(readFileSync(json, "utf8")) as unknown;
    const r = await postUpload(`${o.czarUrl}/ingest`, { database, table }, [csv], () => {});
    const row = {
      table: name,
      rows: r.rows as number,
      chunks: r.chunks as number,
      seconds: (r.elapsedMs as number) / 1000,
    };
    say(`${DEMO_DATABASE}.${name}: ${row.rows} rows in ${row.chunks} chunks (${row.seconds.toFixed(1)} s)`);
    loaded.push(row);
  }
  return { loaded, catalog };
}
