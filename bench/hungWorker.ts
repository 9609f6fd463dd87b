import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { getJson, postJson } from "../src/cli/httpClient.js";
import { loadDemo } from "../src/cluster/demo.js";
import { up } from "../src/cluster/up.js";

/**
 * What a hung worker costs queries: a supervised cluster (`up()`, R = 2) with the demo catalog;
 * per round one worker is SIGSTOPped, --queries queries run back to back (a mix of counts, cones,
 * a join and a GROUP BY), then it is SIGCONTed and the czar waits to see it up. Prints p50, p99
 * and max of every query run with a worker stopped (hedging and the health monitor at work), and
 * of the same queries undisturbed.
 * `npm run bench:hung -- --objects 10000 --rounds 3 --queries 40`
 */
const { values } = parseArgs({
  options: {
    objects: { type: "string", default: "10000" },
    rounds: { type: "string", default: "3" },
    queries: { type: "string", default: "40" },
    workers: { type: "string", default: "3" },
    dir: { type: "string", default: "bench/out/hung" },
  },
});
const QUERIES = [
  "SELECT COUNT(*) FROM Object",
  "SELECT objectId, ra, decl FROM Object WHERE qserv_areaspec_circle(30, 10, 8)",
  "SELECT COUNT(*), SUM(objectId) FROM Source",
  "SELECT o.objectId, COUNT(*) FROM Object o JOIN Source s ON o.objectId = s.objectId WHERE qserv_areaspec_box(0, -20, 40, 20) GROUP BY o.objectId",
];
const dir = values.dir as string;
rmSync(dir, { recursive: true, force: true });
const workers = Number(values.workers);
const cluster = await up({ dataDir: dir, workers, replicas: 2, httpPort: 0, write: () => {} });
const run = async (n: number, into: number[]) => {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await postJson(`${cluster.url}/query`, { query: QUERIES[i % QUERIES.length], database: "demo" });
    into.push(performance.now() - t0);
  }
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};
const show = (what: string, xs: number[]) =>
  console.log(
    `${what}: ${xs.length} queries, p50 ${pct(xs, 50).toFixed(0)} ms, p99 ${pct(xs, 99).toFixed(0)} ms, max ${pct(xs, 100).toFixed(0)} ms`,
  );
try {
  await loadDemo({ czarUrl: cluster.url, dataDir: join(dir, "demo"), objects: Number(values.objects) });
  const plain: number[] = [];
  const stopped: number[] = [];
  await run(QUERIES.length * 2, []); // warm-up: the first queries after a load
  await run(Number(values.queries), plain);
  for (let r = 0; r < Number(values.rounds); r++) {
    const victim = cluster.node(`w${(r % workers) + 1}`).proc;
    victim.kill("SIGSTOP");
    try {
      await run(Number(values.queries), stopped);
    } finally {
      victim.kill("SIGCONT");
    }
    for (;;) {
      const s = (await getJson(`${cluster.url}/status`)) as { workers: Array<{ up: boolean }> };
      if (s.workers.every((w) => w.up)) break;
    }
  }
  show("undisturbed", plain);
  show("one worker SIGSTOPped", stopped);
} finally {
  await cluster.stop();
}
