/**
 * Liveness soak (issue 22): a czar and two workers (`up()`), a table of --rows objects with ids
 * 1..n, then --clients clients for --seconds mixing COUNT queries (MySQL and HTTP), full streamed
 * reads, slow readers (pause, then resume within the write timeout), stalled readers (let go by
 * net_write_timeout), disconnects mid-result and stalled HTTP readers, while one more client
 * appends --append-rows new ids every --append-every seconds and unloads every third append
 * again (DELETE /ingest/<loadId>). Every answer is checked: ids are 1..n for a table version n
 * that was published (appends add the next ids, an unload takes them off), so a COUNT is one of
 * the versions and a full read is exactly 1..n of one. At the end: wrong answers, unexpected
 * errors, queries still listed / running on workers once the clients stopped, czar RSS start/end.
 * `npm run soak:liveness -- --seconds 180 --clients 32`
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import mysql from "mysql2";
import mysqlPromise from "mysql2/promise";
import { postJson } from "../src/cli/httpClient.js";
import { WorkerClient } from "../src/worker/client.js";
import { SYN_DATABASE_JSON, SYN_TABLE_JSON, writeObjects } from "../test/support/synthetic.js";
import { prng } from "./generate.js";
import { upTwoWorkers } from "./twoWorkers.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "180" },
    clients: { type: "string", default: "32" },
    rows: { type: "string", default: "300000" },
    "append-rows": { type: "string", default: "2000" },
    "append-every": { type: "string", default: "10" },
    "write-timeout": { type: "string", default: "3" },
    dir: { type: "string", default: "bench/out/soak-liveness" },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const writeTimeoutS = Number(values["write-timeout"]);
const dir = resolve(values.dir as string);
rmSync(dir, { recursive: true, force: true });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logs: string[] = [];
const cluster = await upTwoWorkers(
  dir,
  ["--net-write-timeout", String(writeTimeoutS), "--spool-memory-mb", "2", "--ingest-root", dir],
  (s) => logs.push(s),
);
const rss = () => {
  const pid = cluster.node("czar").proc.pid;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Math.round(Number(m?.[1]) / 1024);
};

/** Published table versions: the number of rows (ids 1..n); `pending` is an append under way. */
const versions: number[] = [];
let pending: number | null = null;
let nextId = 1;
const append = async (n: number) => {
  const file = join(dir, `objects-${nextId}.csv`);
  writeObjects(file, nextId, n);
  pending = nextId + n - 1;
  nextId += n;
  await postJson(`${cluster.url}/ingest`, { database: SYN_DATABASE_JSON, table: SYN_TABLE_JSON, files: [file] });
  versions.push(pending);
  pending = null;
  appendGeneration++;
  return { file, first: nextId - n };
};
/** Takes the load of `file` out again (DELETE /ingest/<loadId>): the table is back at ids 1..first-1. */
const unload = async (file: string, first: number) => {
  const listed = (await (await fetch(`${cluster.url}/loads?database=qsyn&table=Obj`)).json()) as {
    loads: Array<{ loadId: string; files: string[] }>;
  };
  const load = listed.loads.find((l) => l.files.includes(file));
  if (load === undefined) throw new Error(`no load of ${file} listed`);
  pending = first - 1;
  const r = await fetch(`${cluster.url}/ingest/${encodeURIComponent(load.loadId)}`, { method: "DELETE" });
  if (r.status !== 200) throw new Error(`unload: ${r.status} ${await r.text()}`);
  versions.push(first - 1);
  pending = null;
  nextId = first;
  appendGeneration++;
};
const isVersion = (n: number) => versions.includes(n) || n === pending;

const stats = {
  ops: {} as Record<string, number>,
  wrong: [] as string[],
  errors: [] as string[],
  appends: 0,
  unloads: 0,
  countMs: [] as number[],
  /** COUNT latencies of queries that overlapped an append (which may wait for its publish). */
  countMsDuringAppend: [] as number[],
};
/** Appends under way at some point of [t0, now]: counted by a generation number. */
let appendGeneration = 0;
const timeCount = (t0: number, gen0: number, pending0: boolean) => {
  const ms = performance.now() - t0;
  stats.countMs.push(ms);
  if (pending0 || pending !== null || gen0 !== appendGeneration) stats.countMsDuringAppend.push(ms);
};
const op = (k: string) => {
  stats.ops[k] = (stats.ops[k] ?? 0) + 1;
};
const wrong = (what: string) => stats.wrong.push(what);
const unexpected = (what: string, e: unknown) => {
  if (stats.errors.length < 50) stats.errors.push(`${what}: ${(e as Error).message}`);
};

