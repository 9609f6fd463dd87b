/**
 * `npm run conformance [-- --case case01 ... --workers N --via http|mysql --verbose --times FILE]`: runs
 * Qserv's itest suite against a mini-qserv cluster; one line per failure, then the totals. Exit code 1 on
 * any failure. `--times`: each query's time at the client (ms) as JSON, for `bench/itestLatency.ts`.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { SKIP_ITEST } from "../support/paths.js";
import { runConformance } from "./runner.js";

const { values } = parseArgs({
  options: {
    case: { type: "string", multiple: true },
    workers: { type: "string", default: "3" },
    verbose: { type: "boolean", default: false },
    via: { type: "string", default: "http" },
    times: { type: "string" },
  },
});
const workers = Number(values.workers);
const via = values.via;
if (via !== "http" && via !== "mysql") {
  console.error(`--via must be http or mysql, got ${via}`);
  process.exit(2);
}
if (!Number.isInteger(workers) || workers < 1) {
  console.error(`--workers must be a positive integer, got ${values.workers}`);
  process.exit(2);
}
if (SKIP_ITEST) {
  console.error(SKIP_ITEST);
  process.exit(2);
}
const times: Record<string, number> = {};
try {
  const s = await runConformance({
    cases: values.case,
    workers,
    via,
    verbose: values.verbose,
    log: console.log,
    onTime: (w, ms) => {
      times[`${w.case} ${w.file}`] = ms;
    },
  });
  if (values.times !== undefined) writeFileSync(values.times, `${JSON.stringify({ via, times }, null, 1)}\n`);
  if (values.verbose) for (const n of s.notes) console.log(`NOTE ${n.case} ${n.file}: ${n.reason}`);
  console.log(`${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
  process.exit(s.failed > 0 ? 1 : 0);
} catch (e) {
  console.error(`conformance: ${(e as Error).message}`);
  process.exit(1);
}
