/**
 * The big runs of issue 23, measured: a czar and --workers workers (`up()`), the demo catalog of
 * --objects objects (4 sources each), then, one after the other,
 * - `in`: --in-queries distinct IN lists of --in-keys object ids each, then one of --big-in keys;
 * - `join`: a 3-way join of Source with itself on objectId, 64 rows per object (2.56M for 40k
 *   objects), over HTTP and over the MySQL port;
 * - `cross`: a join with no ON (Object × Source of a stripe), gathered on the czar;
 * while a client sends `SELECT 1` back to back. Reported per run: the answer (rows, or the error
 * code), seconds, the czar's and each worker's peak RSS (VmHWM, reset before the run) and RSS
 * after, and the SELECT 1 latencies meanwhile (p50, p99, max).
 * `npm run soak:memory -- --objects 40000 --runs in,join,cross --max-result-mb 1024`
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import mysql from "mysql2";
import { postJson } from "../src/cli/httpClient.js";
import { DEMO_DATABASE, loadDemo } from "../src/cluster/demo.js";
import { up } from "../src/cluster/up.js";
import { procStatus, resetPeak } from "../test/support/procStatus.js";

const { values } = parseArgs({
  options: {
    objects: { type: "string", default: "20000" },
    workers: { type: "string", default: "3" },
    runs: { type: "string", default: "in,join,cross" },
    "in-queries": { type: "string", default: "4" },
    "in-keys": { type: "string", default: "20000" },
    "big-in": { type: "string", default: "1000000" },
    "max-result-mb": { type: "string", default: "1024" },
    dir: { type: "string", default: "bench/out/soak-memory" },
  },
});
const dir = values.dir as string;
const runs = new Set((values.runs as string).split(","));
rmSync(join(dir, "data"), { recursive: true, force: true });
rmSync(join(dir, "cluster.log"), { force: true });
mkdirSync(dir, { recursive: true });

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

const cluster = await up({
  dataDir: join(dir, "data"),
  workers: Number(values.workers),
  replicas: 2,
  httpPort: 0,
  mysqlPort: 0,
  write: (text) => appendFileSync(join(dir, "cluster.log"), text),
  czarArgs: ["--max-result-mb", values["max-result-mb"] as string],
});
const nodes = ["czar", ...cluster.workers.map((w) => w.id)];
const pids = () => new Map(nodes.map((n) => [n, cluster.node(n).proc.pid as number]));

/** A streamed POST /query: rows counted, the body not kept. */
function post(query: string): Promise<{ status: number; rows: number; error: string | null }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${cluster.url}/query`, { method: "POST" }, (res) => {
      let tail = "";
      res.on("data", (d: Buffer) => {
        tail = (tail + d.toString("latin1")).slice(-2000);
      });
      res.on("error", () => {});
      res.on("close", () => {
        const m = /"error":\{"code":"(\w+)"/.exec(tail) ?? /"code":"(\w+)"/.exec(tail);
        resolve({
          status: res.statusCode ?? 0,
          rows: Number(/"stats":\{[^}]*"rows":(\d+)/.exec(tail)?.[1] ?? -1),
          error: res.statusCode === 200 && m === null ? null : (m?.[1] ?? tail.slice(0, 200)),
        });
      });
    });
    req.on("error", reject);
    req.end(JSON.stringify({ query, database: DEMO_DATABASE }));
  });
}

/** Rows of a query over the MySQL port, streamed (not kept). */
function viaMysql(query: string): Promise<{ rows: number; error: string | null }> {
  return new Promise((resolve) => {
    const c = mysql.createConnection({
      host: "127.0.0.1",
      port: cluster.mysqlPort,
      user: "qsmaster",
      database: DEMO_DATABASE,
    });
    let rows = 0;
    let error: string | null = null;
    c.query(query)
      .on("result", () => {
        rows++;
      })
      .on("error", (e: Error) => {
        error = e.message.slice(0, 120);
      })
      .on("end", () => {
        c.destroy();
        resolve({ rows, error });
      });
  });
}

/** `SELECT 1` back to back until stopped; latencies in ms, and the errors met. */
function pinger(): { stop(): Promise<{ lat: number[]; errors: number }> } {
  const lat: number[] = [];
  let errors = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      try {
        await postJson(`${cluster.url}/query`, { query: "SELECT 1" });
        lat.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { lat, errors };
    },
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const report: string[] = [];
async function measure(name: string, body: () => Promise<string>): Promise<void> {
  const ps = pids();
  for (const pid of ps.values()) resetPeak(pid);
  const alive = (pid: number) => {
    try {
      return procStatus(pid, "VmRSS");
    } catch {
      return 0; // the process died
    }
  };
  const before = new Map([...ps].map(([n, pid]) => [n, procStatus(pid, "VmRSS")]));
  const ping = pinger();
  const t0 = performance.now();
  let outcome: string;
  try {
    outcome = await body();
  } catch (e) {
    outcome = `failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  const secs = (performance.now() - t0) / 1000;
  const { lat, errors } = await ping.stop();
  const mem = [...ps]
    .map(([n, pid]) =>
      alive(pid) === 0
        ? `${n} DIED`
        : `${n} ${mib(before.get(n)!)}→peak ${mib(procStatus(pid, "VmHWM"))}, after ${mib(procStatus(pid, "VmRSS"))}`,
    )
    .join("; ");
  const line = `${name}: ${outcome} in ${secs.toFixed(1)} s | ${mem} | SELECT 1 ×${lat.length} p50 ${pct(lat, 50).toFixed(0)} ms p99 ${pct(lat, 99).toFixed(0)} ms max ${pct(lat, 100).toFixed(0)} ms, ${errors} errors`;
  console.log(line);
  report.push(line);
}

