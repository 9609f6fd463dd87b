import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadDatabaseConfig, loadTableConfig } from "../src/common/ingestConfig.js";
import { partition } from "../src/partitioner/partition.js";
import { terminalProgress } from "../src/partitioner/progress.js";
import { generateCatalog } from "./generate.js";

/** Partitioning throughput on a generated catalog: `npm run bench:partition -- --rows 3000000`. */
const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "3000000" },
    dir: { type: "string", default: "bench/out/partition" },
    stripes: { type: "string", default: "85" },
    "sub-stripes": { type: "string", default: "12" },
    "buffer-mb": { type: "string", default: "64" },
  },
});
const rows = Number(values.rows);
const dir = values.dir as string;
const catDir = join(dir, `catalog-${rows}-${values.stripes}`);
mkdirSync(dir, { recursive: true });
if (!existsSync(join(catDir, "Object.csv"))) {
  const t = Date.now();
  await generateCatalog({
    outDir: catDir,
    objects: rows,
    numStripes: Number(values.stripes),
    numSubStripes: Number(values["sub-stripes"]),
  });
  process.stderr.write(`generated ${rows} rows in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}
const input = join(catDir, "Object.csv");
const out = join(dir, "chunks");
rmSync(out, { recursive: true, force: true });
const r = await partition({
  database: loadDatabaseConfig(join(catDir, "database.json")),
  table: loadTableConfig(join(catDir, "Object.json")),
  files: [input],
  outDir: out,
  maxBuffered: Number(values["buffer-mb"]) * 1024 * 1024,
  progress: terminalProgress("partition", statSync(input).size),
});
const secs = r.elapsedMs / 1000;
const report = {
  rows: r.info.totals.rows,
  columns: r.info.columns.length - 2,
  inputMB: +(statSync(input).size / 1e6).toFixed(1),
  chunks: r.info.totals.chunks,
  overlapRows: r.info.totals.overlapRows,
  seconds: +secs.toFixed(2),
  rowsPerSecond: Math.round(r.info.totals.rows / secs),
  bufferMB: Number(values["buffer-mb"]),
  peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
