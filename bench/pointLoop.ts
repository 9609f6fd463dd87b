/**
 * `npm run bench:point -- [--objects N] [--runs R] [--workers W] [--replicas R]`: the fixed cost
 * of a query. A cluster on loopback with the demo catalog; point lookups by objectId, light curves
 * and `IN` lists of 1,000 ids, each over HTTP (POST /query) and over the MySQL port (mysql2);
 * p50/p95 per kind. With MINI_QSERV_CPU_PROF=DIR every node writes a CPU profile there.
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import mysql from "mysql2/promise";
import { postJson } from "../src/cli/httpClient.js";
import { DEMO_DATABASE, loadDemo } from "../src/cluster/demo.js";
import { up } from "../src/cluster/up.js";
import { prng } from "./generate.js";
import { quantile } from "./stats.js";

const { values } = parseArgs({
  options: {
    objects: { type: "string", default: "20000" },
    runs: { type: "string", default: "300" },
    workers: { type: "string", default: "2" },
    replicas: { type: "string", default: "1" },
    catalog: { type: "string", default: join(tmpdir(), "mini-qserv-point-catalog") },
  },
});
const objects = Number(values.objects);
const runs = Number(values.runs);
const dir = join(tmpdir(), `mini-qserv-point-${process.pid}`);
const cluster = await up({
  dataDir: dir,
  workers: Number(values.workers),
  replicas: Number(values.replicas),
  httpPort: 0,
  restartDelayS: 0,
  czarArgs: ["--repair-interval", "0"],
  write: () => {},
});
try {
  await loadDemo({ czarUrl: cluster.url, dataDir: values.catalog as string, objects });
  const rnd = prng(5);
  const id = () => 1 + Math.floor(rnd() * objects);
  const kinds: Record<string, () => string> = {
    point: () => `SELECT objectId, ra, decl, gFlux, rFlux, flags FROM Object WHERE objectId = ${id()}`,
    lightcurve: () => `SELECT sourceId, psfFlux FROM Source WHERE objectId = ${id()}`,
    in1000: () => `SELECT objectId, ra, decl FROM Object WHERE objectId IN (${Array.from({ length: 1000 }, id)})`,
  };
  const conn = await mysql.createConnection({ host: "127.0.0.1", port: cluster.mysqlPort, user: "qsmaster" });
  await conn.query(`USE ${DEMO_DATABASE}`);
  const via = {
    http: (sql: string) => postJson(`${cluster.url}/query`, { query: sql, database: DEMO_DATABASE }),
    mysql: (sql: string) => conn.query(sql),
  };
  for (const [kind, text] of Object.entries(kinds)) {
    for (const [name, run] of Object.entries(via)) {
      const n = kind === "in1000" ? Math.ceil(runs / 10) : runs;
      for (let i = 0; i < 10; i++) await run(text()); // warm-up
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const sql = text();
        const t0 = performance.now();
        await run(sql);
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      const p = (q: number) => quantile(ms, q).toFixed(2);
      process.stdout.write(`${kind.padEnd(10)} ${name.padEnd(5)} n=${n} p50 ${p(0.5)} ms  p95 ${p(0.95)} ms\n`);
    }
  }
  await conn.end();
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
