import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startWorkerProcess } from "../src/cluster/workerProcess.js";
import { dialectFor } from "../src/partitioner/dialect.js";
import { loadHeader, WorkerClient } from "../src/worker/client.js";
import { prng } from "./generate.js";

/**
 * One worker process, one chunk of --rows rows × 4 numeric columns: rows/s streamed to a client
 * (decoded) for full-chunk scans, and Status latency polled during those scans.
 * `npm run bench:worker -- --rows 1000000 --runs 3`
 */
const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    threads: { type: "string", default: String(os.availableParallelism()) },
    dir: { type: "string", default: "bench/out/worker" },
  },
});
const rows = Number(values.rows);
const runs = Number(values.runs);
const dir = values.dir as string;
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const w = await startWorkerProcess(join(dir, "data"), ["--threads", values.threads as string]);
const client = new WorkerClient(w.address);
const CHUNK = 7140;

// Load: the rows as CSV text, in 4 MiB pieces.
async function* csv() {
  const rnd = prng(42);
  let lines: string[] = [];
  let bytes = 0;
  for (let i = 0; i < rows; i++) {
    const line = `${433327840428032 + i},${(rnd() * 360).toFixed(10)},${(rnd() * 4 - 2).toFixed(10)},${rnd() * 1e-29}\n`;
    lines.push(line);
    bytes += line.length;
    if (bytes > 4 << 20) {
      yield { part: "ROWS" as const, data: Buffer.from(lines.join("")) };
      lines = [];
      bytes = 0;
    }
  }
  if (lines.length > 0) yield { part: "ROWS" as const, data: Buffer.from(lines.join("")) };
}
const tLoad = performance.now();
const header = loadHeader(
  {
    loadId: "bench",
    database: "bench",
    table: "Object",
    columns: [
      { name: "objectId", mysqlType: "BIGINT" },
      { name: "ra", mysqlType: "DOUBLE" },
      { name: "decl", mysqlType: "DOUBLE" },
      { name: "flux", mysqlType: "DOUBLE" },
    ],
    directorKey: "objectId",
    dialect: dialectFor("x.csv"),
  },
  CHUNK,
);
await client.load(header, csv());
const loadS = (performance.now() - tLoad) / 1000;
console.log(`loaded ${rows} rows in ${loadS.toFixed(1)} s (${Math.round(rows / loadS)} rows/s incl. generation)`);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

const scans: Array<{ rowsPerS: number; seconds: number; statusCalls: number; p50: number; p99: number; max: number }> =
  [];
for (let run = 0; run < runs; run++) {
  const latencies: number[] = [];
  let scanning = true;
  const poller = (async () => {
    const probe = new WorkerClient(w.address);
    await probe.status();
    while (scanning) {
      const t = performance.now();
      await probe.status();
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 5));
    }
    probe.close();
  })();
  const t0 = performance.now();
  let n = 0;
  for await (const ev of client.query({ database: "bench", chunkId: CHUNK, sql: `SELECT * FROM Object_${CHUNK}` })) {
    if (ev.kind === "rows") n += ev.rows.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  scanning = false;
  await poller;
  if (n !== rows) throw new Error(`scan returned ${n} rows, expected ${rows}`);
  const r = {
    rowsPerS: Math.round(n / seconds),
    seconds,
    statusCalls: latencies.length,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    max: Math.max(...latencies),
  };
  scans.push(r);
  console.log(
    `scan ${run + 1}: ${n} rows in ${seconds.toFixed(2)} s = ${r.rowsPerS} rows/s; status during scan: ` +
      `${r.statusCalls} calls, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(2)} ms`,
  );
}
client.close();
await w.stop();
const report = {
  rows,
  columns: 4,
  threads: Number(values.threads),
  loadSeconds: loadS,
  scans,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
};
writeFileSync(join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log(`report: ${join(dir, "report.json")}`);
