/**
 * Event-loop stall probe (issue 21): a czar and two workers (`up()`), a synthetic table of --rows
 * objects, then for each heavy query of HEAVY: the query runs over HTTP while two probe clients
 * (one over HTTP, one over the MySQL port, each on its own connection) ask `SELECT 1` back to
 * back; the probes' latencies while the heavy query ran are reported (p50, p99, max), with the
 * heavy query's own time and outcome. Also the latency floor: `SELECT 1` and a point lookup alone.
 * `npm run bench:stall -- --rows 300000 [--only NAME]`
 */
import { rmSync } from "node:fs";
import http from "node:http";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import mysql from "mysql2/promise";
import { postJson } from "../src/cli/httpClient.js";
import { SYN_DATABASE_JSON, SYN_TABLE_JSON, writeObjects } from "../test/support/synthetic.js";
import { upTwoWorkers } from "./twoWorkers.js";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "300000" },
    only: { type: "string" },
    dir: { type: "string", default: "bench/out/stall" },
  },
});
const rows = Number(values.rows);
const dir = resolve(values.dir as string);
rmSync(dir, { recursive: true, force: true });

const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(", ");
const chain = (n: number, sep: string, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(sep);

/** The heavy queries: name and text (database qsyn). */
const HEAVY: Array<[string, string]> = [
  ["in-key-100k", `SELECT COUNT(*) FROM Obj WHERE objectId IN (${range(100_000, (i) => String(i * 3 + 1))})`],
  ["in-nonkey-100k", `SELECT COUNT(*) FROM Obj WHERE flux IN (${range(100_000, (i) => `${i / 100}`)})`],
  ["case-10k", `SELECT SUM(CASE ${chain(10_000, " ", (i) => `WHEN objectId = ${i} THEN ${i}`)} ELSE 0 END) FROM Obj`],
  ["and-50k", `SELECT COUNT(*) FROM Obj WHERE ${chain(50_000, " AND ", (i) => `objectId <> ${i}`)}`],
  ["group-100k", "SELECT objectId % 100000 AS g, COUNT(*), SUM(flux) FROM Obj GROUP BY g"],
  ["order-all", "SELECT objectId, flux FROM Obj ORDER BY flux"],
  ["distinct-all", "SELECT DISTINCT objectId FROM Obj"],
  ["subquery", "SELECT COUNT(*), MAX(f) FROM (SELECT objectId, flux AS f FROM Obj ORDER BY flux) t"],
  ["union", "SELECT objectId FROM Obj UNION SELECT objectId + 1 FROM Obj"],
];

/**
 * The heavy query, sent and its answer parsed by a thread of its own: parsing a large answer
 * here would stall this process's probes, not the czar.
 */
function heavyQuery(url: string, query: string): Promise<string> {
  const code = `
    const { parentPort, workerData: w } = require("node:worker_threads");
    fetch(w.url + "/query", { method: "POST", body: JSON.stringify({ query: w.query, database: "qsyn" }) })
      .then((r) => r.json())
      .then((b) => parentPort.postMessage(b.error ? "error " + String(b.error.message).slice(0, 120) : "ok " + b.rows.length + " rows"))
      .catch((e) => parentPort.postMessage("error " + e.message));`;
  return new Promise((resolve) => {
    const t = new Worker(code, { eval: true, workerData: { url, query } });
    t.once("message", (m: string) => {
      resolve(m);
      void t.terminate();
    });
    t.once("error", (e) => resolve(`error ${e.message}`));
  });
}

const cluster = await upTwoWorkers(dir, ["--query-timeout", "600", "--ingest-root", dir]);

const ms = (x: number) => Math.round(x * 10) / 10;
function stats(xs: number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  return { n: s.length, p50: ms(at(0.5)), p99: ms(at(0.99)), max: ms(s[s.length - 1] ?? 0) };
}

try {
  const file = join(dir, "objects.csv");
  writeObjects(file, 1, rows);
  await postJson(`${cluster.url}/ingest`, { database: SYN_DATABASE_JSON, table: SYN_TABLE_JSON, files: [file] });
  const port = Number(new URL(cluster.url).port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const httpQuery = (query: string) =>
    new Promise<void>((res, rej) => {
      const req = http.request({ host: "127.0.0.1", port, path: "/query", method: "POST", agent }, (r) =>
        r.resume().on("end", res).on("error", rej),
      );
      req.on("error", rej);
      req.end(JSON.stringify({ query, database: "qsyn" }));
    });
  const conn = await mysql.createConnection({ host: "127.0.0.1", port: cluster.mysqlPort, database: "qsyn" });
  const probes = {
    http: () => httpQuery("SELECT 1"),
    mysql: async () => {
      await conn.query("SELECT 1");
    },
  };
  const time = async (f: () => Promise<void>) => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };

  // The floor: each alone, after a warm-up.
  const floor: Record<string, unknown> = {};
  const point = "SELECT * FROM Obj WHERE objectId = 4242";
  const alone: Record<string, () => Promise<void>> = {
    "select1/http": probes.http,
    "select1/mysql": probes.mysql,
    "point/http": () => httpQuery(point),
    "point/mysql": async () => {
      await conn.query(point);
    },
  };
  for (const [name, f] of Object.entries(alone)) {
    for (let i = 0; i < 20; i++) await f();
    const xs: number[] = [];
    for (let i = 0; i < 200; i++) xs.push(await time(f));
    floor[name] = stats(xs);
  }
  process.stdout.write(`${JSON.stringify({ rows, floor })}\n`);

  for (const [name, sql] of HEAVY) {
    if (values.only !== undefined && !values.only.split(",").includes(name)) continue;
    let done = false;
    const lat: Record<string, number[]> = { http: [], mysql: [] };
    const loops = Object.entries(probes).map(async ([k, f]) => {
      while (!done) lat[k]!.push(await time(f));
    });
    const t = performance.now();
    const outcome = await heavyQuery(cluster.url, sql);
    const heavyMs = performance.now() - t;
    done = true;
    await Promise.all(loops);
    process.stdout.write(
      `${JSON.stringify({
        name,
        textKb: Math.round(sql.length / 1024),
        heavyMs: Math.round(heavyMs),
        outcome,
        http: stats(lat.http!),
        mysql: stats(lat.mysql!),
      })}\n`,
    );
  }
  await conn.end();
  agent.destroy();
} finally {
  await cluster.stop();
}
