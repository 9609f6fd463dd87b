import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { generateCatalog } from "../../bench/generate.js";
import { postJson } from "./httpClient.js";

/** What `generateCatalog` wrote, kept beside the files so a later run reuses them as they are. */
interface Written {
  objects: number;
  sources: number;
  files: { database: string; Object: [string, string]; Source: [string, string] };
}

const MARK = "generated.json";

async function names(czar: string, query: string): Promise<string[]> {
  const a = await postJson(`${czar}/query`, { query, database: "" });
  return (a.rows as unknown[][]).map((r) => String(r[0]));
}

/**
 * Generates the sample catalog (database `demo`: Object and Source) under `dataDir` and ingests
 * it through the czar at `czarUrl`, which reads the files by path (so `dataDir` must be a path
 * the czar sees too). Tables the czar already lists are skipped; files a previous run wrote are
 * reused as they are (their path, size and mtime are the czar's load id), so re-running the
 * loader after a partial load finishes it without a CONFLICT.
 */
export async function loadDemo(
  czarUrl: string,
  dataDir: string,
  objects: number,
  say: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<{ loaded: string[]; skipped: string[] }> {
  const czar = czarUrl.replace(/\/+$/, "");
  const dir = resolve(dataDir, "catalog");
  const have = (await names(czar, "SHOW DATABASES")).includes("demo") ? await names(czar, "SHOW TABLES FROM demo") : [];
  const tables = ["Object", "Source"] as const;
  const skipped = tables.filter((t) => have.includes(t));
  if (skipped.length === tables.length) {
    say(`database demo is already loaded (${skipped.join(", ")}): nothing to do`);
    return { loaded: [], skipped };
  }
  const mark = join(dir, MARK);
  let written: Written | null = existsSync(mark) ? (JSON.parse(readFileSync(mark, "utf8")) as Written) : null;
  if (written !== null && written.objects !== objects && skipped.length === 0) written = null;
  if (written === null) {
    const cat = await generateCatalog({ outDir: dir, objects, sourcesPerObject: 4 });
    written = {
      objects: cat.objects,
      sources: cat.sources,
      files: {
        database: cat.databaseJson,
        Object: [cat.objectJson, cat.objectCsv],
        Source: [cat.sourceJson!, cat.sourceCsv!],
      },
    };
    writeFileSync(mark, `${JSON.stringify(written, null, 2)}\n`);
    say(`sample catalog: ${cat.objects} objects, ${cat.sources} sources in ${dir}`);
  } else {
    say(`sample catalog: reusing ${written.objects} objects, ${written.sources} sources in ${dir}`);
  }
  const database = JSON.parse(readFileSync(written.files.database, "utf8")) as unknown;
  const loaded: string[] = [];
  for (const t of tables) {
    if (skipped.includes(t)) {
      say(`${t}: already loaded`);
      continue;
    }
    const [config, data] = written.files[t];
    const r = await postJson(`${czar}/ingest`, {
      database,
      table: JSON.parse(readFileSync(config, "utf8")) as unknown,
      files: [data],
    });
    say(`${r.table}: ${r.rows} rows in ${r.chunks} chunks (${((r.elapsedMs as number) / 1000).toFixed(1)} s)`);
    loaded.push(t);
  }
  return { loaded, skipped };
}
