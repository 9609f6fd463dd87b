/**
 * `npm run fuzz [-- --seed N --sql N --packets N --http N --grpc N --ingests N --hang-ms N --minutes M --heavy F]`:
 * the full fuzz run (test/fuzz/run.ts) on a fresh small cluster, bounded to M minutes (default
 * 20; inputs not sent by then are not counted); prints the report as JSON and exits non-zero
 * when anything crashed, hung or answered INTERNAL.
 */
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { makeTempDir } from "../support/fs.js";
import { runFuzz } from "./run.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    sql: { type: "string", default: "10000" },
    packets: { type: "string", default: "2000" },
    http: { type: "string", default: "2000" },
    grpc: { type: "string", default: "2000" },
    ingests: { type: "string", default: "100" },
    concurrency: { type: "string", default: "4" },
    "hang-ms": { type: "string", default: "30000" },
    minutes: { type: "string", default: "20" },
    heavy: { type: "string", default: "0.005" },
  },
});
const dir = makeTempDir("mq-fuzz-");
try {
  const report = await runFuzz({
    dir,
    seed: Number(values.seed),
    sql: Number(values.sql),
    packets: Number(values.packets),
    http: Number(values.http),
    grpc: Number(values.grpc),
    ingests: Number(values.ingests),
    concurrency: Number(values.concurrency),
    heavy: Number(values.heavy),
    hangMs: Number(values["hang-ms"]),
    budgetMs: Number(values.minutes) * 60_000,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const bad = Object.values(report.counts).reduce((n, c) => n + c.crashes + c.hangs + c.internal, 0);
  process.exitCode = bad === 0 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
