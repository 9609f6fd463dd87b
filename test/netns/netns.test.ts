/**
 * A cluster across network namespaces (test/support/netns.ts): a czar and three workers (R = 2),
 * each in its own namespace, talking over veths and a bridge; w3 is reached through a TCP proxy
 * on the host (test/support/chaosProxy.ts). Answers are checked against one SQLite database
 * holding the same rows: exact across the real interfaces; with a worker's link cut mid-query
 * (exact or UNAVAILABLE, then the worker serves again once its link is back); with a link cut
 * mid-ingest (all in or all out, no stage left after gc, a retry loads it once); over a slow,
 * lossy link (exact or UNAVAILABLE, nothing doubled; an append over it all in or all out). Skipped with the reason where namespaces
 * cannot be made. Prints the numbers as one `netns report` JSON line.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { tableDialect } from "../../src/common/ingestConfig.js";
import { WorkerClient } from "../../src/worker/client.js";
import { ChaosProxy } from "../support/chaosProxy.js";
import { tempDir } from "../support/fs.js";
import { NetnsNet, netnsUnavailable } from "../support/netns.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { rowSet } from "../support/rows.js";
import { SYN_DATABASE_JSON, SYN_TABLE_JSON, synDatabase, synTable, writeObjects } from "../support/synthetic.js";
import { waitFor } from "../support/waitFor.js";

const SKIP = netnsUnavailable() ?? false;
const PORT = "7001";
/** MINI_QSERV_SOAK=1 (`npm run soak:netns`): more link cuts and more rounds over the lossy link. */
const SOAK = process.env.MINI_QSERV_SOAK === "1";
const CUTS = SOAK ? 10 : 1;
const LOSSY_ROUNDS = SOAK ? 60 : 8;

/** Queries whose answers are checked; reals compared to 9 significant digits. */
const QUERIES = [
  "SELECT COUNT(*), SUM(objectId) FROM Obj",
  "SELECT objectId, ra, decl, flux FROM Obj WHERE flux > 995",
  "SELECT COUNT(*) FROM Obj WHERE scisql_s2PtInCircle(ra, decl, 5, 0, 2) = 1",
  "SELECT chunkId, COUNT(*), MAX(flux) FROM Obj GROUP BY chunkId",
  "SELECT * FROM Obj WHERE objectId = 1234",
  "SELECT MIN(flux), MAX(flux), SUM(flux) FROM Obj WHERE decl > 0",
];

type Outcome = { ok: true; rows: unknown[][] } | { ok: false; code: string; message: string };

interface Tally {
  queries: number;
  exact: number;
  wrong: number;
  errors: Record<string, number>;
  ms: number[];
}

const tally = (): Tally => ({ queries: 0, exact: 0, wrong: 0, errors: {}, ms: [] });

const pct = (ms: number[], p: number): number => {
  const s = [...ms].sort((a, b) => a - b);
  return s.length === 0 ? 0 : Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number);
};

