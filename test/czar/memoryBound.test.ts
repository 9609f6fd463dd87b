/**
 * Bounded memory on the czar (issue 23), on a real cluster (up(): czar + 2 workers, the demo
 * catalog): a large `POST /query` answer is streamed (chunked, equal to one SQLite database's
 * answer); a czar with a 64 MiB heap streams a 310 MiB answer, its peak RSS growing less than
 * 128 MiB (holding the answer whole would kill it); with a small
 * `--max-result-mb` every path refuses with TOO_LARGE — HTTP before the first byte (413) or by
 * cutting the body short after it, the MySQL port with an ERR packet, joins gathered and
 * composed on the czar — and the czar keeps answering.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type Database from "better-sqlite3";
import mysqlPromise from "mysql2/promise";
import { postJson } from "../../src/cli/httpClient.js";
import { DEMO_DATABASE, loadDemo } from "../../src/cluster/demo.js";
import { type UpCluster, up } from "../../src/cluster/up.js";
import { demoReference, expectedRows } from "../support/demo.js";
import { makeTempDir } from "../support/fs.js";
import { procStatus, resetPeak } from "../support/procStatus.js";
import { rowSet } from "../support/rows.js";

const OBJECTS = 5_000;
/** Bytes of padding per source row in the large answer (about 20k rows). */
const PAD = 16000;
/** Growth of the czar's peak RSS allowed while it streams that answer (8 MiB of it is the spool's memory). */
const BOUND = 128 * 2 ** 20;
/** The czar's V8 old-space limit (MiB) in that test: well under the answer's size. */
const HEAP_MB = 64;

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Bytes of body received. */
  bytes: number;
  /** The body's text, when kept. */
  text: string;
  /** Whether the body arrived whole (false: the server cut it short). */
  complete: boolean;
}