const connOpts = () => ({ host: "127.0.0.1", port: cluster.mysqlPort, user: "qsmaster", database: "qsyn" });
const SCAN = "SELECT objectId FROM Obj";
/** Wider rows for the stalled readers: more than socket buffers hold. */
const WIDE = "SELECT objectId, ra, decl, flux FROM Obj";

/** Checks ids read by a full scan: exactly 1..n for a published n. */
const checkScan = (ids: number[], what: string) => {
  const n = ids.length;
  if (!isVersion(n)) return wrong(`${what}: ${n} rows, not a published version (${versions.join(",")})`);
  const seen = new Uint8Array(n + 1);
  for (const id of ids) {
    if (id < 1 || id > n || seen[id] === 1) return wrong(`${what}: id ${id} out of 1..${n} or repeated`);
    seen[id] = 1;
  }
};

/** A streaming mysql2 read of SCAN; `onFirst` decides what happens after the first row. */
const stream = (onFirst: (c: mysql.Connection) => void, sql = SCAN): Promise<{ ids: number[]; error: Error | null }> =>
  new Promise((resolve) => {
    const c = mysql.createConnection(connOpts());
    const ids: number[] = [];
    let settled = false;
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      c.destroy();
      resolve({ ids, error });
    };
    c.on("error", (e) => finish(e));
    c.on("end", () => finish(new Error("connection closed by the server")));
    const q = c.query({ sql, rowsAsArray: true });
    q.on("result", (row: unknown) => {
      ids.push(Number((row as unknown[])[0]));
      if (ids.length === 1) onFirst(c);
    });
    q.on("end", () => finish(null));
    q.on("error", (e) => finish(e));
  });

/** Running queries (idle connections, listed as Sleep, left out). */
const processlist = async (): Promise<unknown[][]> =>
  ((await postJson(`${cluster.url}/query`, { query: "SHOW PROCESSLIST" })).rows as unknown[][]).filter(
    (r) => r[4] === "Query",
  );