describe("a cluster across network namespaces (3 workers, R = 2)", { skip: SKIP }, () => {
  const dir = tempDir();
  let net: NetnsNet;
  let proxy: ChaosProxy;
  let url = "";
  let auth = "";
  let secret = "";
  const files = [0, 1, 2].map((i) => join(dir, `Obj.part${i}.csv`));
  /** refs[n]: the table once parts 0..n-1 are loaded. */
  const refs: Database.Database[] = [];
  let loaded = 1;
  const tallies = new Map<string, Tally>();
  const clients: WorkerClient[] = [];

  const post = async (path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await fetch(`${url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: auth },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  const run = async (sql: string): Promise<Outcome> => {
    let r: { status: number; body: Record<string, unknown> };
    try {
      r = await post("/query", { query: sql, database: "qsyn" });
    } catch (e) {
      return { ok: false, code: "NO_ANSWER", message: (e as Error).message };
    }
    if (r.status === 200) return { ok: true, rows: r.body.rows as unknown[][] };
    const err = r.body.error as { code?: string; message?: string } | undefined;
    return { ok: false, code: err?.code ?? `HTTP_${r.status}`, message: err?.message ?? JSON.stringify(r.body) };
  };

  /** Runs a query, checks it against the reference and counts it under `scenario`. */
  const check = async (scenario: string, sql: string): Promise<Outcome> => {
    const t = tallies.get(scenario) ?? tally();
    tallies.set(scenario, t);
    const start = performance.now();
    const o = await run(sql);
    t.ms.push(performance.now() - start);
    t.queries++;
    if (o.ok) {
      const want = rowSet(refs[loaded]!.prepare(sql).raw().all() as unknown[][], false, 9);
      const same = JSON.stringify(rowSet(o.rows, false, 9)) === JSON.stringify(want);
      if (same) t.exact++;
      else t.wrong++;
      assert.ok(same, `${scenario}: wrong answer to ${sql}`);
    } else {
      t.errors[o.code] = (t.errors[o.code] ?? 0) + 1;
      assert.ok(o.code === "UNAVAILABLE" && o.message.length > 0, `${scenario}: ${sql}: ${o.code} ${o.message}`);
    }
    return o;
  };

  const workerUp = async (id: string): Promise<boolean> => {
    const s = await post("/status");
    return (s.body.workers as Array<{ id: string; up: boolean }>).find((w) => w.id === id)?.up === true;
  };
  const waitWorker = (id: string, up: boolean) =>
    waitFor(
      `${id} marked ${up ? "up" : "down"}`,
      async () => ((await workerUp(id)) === up ? true : undefined),
      120_000,
    );

  /** Whether any worker holds a stage of qsyn (asked from the host, over the test network). */
  const stages = async (): Promise<number> => {
    let n = 0;
    for (const c of clients) n += (await c.list("qsyn")).databases[0]?.staged.length ?? 0;
    return n;
  };

  const ingestBody = (file: string, progress: boolean) => ({
    database: SYN_DATABASE_JSON,
    table: SYN_TABLE_JSON,
    files: [file],
    ...(progress ? { progress: true } : {}),
  });

  before(async () => {
    net = new NetnsNet(["czar", "w1", "w2", "w3"]);
    secret = randomBytes(32).toString("hex");
    const password = randomBytes(12).toString("hex");
    writeFileSync(join(dir, "cluster.secret"), secret, { mode: 0o600 });
    writeFileSync(join(dir, "password"), password, { mode: 0o600 });
    auth = `Basic ${Buffer.from(`qsmaster:${password}`).toString("base64")}`;
    const secretArgs = ["--secret-file", join(dir, "cluster.secret")];
    await Promise.all(
      ["w1", "w2", "w3"].map((w) =>
        net.start(
          w,
          [
            "worker",
            "--host",
            net.node(w).addr,
            "--port",
            PORT,
            "--data-dir",
            join(dir, w),
            "--threads",
            "1",
            ...secretArgs,
          ],
          "worker listening",
          { keepLogs: false },
        ),
      ),
    );
    for (const w of ["w1", "w2", "w3"]) clients.push(new WorkerClient(`${net.node(w).addr}:${PORT}`, secret));
    proxy = await ChaosProxy.start(
      net.hostAddr,
      { host: net.node("w3").addr, port: Number(PORT) },
      {
        maxDelayMs: 30,
        dropRate: 0.01,
        seed: 21,
      },
    );
    const c = net.node("czar");
    await net.start(
      "czar",
      [
        "czar",
        "--data-dir",
        join(dir, "czar"),
        "--host",
        c.addr,
        "--http-port",
        "8080",
        "--mysql-port",
        "4040",
        "--worker",
        `w1=${net.node("w1").addr}:${PORT}`,
        "--worker",
        `w2=${net.node("w2").addr}:${PORT}`,
        "--worker",
        `w3=${proxy.address}`,
        "--replicas",
        "2",
        "--health-interval",
        "1",
        "--repair-interval",
        "0",
        "--gc-interval",
        "0",
        "--ingest-root",
        dir,
        "--mysql-password-file",
        join(dir, "password"),
        ...secretArgs,
      ],
      "czar listening",
      { keepLogs: false },
    );
    url = `http://${c.addr}:8080`;
    writeObjects(files[0]!, 1, 20_000);
    writeObjects(files[1]!, 100_001, 20_000);
    writeObjects(files[2]!, 200_001, 5_000);
    /** refs[n] holds parts 0..n-1: one file of them each. */
    const upTo = (n: number): string => {
      const f = join(dir, `Obj.upto${n}.csv`);
      writeFileSync(
        f,
        files
          .slice(0, n)
          .map((p) => readFileSync(p, "utf8"))
          .join(""),
      );
      return f;
    };
    const d = synDatabase();
    const stripes = { numStripes: d.numStripes, numSubStripes: d.numSubStripes };
    refs.push(referenceDb());
    for (const f of [upTo(1), upTo(2), upTo(3)]) {
      const db = referenceDb();
      loadReference(db, f, synTable(), tableDialect(synTable(), f), stripes);
      refs.push(db);
    }
    const r = await post("/ingest", ingestBody(files[0]!, false));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.tableRows, 20_000);
  });

  after(async () => {
    for (const c of clients) c.close();
    await proxy?.stop();
    await net?.destroy();
    for (const r of refs) r.close();
    const report = Object.fromEntries(
      [...tallies].map(([k, t]) => [
        k,
        {
          queries: t.queries,
          exact: t.exact,
          wrong: t.wrong,
          errors: t.errors,
          p50ms: pct(t.ms, 50),
          p99ms: pct(t.ms, 99),
        },
      ]),
    );
    console.log(
      `netns report ${JSON.stringify({ ...report, proxy: { connections: proxy?.connections, cut: proxy?.dropped } })}`,
    );
  });

  test("queries are exact across the real interfaces", async () => {
    for (let round = 0; round < 3; round++)
      for (const sql of QUERIES) {
        const o = await check("exact", sql);
        assert.ok(o.ok, "no error on a whole network");
      }
  });

  test("a worker's link cut mid-query: exact or UNAVAILABLE; once back, the worker serves again", async () => {
    let done = 0;
    let stop = false;
    let failed: unknown = null;
    const runner = (async () => {
      for (let i = 0; !stop; i++) {
        await check("link cut mid-query", QUERIES[i % QUERIES.length]!);
        done++;
      }
    })().catch((e: unknown) => {
      failed = e;
    });
    /** Whether `n` queries are done (and none failed its check). */
    const reached = async (n: number) => {
      if (failed !== null) throw failed;
      return done >= n ? true : undefined;
    };
    for (let cut = 0; cut < CUTS; cut++) {
      const from = done;
      await waitFor("queries before the cut", () => reached(from + 2));
      net.link("w1", "down");
      await waitWorker("w1", false);
      const cutAt = done;
      await waitFor("queries with the link cut", () => reached(cutAt + QUERIES.length), 300_000);
      net.link("w1", "up");
      await waitWorker("w1", true);
    }
    stop = true;
    await runner;
    if (failed !== null) throw failed;
    // Chunks only w1 and w2 hold: with w2 cut off, w1 must serve them.
    const db = new Database(join(dir, "czar", "czar.sqlite"), { readonly: true });
    const shared = db
      .prepare(
        `SELECT chunk_id FROM replicas WHERE db = 'qsyn' AND chunk_id >= 0 GROUP BY chunk_id
         HAVING SUM(worker_id = 'w1') = 1 AND SUM(worker_id = 'w2') = 1`,
      )
      .all();
    db.close();
    assert.ok(shared.length > 0, "some chunk lives on w1 and w2 only");
    net.link("w2", "down");
    await waitWorker("w2", false);
    for (const sql of QUERIES) {
      const o = await check("w1 back, w2 cut", sql);
      assert.ok(o.ok, `w1 serves its chunks again: ${JSON.stringify(o)}`);
    }
    net.link("w2", "up");
    await waitWorker("w2", true);
  });

  test("a link cut mid-ingest: all in or all out, no stage left after gc, a retry loads it once", async () => {
    const r = await fetch(`${url}/ingest`, {
      method: "POST",
      headers: { authorization: auth },
      body: JSON.stringify(ingestBody(files[1]!, true)),
    });
    const reader = r.body!.getReader();
    let text = "";
    let cut = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString("utf8");
      if (!cut && text.includes('"phase":"upload"')) {
        net.link("w2", "down");
        cut = true;
        await waitWorker("w2", false);
        net.link("w2", "up");
      }
    }
    assert.ok(cut, `the ingest never reached its upload: ${text}`);
    const last = JSON.parse(text.trim().split("\n").pop()!) as { result?: { tableRows: number }; error?: unknown };
    await waitWorker("w2", true);
    const gc = await post("/gc", {});
    assert.equal(gc.status, 200, JSON.stringify(gc.body));
    assert.equal(await stages(), 0, "stages left after gc");
    loaded = last.result === undefined ? 1 : 2;
    console.log(
      `netns ingest with w2 cut: ${last.result === undefined ? `all out (${JSON.stringify(last.error)})` : "all in"}`,
    );
    if (last.result !== undefined) assert.equal(last.result.tableRows, 40_000);
    for (const sql of QUERIES) assert.ok((await check("link cut mid-ingest", sql)).ok);
    const again = await post("/ingest", ingestBody(files[1]!, false));
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.tableRows, 40_000, "the retry loads it once");
    loaded = 2;
    for (const sql of QUERIES) assert.ok((await check("link cut mid-ingest", sql)).ok);
  });

  test("a slow, lossy link to w3 (delays, dropped connections): exact or UNAVAILABLE, nothing doubled", async () => {
    proxy.chaos = true;
    const before = proxy.dropped;
    for (let round = 0; round < LOSSY_ROUNDS || proxy.dropped === before; round++) {
      for (const sql of QUERIES) await check("slow lossy link", sql);
      assert.ok(round < LOSSY_ROUNDS + 40, "the proxy never cut a connection");
    }
    // An append over the lossy link: all in or all out, then a retry on a good link loads it once.
    const r = await post("/ingest", ingestBody(files[2]!, false));
    const err = r.body.error as { code: string; message: string } | undefined;
    console.log(
      `netns ingest over the lossy link: ${r.status === 200 ? "all in" : `all out (${JSON.stringify(err)})`}`,
    );
    if (r.status === 200) {
      assert.equal(r.body.tableRows, 45_000);
      loaded = 3;
    } else assert.ok(err !== undefined && err.code !== "INTERNAL" && err.message.length > 0, JSON.stringify(r.body));
    for (const sql of QUERIES) await check("slow lossy link", sql);
    proxy.chaos = false;
    await waitWorker("w3", true);
    const gc = await post("/gc", {});
    assert.equal(gc.status, 200, JSON.stringify(gc.body));
    assert.equal(await stages(), 0, "stages left after gc");
    const again = await post("/ingest", ingestBody(files[2]!, false));
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.tableRows, 45_000, "the retry loads it once");
    assert.equal(again.body.duplicate, r.status === 200);
    loaded = 3;
    for (const sql of QUERIES) assert.ok((await check("after the lossy link", sql)).ok);
  });
});
