/**
 * `npm run bench:point -- [--objects N] [--runs R] [--workers W] [--replicas R] [--compare] [--clients N]`: the
 * fixed cost of a query. A cluster on loopback with the demo catalog; point lookups by objectId,
 * light curves and `IN` lists of 1,000 ids, each over HTTP (POST /query) and over the MySQL port
 * (mysql2); p50/p95 per kind. `--compare`: a second cluster beside it with the plan cache and the
 * workers' inline queries off (MINI_QSERV_PLAN_CACHE=0, MINI_QSERV_WORKER_INLINE=0), the same
 * queries sent to both in turn (same load on both), and the ratio of their p50s. `--baseline DIR`:
 * the second cluster runs another checkout's build (DIR/bin/mini-qserv.js, e.g. the commit before a
 * change), features on in both. `--clients N` (N > 1): N HTTP clients at once send `--runs` queries of
 * each kind (`cone`: a 0.1° cone at a random position, also a kind) to the first cluster: QPS, and
 * each node's and the client's CPU per query and busy share of one core. With
 * MINI_QSERV_CPU_PROF=DIR every node writes a CPU profile there.
 */
import { appendFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import mysql from "mysql2/promise";
import { postJson } from "../src/cli/httpClient.js";
import { DEMO_DATABASE, loadDemo } from "../src/cluster/demo.js";
import { type UpCluster, up } from "../src/cluster/up.js";
import { prng } from "./generate.js";
import { quantile } from "./stats.js";

const { values } = parseArgs({
  options: {
    objects: { type: "string", default: "20000" },
    runs: { type: "string", default: "300" },
    workers: { type: "string", default: "2" },
    replicas: { type: "string", default: "1" },
    compare: { type: "boolean", default: false },
    baseline: { type: "string" },
    kinds: { type: "string", default: "point,lightcurve,in1000" },
    /** More than 1: that many HTTP clients at once on the first cluster (QPS, and each node's busy share of a core). */
    clients: { type: "string", default: "1" },
    log: { type: "string" },
    catalog: { type: "string", default: join(tmpdir(), "mini-qserv-point-catalog") },
  },
});
const objects = Number(values.objects);
const runs = Number(values.runs);
const clients = Number(values.clients);
if (!Number.isInteger(clients) || clients < 1) {
  process.stderr.write(`--clients takes a positive integer, got ${values.clients}\n`);
  process.exit(2);
}
const OFF = { MINI_QSERV_PLAN_CACHE: "0", MINI_QSERV_WORKER_INLINE: "0" };

interface Target {
  name: string;
  cluster: UpCluster;
  dir: string;
  conn: mysql.Connection;
}

/** A cluster with the demo catalog; `env` set for its processes (they take it when started). */
async function start(name: string, env: Record<string, string>): Promise<Target> {
  const dir = join(tmpdir(), `mini-qserv-point-${process.pid}-${name}`);
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let cluster: UpCluster;
  try {
    cluster = await up({
      dataDir: dir,
      workers: Number(values.workers),
      replicas: Number(values.replicas),
      httpPort: 0,
      restartDelayS: 0,
      czarArgs: ["--repair-interval", "0"],
      write: (line) => (values.log === undefined ? undefined : appendFileSync(values.log, `${name} ${line}`)),
    });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  await loadDemo({ czarUrl: cluster.url, dataDir: values.catalog as string, objects });
  const conn = await mysql.createConnection({ host: "127.0.0.1", port: cluster.mysqlPort, user: "qsmaster" });
  await conn.query(`USE ${DEMO_DATABASE}`);
  return { name, cluster, dir, conn };
}

/** CPU milliseconds (user + system) each node of `t`'s cluster has used so far. */
function cpuMs(t: Target): Record<string, number> {
  const out: Record<string, number> = {};
  for (const node of ["czar", ...t.cluster.workers.map((w) => w.id)]) {
    const pid = t.cluster.node(node).proc.pid;
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    out[node] = ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (100/s)
  }
  return out;
}

const targets: Target[] = [];
try {
  targets.push(await start("on", {}));
  if (values.baseline !== undefined)
    targets.push(await start("base", { MINI_QSERV_NODE_CLI: resolve(values.baseline, "bin/mini-qserv.js") }));
  else if (values.compare) targets.push(await start("off", OFF));
  const rnd = prng(5);
  const id = () => 1 + Math.floor(rnd() * objects);
  const kinds: Record<string, () => string> = {
    point: () => `SELECT objectId, ra, decl, gFlux, rFlux, flags FROM Object WHERE objectId = ${id()}`,
    lightcurve: () => `SELECT sourceId, taiMidPoint, filterId, psfFlux FROM Source WHERE objectId = ${id()}`,
    in1000: () => `SELECT objectId, ra, decl FROM Object WHERE objectId IN (${Array.from({ length: 1000 }, id)})`,
    cone: () =>
      `SELECT objectId, ra, decl FROM Object WHERE qserv_areaspec_circle(${(10 + rnd() * 340).toFixed(4)}, ${(-60 + rnd() * 120).toFixed(4)}, 0.1)`,
  };
  const via = {
    http: (t: Target, sql: string) => postJson(`${t.cluster.url}/query`, { query: sql, database: DEMO_DATABASE }),
    mysql: (t: Target, sql: string) => t.conn.query(sql),
  };
  const chosen = (values.kinds as string).split(",");
  for (const [kind, text] of Object.entries(kinds).filter(([k]) => clients > 1 && chosen.includes(k))) {
    // Concurrent clients on the first cluster: where the CPU goes when the cores are full.
    const t = targets[0]!;
    for (let i = 0; i < 10; i++) await via.http(t, text()); // warm-up
    const cpu0 = cpuMs(t);
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    let left = runs;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (left-- > 0) await via.http(t, text());
      }),
    );
    const wall = performance.now() - t0;
    const own = process.cpuUsage(own0);
    const used = Object.entries(cpuMs(t)).map(([node, ms]) => [node, ms - cpu0[node]!] as const);
    used.push(["client", (own.user + own.system) / 1000]);
    process.stdout.write(
      `${kind.padEnd(10)} http ×${clients} clients, ${runs} queries: ${((runs * 1000) / wall).toFixed(1)} QPS\n` +
        `${"".padEnd(17)}CPU ms per query: ${used.map(([n, ms]) => `${n} ${(ms / runs).toFixed(2)}`).join(", ")}\n` +
        `${"".padEnd(17)}busy, share of one core: ${used.map(([n, ms]) => `${n} ${(ms / wall).toFixed(2)}`).join(", ")}\n`,
    );
  }
  for (const [kind, text] of Object.entries(kinds).filter(([k]) => clients <= 1 && chosen.includes(k))) {
    for (const [name, run] of Object.entries(via)) {
      const n = kind === "in1000" ? Math.ceil(runs / 10) : runs;
      for (let i = 0; i < 10; i++) for (const t of targets) await run(t, text()); // warm-up
      const ms = targets.map(() => [] as number[]);
      const cpu0 = targets.map(cpuMs);
      for (let i = 0; i < n; i++) {
        const sql = text();
        // Each in turn, the first one alternating: both see the same load.
        for (let k = 0; k < targets.length; k++) {
          const j = (i + k) % targets.length;
          const t0 = performance.now();
          await run(targets[j]!, sql);
          ms[j]!.push(performance.now() - t0);
        }
      }
      const p = (xs: number[], q: number) => quantile(xs, q);
      const cells = targets.map(
        (t, j) => `${t.name}: p50 ${p(ms[j]!, 0.5).toFixed(2)} ms p95 ${p(ms[j]!, 0.95).toFixed(2)} ms`,
      );
      const ratio =
        targets.length === 2
          ? `  ${targets[0]!.name}/${targets[1]!.name} p50 ${(p(ms[0]!, 0.5) / p(ms[1]!, 0.5)).toFixed(2)}×`
          : "";
      process.stdout.write(`${kind.padEnd(10)} ${name.padEnd(5)} n=${n}  ${cells.join("  ")}${ratio}\n`);
      // CPU per query of each node (user + system, from /proc): what the wall time is not waiting.
      targets.forEach((t, j) => {
        const used = Object.entries(cpuMs(t)).map(([node, ms]) => `${node} ${((ms - cpu0[j]![node]!) / n).toFixed(2)}`);
        process.stdout.write(`${"".padEnd(17)}${t.name}: CPU ms per query: ${used.join(", ")}\n`);
      });
    }
  }
} finally {
  for (const t of targets) {
    await t.conn.end().catch(() => {});
    await t.cluster.stop();
    rmSync(t.dir, { recursive: true, force: true });
  }
}
