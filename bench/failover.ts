import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { postJson } from "../src/cli/httpClient.js";
import { loadDemo } from "../src/cluster/demo.js";
import { up } from "../src/cluster/up.js";

/**
 * What losing a worker costs a running query: a supervised cluster (`up()`) with the demo
 * catalog; a full-table GROUP BY timed --runs times undisturbed, then --runs times with one
 * worker SIGKILLed once the query has done --at of its chunks (the worker restarts between
 * runs, --restart-delay seconds later). Medians of both, side by side in one run.
 * `npm run bench:failover -- --objects 50000 --runs 5 --workers 3`
 */
const { values } = parseArgs({
  options: {
    objects: { type: "string", default: "50000" },
    runs: { type: "string", default: "5" },
    workers: { type: "string", default: "3" },
    at: { type: "string", default: "0.3" },
    "restart-delay": { type: "string", default: "5" },
    dir: { type: "string", default: "bench/out/failover" },
  },
});
const runs = Number(values.runs);
const at = Number(values.at);
const dir = values.dir as string;
rmSync(dir, { recursive: true, force: true });
const log: string[] = [];
const cluster = await up({
  dataDir: dir,
  workers: Number(values.workers),
  replicas: 2,
  httpPort: 0,
  // Longer than a query: the restart's own cost stays out of the measured run.
  restartDelayS: Number(values["restart-delay"]),
  write: (s) => log.push(s),
});
const SCAN = "SELECT objectId, COUNT(*), MAX(psfFlux) FROM Source GROUP BY objectId";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const query = () => postJson(`${cluster.url}/query`, { query: SCAN, database: "demo" });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

try {
  await loadDemo({ czarUrl: cluster.url, dataDir: join(dir, "demo"), objects: Number(values.objects) });
  await query();
  const plain: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await query();
    plain.push(performance.now() - t0);
  }
  const killed: number[] = [];
  const retries: number[] = [];
  for (let i = 0; i < runs; i++) {
    const victim = `w${(i % Number(values.workers)) + 1}`;
    const t0 = performance.now();
    let finished = false;
    const running = query().finally(() => {
      finished = true;
    });
    while (!finished) {
      const s = (await (await fetch(`${cluster.url}/status`)).json()) as {
        queries: Array<{ chunksDone: number; chunksTotal: number }>;
      };
      const q = s.queries[0];
      if (q !== undefined && q.chunksDone >= q.chunksTotal * at) break;
      await sleep(5);
    }
    if (finished) throw new Error("the query ended before the kill: use more --objects");
    cluster.node(victim).proc.kill("SIGKILL");
    const r = await running;
    killed.push(performance.now() - t0);
    retries.push((r.stats as { retries: number }).retries);
    const back = log.filter((l) => l.includes(`${victim} is back`)).length;
    while (log.filter((l) => l.includes(`${victim} is back`)).length === back) await sleep(50);
    await sleep(1500);
  }
  const [p, k] = [median(plain), median(killed)];
  process.stdout.write(
    `full-table GROUP BY over ${values.objects} objects, ${values.workers} workers, R=2, ${runs} runs each\n` +
      `  undisturbed:            median ${p.toFixed(0)} ms  (${plain.map((x) => x.toFixed(0)).join(", ")})\n` +
      `  worker killed at ${Math.round(at * 100)}%:  median ${k.toFixed(0)} ms  (${killed.map((x) => x.toFixed(0)).join(", ")}), retries ${retries.join(", ")}\n` +
      `  extra latency: ${(k - p).toFixed(0)} ms (${(k / p).toFixed(2)}x)\n`,
  );
} finally {
  await cluster.stop();
}