try {
  await loadDemo({
    czarUrl: cluster.url,
    dataDir: join(dir, "demo"),
    objects: Number(values.objects),
    say: console.log,
  });
  const ids = (
    (await postJson(`${cluster.url}/query`, { query: "SELECT objectId FROM Object", database: DEMO_DATABASE }))
      .rows as unknown[][]
  ).map((r) => String(r[0]));
  const idList = (n: number, seed: number): string => {
    // Existing ids first (in a stride that differs per seed), then ids no row has.
    const out: string[] = [];
    for (let i = 0; i < n; i++)
      out.push(i < ids.length ? ids[(i * (seed * 2 + 1)) % ids.length]! : String(1e12 + i * 7 + seed));
    return out.join(",");
  };
  if (runs.has("in")) {
    const n = Number(values["in-queries"]);
    const k = Number(values["in-keys"]);
    await measure(`${n} × IN of ${k} keys`, async () => {
      const counts: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await post(`SELECT COUNT(*) FROM Object WHERE objectId IN (${idList(k, i + 1)})`);
        counts.push(r.error ?? "ok");
      }
      return counts.join(",");
    });
    const big = Number(values["big-in"]);
    await measure(`IN of ${big} keys`, async () => {
      const r = await post(`SELECT objectId, ra FROM Object WHERE objectId IN (${idList(big, 9)})`);
      return r.error === null ? `${r.rows} rows` : `error ${r.error}`;
    });
  }
  // 4 sources per object: 64 rows per object (2.56M for 40k objects).
  const joinSql =
    "SELECT s1.sourceId, s2.sourceId, s3.sourceId FROM Source s1 JOIN Source s2 ON s2.objectId = s1.objectId JOIN Source s3 ON s3.objectId = s1.objectId";
  if (runs.has("join")) {
    await measure("3-way join over HTTP", async () => {
      const r = await post(joinSql);
      return r.error === null ? `${r.rows} rows` : `error ${r.error}`;
    });
    await measure("3-way join over MySQL", async () => {
      const r = await viaMysql(joinSql);
      return r.error === null ? `${r.rows} rows` : `${r.rows} rows, then ${r.error}`;
    });
  }
  if (runs.has("cross")) {
    await measure("cross join, gathered", async () => {
      const r = await post(
        "SELECT o.objectId, s.sourceId FROM Object o JOIN Source s WHERE o.decl > 80 AND s.decl < -60",
      );
      return r.error === null ? `${r.rows} rows` : `error ${r.error}`;
    });
  }
} finally {
  await cluster.stop();
}
writeFileSync(join(dir, "report.txt"), `${report.join("\n")}\n`);