const actions: Array<[number, string, (rand: () => number) => Promise<void>]> = [
  [
    30,
    "count-mysql",
    async () => {
      const c = await mysqlPromise.createConnection({ ...connOpts(), rowsAsArray: true });
      try {
        const [t0, gen0, pending0] = [performance.now(), appendGeneration, pending !== null];
        const [rows] = (await c.query("SELECT COUNT(*), MAX(objectId) FROM Obj")) as unknown as [unknown[][]];
        timeCount(t0, gen0, pending0);
        const [n, max] = (rows[0] ?? []).map(Number);
        if (!isVersion(n ?? -1) || n !== max) wrong(`count-mysql: ${n}, max ${max}`);
      } finally {
        await c.end();
      }
    },
  ],
  [
    15,
    "count-http",
    async () => {
      const [t0, gen0, pending0] = [performance.now(), appendGeneration, pending !== null];
      const r = await postJson(`${cluster.url}/query`, { query: "SELECT COUNT(*) FROM Obj", database: "qsyn" });
      timeCount(t0, gen0, pending0);
      const n = Number((r.rows as unknown[][])[0]?.[0]);
      if (!isVersion(n)) wrong(`count-http: ${n}`);
    },
  ],
  [
    15,
    "full-read",
    async () => {
      const { ids, error } = await stream(() => {});
      if (error !== null) unexpected("full-read", error);
      else checkScan(ids, "full-read");
    },
  ],
  [
    10,
    "slow-read",
    async (rand) => {
      // Paused for less than the write timeout: the read completes, on the version it began on.
      const { ids, error } = await stream((c) => {
        c.pause();
        setTimeout(() => c.resume(), rand() * writeTimeoutS * 300);
      });
      if (error !== null) unexpected("slow-read", error);
      else checkScan(ids, "slow-read");
    },
  ],
  [
    8,
    "stalled",
    async () => {
      // Reads nothing until the czar has let it go (after the write timeout), then finds the connection closed.
      const { ids, error } = await stream((c) => {
        c.pause();
        const id = c.threadId as number;
        const until = Date.now() + (writeTimeoutS + 60) * 1000;
        void (async () => {
          for (;;) {
            const row = (await processlist()).find((r) => Number(r[0]) === id);
            if (row === undefined) break;
            if (Date.now() > until) {
              wrong(`stalled: query ${id} still listed ${writeTimeoutS + 60} s after its reader stopped (${row[6]})`);
              break;
            }
            await sleep(100);
          }
          c.resume();
        })().catch((e) => unexpected("stalled", e));
      }, WIDE);
      // A result that fit in the socket buffers is complete (and checked); others were cut off.
      if (error === null) {
        op("stalled: fit in buffers");
        checkScan(ids, "stalled");
      } else op("stalled: let go");
    },
  ],
  [
    8,
    "disconnect",
    async () => {
      const { error } = await stream((c) => c.destroy());
      if (error === null) wrong("disconnect: complete answer after a destroy");
    },
  ],
  [
    6,
    "http-stall",
    async (rand) => {
      const body = JSON.stringify({ query: "SELECT objectId, ra, decl, flux FROM Obj", database: "qsyn" });
      const { port } = new URL(cluster.url);
      const sock = net.connect(Number(port), "127.0.0.1");
      sock.on("error", () => {});
      sock.once("data", () => sock.pause());
      sock.write(
        `POST /query HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await sleep(rand() * writeTimeoutS * 2000);
      sock.destroy();
    },
  ],
];
const totalWeight = actions.reduce((a, [w]) => a + w, 0);
/** The action at `x` in [0, totalWeight) of the weights laid end to end. */
const pickAction = (x: number) => {
  let at = x;
  for (const a of actions) {
    if (at < a[0]) return a;
    at -= a[0];
  }
  return actions[0]!;
};

try {
  await append(Number(values.rows));
  const rssStart = rss();
  const end = Date.now() + seconds * 1000;
  const appender = (async () => {
    while (Date.now() < end) {
      await sleep(Number(values["append-every"]) * 1000);
      if (Date.now() >= end) break;
      try {
        const added = await append(Number(values["append-rows"]));
        stats.appends++;
        // Every third append is taken out again (its ids are appended anew next time).
        if (stats.appends % 3 === 0) {
          await sleep(Number(values["append-every"]) * 500);
          await unload(added.file, added.first);
          stats.unloads++;
        }
      } catch (e) {
        unexpected("append/unload", e);
      }
    }
  })();
  const rssSamples: number[] = [];
  const sampler = setInterval(() => rssSamples.push(rss()), 5000);
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const rand = prng(1000 + i);
      while (Date.now() < end) {
        const action = pickAction(rand() * totalWeight);
        op(action[1]);
        try {
          await action[2](rand);
        } catch (e) {
          unexpected(action[1], e);
        }
      }
    }),
  );
  await appender;
  clearInterval(sampler);
  // Clients are done: nothing may stay listed or running once the write timeout has passed.
  const settleBy = Date.now() + (writeTimeoutS + 30) * 1000;
  let left = await processlist();
  while (left.length > 0 && Date.now() < settleBy) {
    await sleep(200);
    left = await processlist();
  }
  const workers = cluster.workers.map((w) => new WorkerClient(w.address, cluster.secret));
  const workerQueries = (await Promise.all(workers.map((w) => w.status()))).map(
    (s) => s.queriesRunning + s.queriesQueued,
  );
  for (const w of workers) w.close();
  const spoolFiles = readdirSync(join(dir, "czar")).includes("spool") ? readdirSync(join(dir, "czar", "spool")) : [];
  const latency = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const pct = (p: number) =>
      Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)] ?? Number.NaN);
    return { n: sorted.length, p50: pct(0.5), p99: pct(0.99), max: Math.round(sorted.at(-1) ?? 0) };
  };
  const report = {
    seconds,
    clients,
    ops: stats.ops,
    appends: stats.appends,
    unloads: stats.unloads,
    finalRows: versions.at(-1),
    wrongAnswers: stats.wrong.length,
    wrong: stats.wrong.slice(0, 20),
    unexpectedErrors: stats.errors.length,
    errors: stats.errors.slice(0, 20),
    stuckQueriesAtEnd: left.length,
    workerQueriesAtEnd: workerQueries,
    spoolFilesAtEnd: spoolFiles.length,
    countLatencyMs: latency(stats.countMs),
    countLatencyDuringAppendMs: latency(stats.countMsDuringAppend),
    czarRssMb: {
      start: rssStart,
      end: rss(),
      max: Math.max(...rssSamples),
      // Highest per quarter of the run: flat when the last quarters are no higher than the first.
      byQuarter: [0, 1, 2, 3].map((q) =>
        Math.max(...rssSamples.slice((q * rssSamples.length) >> 2, ((q + 1) * rssSamples.length) >> 2), 0),
      ),
    },
  };
  writeFileSync(join(dir, "cluster.log"), logs.join(""));
  console.log(JSON.stringify(report, null, 2));
  process.exitCode = report.wrongAnswers + report.stuckQueriesAtEnd > 0 ? 1 : 0;
} finally {
  await cluster.stop();
}
