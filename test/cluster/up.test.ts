/**
 * `mini-qserv up` as users run it: the CLI starts a czar and workers, loads the demo catalog
 * once, answers like one SQLite database holding the same rows, stops on SIGINT and comes back
 * on the same data dir. And the supervised cluster (up()): a worker SIGKILLed in the middle of
 * a query changes nothing in the answer; it restarts and rejoins; with every replica of some
 * chunks gone the query fails naming them.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type Database from "better-sqlite3";
import { postJson } from "../../src/cli/httpClient.js";
import { loadDemo } from "../../src/cluster/demo.js";
import { type UpCluster, up } from "../../src/cluster/up.js";
import type { QservError } from "../../src/common/errors.js";
import { WorkerClient } from "../../src/worker/client.js";
import { TransferClient } from "../../src/worker/transferClient.js";
import { demoReference, expectedRows, referenceSql } from "../support/demo.js";
import { makeTempDir, tempDir } from "../support/fs.js";
import { rowSet } from "../support/rows.js";
import { startUp } from "../support/upProcess.js";
import { waitFor as waitForState } from "../support/waitFor.js";

const QUERIES = [
  "SELECT COUNT(*) FROM Object",
  "SELECT COUNT(*), SUM(objectId) FROM Source",
  "SELECT objectId, ra, decl FROM Object WHERE qserv_areaspec_circle(30, 10, 8)",
  "SELECT o.objectId, COUNT(*) FROM Object o JOIN Source s ON o.objectId = s.objectId WHERE qserv_areaspec_box(0, -20, 40, 20) GROUP BY o.objectId",
];

async function answer(url: string, sql: string): Promise<{ rows: string[]; chunks: number; retries: number }> {
  const r = await postJson(`${url}/query`, { query: sql, database: "demo" });
  const stats = r.stats as { chunks: number; retries: number };
  return { rows: rowSet(r.rows as unknown[][], false, 9), chunks: stats.chunks, retries: stats.retries };
}

function refused(address: string): Promise<boolean> {
  const [host, port] = address.split(":") as [string, string];
  return new Promise((resolve) => {
    const s = connect(Number(port), host);
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", () => resolve(true));
  });
}

describe("mini-qserv up (the CLI)", () => {
  const dir = tempDir();
  const where = ["--data-dir", dir, "--http-port", "0", "--mysql-port", "0"];
  const args = [...where, "--workers", "3", "--demo", "--demo-objects", "3000"];
  let ref: Database.Database;

  /** Every query of QUERIES answered as the reference answers it. */
  const answersMatch = async (url: string): Promise<void> => {
    for (const sql of QUERIES) {
      const want = expectedRows(ref, referenceSql(sql, sql.includes(" o ") ? "o." : ""));
      assert.deepEqual((await answer(url, sql)).rows, want, sql);
    }
  };

  before(async () => {
    const { proc, url, out } = await startUp(args);
    try {
      assert.match(out.join("\n"), /demo\.Object: 3000 rows/);
      ref = demoReference(join(dir, "demo"));
      await answersMatch(url);
    } finally {
      proc.kill("SIGINT");
      const [code] = await once(proc, "exit");
      assert.equal(code, 0, "Ctrl-C stops the cluster cleanly");
    }
  });
  after(() => ref?.close());

  test("SIGINT stopped every node; a restart on the same dir has the same cluster and data, loaded once", async () => {
    const workers = (
      JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8")) as { workers: Array<{ port: number }> }
    ).workers;
    assert.equal(workers.length, 3);
    for (const w of workers) assert.ok(await refused(`127.0.0.1:${w.port}`), `worker port ${w.port} is closed`);
    // No --workers this time: the data dir remembers 3. --ingest-root reaches the czar.
    const demo = join(dir, "demo");
    const { proc, url, out } = await startUp([...where, "--demo", "--ingest-root", demo]);
    try {
      assert.match(out.join("\n"), /the demo catalog is loaded already/);
      assert.match(out.join("\n"), new RegExp(workers.map((w) => `w\\d=127\\.0\\.0\\.1:${w.port}`).join(" ")));
      await answersMatch(url);
      const config = (f: string) => JSON.parse(readFileSync(join(demo, f), "utf8")) as unknown;
      const ingest = { database: config("database.json"), table: config("Object.json") };
      await assert.rejects(postJson(`${url}/ingest`, { ...ingest, files: ["/etc/hostname"] }), (e: QservError) => {
        assert.equal(e.code, "BAD_ARGUMENT");
        assert.match(e.message, /not under an ingest root of the czar/);
        return true;
      });
    } finally {
      proc.kill("SIGTERM");
      assert.equal((await once(proc, "exit"))[0], 0);
    }
  });
});

