/**
 * Ingest of one catalog from CSV and from Parquet, side by side in one run:
 * `npm run bench:ingest-formats -- --rows 1000000 [--modes text,batch,partition]`.
 *
 * The generated Object catalog (bench/generate.ts) is converted to Parquet by DuckDB (zstd,
 * its default row groups); then, per format, a fresh czar over two fresh workers ingests it
 * (`POST /ingest` by path) and reports rows/s and the czar's peak RSS (VmHWM), once with the
 * rows uploaded as binary row batches (the default) and once as delimited text (the czar run with
 * MINI_QSERV_LOAD_FORMAT=text, the path before row batches). It also times the partitioner alone
 * in this process on the CSV and the Parquet, writing text and writing row batches, and on the
 * Parquet turned into CSV text first (the "via text" path the code does not take).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { postNdjson } from "../src/cli/httpClient.js";
import { startCzarProcess } from "../src/cluster/czarProcess.js";
import { startWorkerProcess } from "../src/cluster/workerProcess.js";
import { inputColumns, loadDatabaseConfig, loadTableConfig } from "../src/common/ingestConfig.js";
import { dialectFor } from "../src/partitioner/dialect.js";
import { copyInputRows, Rejects } from "../src/partitioner/inputRows.js";
import { partition } from "../src/partitioner/partition.js";
import { generateCatalog, OBJECT_COLUMNS } from "./generate.js";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    dir: { type: "string", default: "bench/out/ingest-formats" },
    stripes: { type: "string", default: "18" },
    "sub-stripes": { type: "string", default: "6" },
    /** Which runs: `text` and `batch` ingests (upload format), `partition` (the partitioner alone). */
    modes: { type: "string", default: "text,batch,partition" },
  },
});
const modes = new Set((values.modes as string).split(","));
const rows = Number(values.rows);
const dir = resolve(values.dir as string);
const cat = join(dir, `catalog-${rows}-${values.stripes}`);
mkdirSync(dir, { recursive: true });
const csv = join(cat, "Object.csv");
const parquet = join(cat, "Object.parquet");
if (!existsSync(csv)) {
  await generateCatalog({
    outDir: cat,
    objects: rows,
    numStripes: Number(values.stripes),
    numSubStripes: Number(values["sub-stripes"]),
    database: "fmtbench",
  });
}
if (!existsSync(parquet)) {
  const duck = await DuckDBInstance.create(":memory:");
  const c = await duck.connect();
  const types = OBJECT_COLUMNS.map(
    ([n, t]) =>
      `'${n}': '${/^bigint/.test(t) ? "BIGINT" : /^int/.test(t) ? "INTEGER" : /^float/.test(t) ? "FLOAT" : "DOUBLE"}'`,
  );
  await c.run(
    `COPY (SELECT * FROM read_csv('${csv}', header = false, nullstr = '\\N', columns = {${types.join(", ")}})) TO '${parquet}' (FORMAT parquet, COMPRESSION zstd)`,
  );
  c.closeSync();
  duck.closeSync();
}
const database = loadDatabaseConfig(join(cat, "database.json"));
const table = loadTableConfig(join(cat, "Object.json"));
const mb = (f: string) => +(statSync(f).size / 1e6).toFixed(1);

/** Peak RSS of a process (VmHWM), MB. */
const peakMb = (pid: number) =>
  Math.round(Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024);

/** One ingest through a fresh czar and two fresh workers. */
async function ingest(file: string, name: string, loadFormat: "batch" | "text") {
  const base = join(dir, `cluster-${name}`);
  rmSync(base, { recursive: true, force: true });
  const workers = await Promise.all([1, 2].map((i) => startWorkerProcess(join(base, `w${i}`))));
  const czar = await startCzarProcess(
    join(base, "czar"),
    workers.map((w, i) => `w${i + 1}=${w.address}`),
    ["--health-interval", "0", "--ingest-root", cat],
    { env: { MINI_QSERV_LOAD_FORMAT: loadFormat } },
  );
  try {
    const t0 = performance.now();
    // NDJSON progress: the answer starts at once (a long ingest outlasts fetch's header timeout).
    const body = await postNdjson(
      `${czar.url}/ingest`,
      {
        database: JSON.parse(readFileSync(join(cat, "database.json"), "utf8")),
        table: JSON.parse(readFileSync(join(cat, "Object.json"), "utf8")),
        files: [file],
      },
      () => {},
    );
    const secs = (performance.now() - t0) / 1000;
    return {
      format: name,
      upload: loadFormat,
      inputMB: mb(file),
      rows: body.rows,
      seconds: +secs.toFixed(1),
      rowsPerSecond: Math.round(Number(body.rows) / secs),
      czarPeakRssMB: peakMb(czar.proc.pid as number),
      workerPeakRssMB: workers.map((w) => peakMb(w.proc.pid as number)),
    };
  } finally {
    await czar.stop();
    for (const w of workers) await w.stop();
    rmSync(base, { recursive: true, force: true });
  }
}

/** The partitioner alone on `files`, in this process. */
async function partitionOnly(name: string, run: () => Promise<number>) {
  const t0 = performance.now();
  const n = await run();
  const secs = (performance.now() - t0) / 1000;
  return { path: name, rows: n, seconds: +secs.toFixed(1), rowsPerSecond: Math.round(n / secs) };
}
const out = join(dir, "chunks");
const part = async (f: string, batch = false) =>
  (await partition({ database, table, files: [f], outDir: out, batch })).info.totals.rows;

const report = {
  rows,
  loadavg: os.loadavg().map((x) => +x.toFixed(1)),
  ingest: [] as Array<Awaited<ReturnType<typeof ingest>>>,
  partitionOnly: [] as Array<Awaited<ReturnType<typeof partitionOnly>>>,
};
// Each pair back to back: a loaded machine's swings touch both alike.
for (const mode of ["text", "batch"] as const) {
  if (!modes.has(mode)) continue;
  report.ingest.push(await ingest(csv, "csv", mode), await ingest(parquet, "parquet", mode));
}
if (modes.has("partition")) {
  report.partitionOnly.push(
    await partitionOnly("csv, text out", () => part(csv)),
    await partitionOnly("parquet, text out", () => part(parquet)),
    await partitionOnly("csv, row batches out", () => part(csv, true)),
    await partitionOnly("parquet, row batches out", () => part(parquet, true)),
    await partitionOnly("parquet, via CSV text", async () => {
      const text = join(dir, "via-text.csv");
      const rejects = new Rejects(undefined);
      await copyInputRows([parquet], inputColumns(table), dialectFor(text), {}, text, rejects.reject);
      const n = await part(text);
      rmSync(text);
      return n;
    }),
  );
}
rmSync(out, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