/** POSTs a query; the body is counted, and kept only when `keep`. */
function post(url: string, query: string, keep = true): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/query`, { method: "POST" }, (res) => {
      const parts: Buffer[] = [];
      let bytes = 0;
      res.on("data", (d: Buffer) => {
        bytes += d.length;
        if (keep) parts.push(d);
      });
      res.on("error", () => {}); // "aborted": seen as complete === false below
      res.on("close", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          bytes,
          text: Buffer.concat(parts).toString("utf8"),
          complete: res.complete,
        }),
      );
    });
    req.on("error", reject);
    req.end(JSON.stringify({ query, database: DEMO_DATABASE }));
  });
}

describe("czar memory bounds", () => {
  const dir = makeTempDir();
  let cluster: UpCluster;
  let ref: Database.Database;
  const start = (czarArgs: string[]) =>
    up({ dataDir: dir, workers: 2, replicas: 1, httpPort: 0, mysqlPort: 0, write: () => {}, czarArgs });

  before(async () => {
    cluster = await start([]);
    await loadDemo({ czarUrl: cluster.url, dataDir: join(dir, "demo"), objects: OBJECTS });
    ref = demoReference(join(dir, "demo"));
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
    ref?.close();
  });

  test("HTTP streams a large answer: the same rows as SQLite, czar RSS bounded", async (t) => {
    const sql = "SELECT * FROM Source";
    const r = await post(cluster.url, sql);
    assert.equal(r.status, 200, r.text.slice(0, 500));
    assert.ok(r.complete);
    assert.equal(r.headers["transfer-encoding"], "chunked", "a large answer is streamed");
    const a = JSON.parse(r.text) as { columns: Array<{ name: string }>; rows: unknown[][]; stats: { rows: number } };
    assert.deepEqual(Object.keys(a), ["columns", "rows", "stats"]);
    assert.equal(a.stats.rows, a.rows.length);
    assert.ok(a.rows.length > 15_000, `${a.rows.length} rows`);
    assert.deepEqual(rowSet(a.rows, false, 9), expectedRows(ref, sql));
    const small = await post(cluster.url, "SELECT COUNT(*) FROM Source");
    assert.equal(small.headers["content-length"], String(small.bytes), "a small answer goes whole");

    // The czar again with a heap of HEAP_MB (old space): holding the answer whole would kill it.
    // Its peak RSS (VmHWM, reset through clear_refs) is measured while the answer goes through.
    await cluster.stop();
    process.env.NODE_OPTIONS = `--max-old-space-size=${HEAP_MB}`;
    try {
      cluster = await start([]);
    } finally {
      delete process.env.NODE_OPTIONS;
    }
    const pid = cluster.node("czar").proc.pid as number;
    resetPeak(pid);
    const before = procStatus(pid, "VmRSS");
    const big = await post(cluster.url, `SELECT sourceId, REPEAT('x', ${PAD}) AS pad FROM Source`, false);
    assert.equal(big.status, 200);
    assert.ok(big.complete);
    assert.ok(big.bytes > a.rows.length * PAD, `${big.bytes} bytes`);
    const growth = procStatus(pid, "VmHWM") - before;
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    t.diagnostic(`answer ${mb(big.bytes)}; czar RSS ${mb(before)} before, peak growth ${mb(growth)}`);
    assert.ok(big.bytes > 2 * BOUND, `${mb(big.bytes)}: several times the bound`);
    assert.ok(growth < BOUND, `peak RSS grew ${mb(growth)} for an answer of ${mb(big.bytes)}`);
  });

  test("--max-result-mb 1: TOO_LARGE on HTTP, the MySQL port, gathered and composed joins", async () => {
    await cluster.stop();
    cluster = await start(["--max-result-mb", "1"]);
    const tooLarge = (r: Raw, q: string) => {
      assert.equal(r.status, 413, `${q}: ${r.text.slice(0, 300)}`);
      assert.equal((JSON.parse(r.text) as { error: { code: string } }).error.code, "TOO_LARGE", q);
    };
    // Merged (ORDER BY), gathered (a join with no ON), composed (derived tables): refused
    // before a byte is sent.
    for (const q of [
      "SELECT * FROM Source ORDER BY sourceId",
      "SELECT o.objectId, s.sourceId FROM Object o JOIN Source s",
      "SELECT a.sourceId, b.objectId FROM (SELECT sourceId FROM Source) a, (SELECT objectId FROM Object) b",
    ]) {
      tooLarge(await post(cluster.url, q), q);
    }
    // Streamed: the body started, then cut short with the error as its last member.
    const cut = await post(cluster.url, "SELECT * FROM Source");
    assert.equal(cut.status, 200);
    assert.equal(cut.complete, false, "the client sees an incomplete transfer");
    assert.match(cut.text, /\],"error":\{"code":"TOO_LARGE","message":"[^"]*limit of 1 MiB/);
    assert.doesNotMatch(cut.text, /"stats"/);
    assert.throws(() => JSON.parse(cut.text.slice(0, -1)));
    // The CLI's client (mini-qserv query) turns the cut answer into its error.
    await assert.rejects(
      postJson(`${cluster.url}/query`, { query: "SELECT * FROM Source", database: DEMO_DATABASE }),
      (e: Error & { code?: string }) => e.code === "TOO_LARGE" && /limit of 1 MiB/.test(e.message),
    );

    const c = await mysqlPromise.createConnection({
      host: "127.0.0.1",
      port: cluster.mysqlPort,
      user: "qsmaster",
      database: DEMO_DATABASE,
      rowsAsArray: true,
    });
    try {
      for (const q of ["SELECT * FROM Source", "SELECT o.objectId, s.sourceId FROM Object o JOIN Source s"]) {
        await assert.rejects(
          c.query(q),
          (e: Error & { errno?: number }) => e.errno === 1105 && /^TOO_LARGE: .*limit of 1 MiB/.test(e.message),
          q,
        );
      }
      // The connection and the czar still answer.
      const [rows] = (await c.query("SELECT COUNT(*) FROM Source")) as unknown as [unknown[][]];
      assert.deepEqual(rowSet(rows, false, 9), expectedRows(ref, "SELECT COUNT(*) FROM Source"));
    } finally {
      await c.end();
    }
    const one = await post(cluster.url, "SELECT 1");
    assert.equal(one.status, 200);
  });
});