describe("a supervised cluster (up()): query management, losing workers", () => {
  // Removed after the cluster stopped (its workers write there until then).
  const dir = makeTempDir();
  const log: string[] = [];
  let cluster: UpCluster;
  let ref: Database.Database;
  const SCAN = "SELECT s.objectId, COUNT(*), MAX(s.psfFlux) FROM Source s GROUP BY s.objectId";

  before(async () => {
    cluster = await up({
      dataDir: dir,
      workers: 3,
      replicas: 2,
      httpPort: 0,
      restartDelayS: 3,
      write: (s) => log.push(s),
    });
    await loadDemo({ czarUrl: cluster.url, dataDir: join(dir, "demo"), objects: 10_000 });
    ref = demoReference(join(dir, "demo"));
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
    ref?.close();
  });

  /** Waits for a state (bounded generously, for a busy machine), the cluster's log in the failure. */
  const waitFor = async (what: () => boolean | Promise<boolean>) => {
    try {
      await waitForState("a cluster state", async () => ((await what()) ? true : undefined), 120_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}; log:\n${log.join("")}`);
    }
  };

  /** Resolves once the czar sees every worker up again (a restarted one takes a reconnect). */
  const allUp = () =>
    waitFor(async () => {
      const s = (await (await fetch(`${cluster.url}/status`)).json()) as { workers: Array<{ up: boolean }> };
      return s.workers.every((w) => w.up);
    });

  /** Resolves once SHOW PROCESSLIST lists `sql` with some chunks done, with its row. */
  const processOf = async (sql: string): Promise<Record<string, unknown>> => {
    let row: Record<string, unknown> | undefined;
    await waitFor(async () => {
      const r = await postJson(`${cluster.url}/query`, { query: "SHOW FULL PROCESSLIST" });
      const names = (r.columns as Array<{ name: string }>).map((c) => c.name);
      const rows = (r.rows as unknown[][]).map((x) => Object.fromEntries(names.map((n, i) => [n, x[i]])));
      row = rows.find((x) => x.Info === sql && /^[1-9]\d*\/\d+ chunks$/.test(String(x.State)));
      return row !== undefined;
    });
    return row as Record<string, unknown>;
  };
  /** Every worker idle: no chunk query left running anywhere. */
  const workersIdle = () =>
    waitFor(async () => {
      const statuses = await Promise.all(
        cluster.workers.map(async (w) => {
          const c = new WorkerClient(w.address, cluster.secret);
          try {
            return await c.status({ timeoutMs: 2000 });
          } finally {
            c.close();
          }
        }),
      );
      return statuses.every((s) => s.running.length === 0);
    });

  test("workers refuse every call without the cluster secret (UNAUTHENTICATED); with it they answer", async () => {
    const w = cluster.workers[0]!;
    for (const secret of [undefined, "not-the-cluster-secret-at-all"]) {
      const c = new WorkerClient(w.address, secret);
      try {
        await assert.rejects(c.status({ timeoutMs: 10_000 }), (e: QservError) => e.code === "UNAUTHENTICATED");
        await assert.rejects(c.list("demo", { timeoutMs: 10_000 }), (e: QservError) => e.code === "UNAUTHENTICATED");
        await assert.rejects(
          c.queryAll({ database: "demo", chunkId: -1, sql: "SELECT 1" }, { timeoutMs: 10_000 }),
          (e: QservError) => e.code === "UNAUTHENTICATED",
        );
      } finally {
        c.close();
      }
      const t = new TransferClient(w.address, secret);
      try {
        const held = new WorkerClient(w.address, cluster.secret);
        const chunk = (await held.list("demo")).databases[0]!.chunks[0]!;
        held.close();
        await assert.rejects(
          (async () => {
            for await (const _ of t.exportChunk("demo", chunk.chunkId, { timeoutMs: 10_000 })) {
              // nothing may come
            }
          })(),
          (e: QservError) => e.code === "UNAUTHENTICATED",
        );
      } finally {
        t.close();
      }
    }
    const ok = new WorkerClient(w.address, cluster.secret);
    try {
      assert.ok((await ok.status({ timeoutMs: 10_000 })).version.length > 0);
    } finally {
      ok.close();
    }
    // The file the nodes were given is private to its owner.
    assert.equal(statSync(join(dir, "cluster.secret")).mode & 0o077, 0);
  });

  test("SHOW PROCESSLIST shows a running query with its chunks done/total; KILL QUERY stops it everywhere", async () => {
    const running = answer(cluster.url, SCAN);
    const p = await processOf(SCAN);
    const [done, total] = String(p.State).split(/[/ ]/).map(Number) as [number, number];
    assert.ok(done > 0 && done < total, `${done}/${total}`);
    assert.equal(p.db, "demo");
    await postJson(`${cluster.url}/query`, { query: `KILL QUERY ${p.Id}` });
    await assert.rejects(running, (e: Error & { code?: string }) => {
      assert.equal(e.code, "CANCELLED");
      assert.match(e.message, new RegExp(`query ${p.Id} killed`));
      return true;
    });
    await workersIdle();
    const after = await postJson(`${cluster.url}/query`, { query: "SHOW PROCESSLIST" });
    assert.equal((after.rows as unknown[]).length, 0);
  });

  test("a per-query time limit; a client that goes away cancels its query", async () => {
    await assert.rejects(
      // 1 ms: below the czar's floor per query, so no machine is fast enough to answer within it.
      postJson(`${cluster.url}/query`, { query: SCAN, database: "demo", timeout: 0.001 }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "CANCELLED");
        assert.match(e.message, /exceeded its time limit of 1 ms/);
        return true;
      },
    );
    await workersIdle();
    const gone = new AbortController();
    const request = fetch(`${cluster.url}/query`, {
      method: "POST",
      body: JSON.stringify({ query: SCAN, database: "demo" }),
      signal: gone.signal,
    });
    await processOf(SCAN);
    gone.abort();
    await assert.rejects(request);
    await waitFor(async () => {
      const r = await postJson(`${cluster.url}/query`, { query: "SHOW PROCESSLIST" });
      return (r.rows as unknown[]).length === 0;
    });
    await workersIdle();
  });

  test("a worker SIGSTOPped: answers stay exact (late chunks hedged on replicas), the monitor marks it down", async (t) => {
    const wants = QUERIES.map((q) => expectedRows(ref, referenceSql(q, q.includes(" o ") ? "o." : "")));
    const victim = cluster.node("w3");
    const times: number[] = [];
    victim.proc.kill("SIGSTOP");
    try {
      for (let round = 0; round < 4; round++) {
        for (const [i, q] of QUERIES.entries()) {
          const t0 = performance.now();
          const got = await answer(cluster.url, q);
          times.push(performance.now() - t0);
          assert.deepEqual(got.rows, wants[i], `${q} with w3 stopped`);
        }
      }
      await waitFor(async () => {
        const s = (await (await fetch(`${cluster.url}/status`)).json()) as {
          workers: Array<{ id: string; up: boolean }>;
        };
        return s.workers.find((w) => w.id === "w3")?.up === false;
      });
    } finally {
      victim.proc.kill("SIGCONT");
    }
    await allUp();
    const sorted = [...times].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
    t.diagnostic(
      `${times.length} queries with w3 stopped: p50 ${pct(50).toFixed(0)} ms, p99 ${pct(99).toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`,
    );
  });

  test("a worker SIGKILLed mid-query: the same rows, retried on replicas; it restarts and rejoins", async (t) => {
    const want = expectedRows(ref, SCAN);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      assert.deepEqual((await answer(cluster.url, SCAN)).rows, want);
      times.push(performance.now() - t0);
    }
    const victim = cluster.node("w2");
    let t0 = 0;
    let running: ReturnType<typeof answer> | null = null;
    // Kill once a query is under way: some of its chunks done, not all. A query that finishes
    // before that state was seen (a fast machine) is asked again.
    for (let attempt = 0; running === null; attempt++) {
      assert.ok(attempt < 20, "never saw the scan with some but not all chunks done");
      t0 = performance.now();
      const q = answer(cluster.url, SCAN);
      let settled = false;
      q.then(
        () => (settled = true),
        () => (settled = true),
      );
      let midway = false;
      await waitFor(async () => {
        const s = (await (await fetch(`${cluster.url}/status`)).json()) as {
          queries: Array<{ chunksDone: number; chunksTotal: number }>;
        };
        const p = s.queries[0];
        midway = p !== undefined && p.chunksDone > 0 && p.chunksDone < p.chunksTotal;
        return midway || settled;
      });
      if (midway) {
        victim.proc.kill("SIGKILL");
        running = q;
      } else await q;
    }
    const got = await running;
    const failed = performance.now() - t0;
    assert.deepEqual(got.rows, want, "identical to the answer without failure");
    assert.ok(got.retries > 0, "w2's chunks were retried");
    const base = [...times].sort((a, b) => a - b)[1] as number;
    t.diagnostic(`full scan: ${base.toFixed(0)} ms; with w2 killed midway: ${failed.toFixed(0)} ms`);

    await waitFor(() => log.some((l) => l.includes("w2 is back")));
    await allUp();
    // w1 down now: chunks held by w1 and w2 can only come from the rejoined w2.
    cluster.node("w1").proc.kill("SIGKILL");
    assert.deepEqual((await answer(cluster.url, SCAN)).rows, want);
    await waitFor(() => log.some((l) => l.includes("w1 is back")));
  });

  test("every replica of some chunks gone: the query fails naming the chunks", async () => {
    cluster.node("w1").proc.kill("SIGKILL");
    cluster.node("w3").proc.kill("SIGKILL");
    await assert.rejects(answer(cluster.url, SCAN), (e: Error & { code?: string }) => {
      assert.equal(e.code, "UNAVAILABLE");
      assert.match(e.message, /no replica answered for chunks \d+, \d+/);
      assert.match(e.message, /workers down: w1, w3/);
      return true;
    });
    await waitFor(() => log.filter((l) => / is back/.test(l)).length >= 4);
    await allUp();
    assert.deepEqual((await answer(cluster.url, SCAN)).rows, expectedRows(ref, SCAN));
  });
});
