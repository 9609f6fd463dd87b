import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { isQservError } from "../../src/common/errors.js";
import { WorkerClient } from "../../src/worker/client.js";
import type { StatusResponse } from "../../src/worker/messages.js";
import { tempDir } from "../support/fs.js";
import { idXHeader } from "../support/loads.js";
import { ROOT } from "../support/paths.js";
import { waitFor } from "../support/waitFor.js";

const DB = "exec";
const CHUNK = 100;
/**
 * Rows without end, and a long scan that yields no row until it is done (finite: a thread inside
 * a SQLite step cannot be interrupted, only abandoned until the step ends), and one that never
 * ends (for a worker that is stopping: its threads go with the process).
 */
const ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x, x * 0.5 FROM c";
const SILENT =
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) SELECT count(*) FROM c";
const SILENT_ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

const header = (loadId: string, chunkId: number) => idXHeader(loadId, DB, "T", chunkId);

/** Asks status until `ok` holds (status keeps answering throughout). */
function until(client: WorkerClient, ok: (s: StatusResponse) => boolean, what: string): Promise<StatusResponse> {
  return waitFor(what, async () => {
    const s = await client.status();
    return ok(s) ? s : undefined;
  });
}

describe("worker execution control", () => {
  const dir = tempDir();
  let w: WorkerProcess;
  let client: WorkerClient;

  before(async () => {
    w = await startWorkerProcess(join(dir, "data"), ["--threads", "2"]);
    client = new WorkerClient(w.address);
    const rows = Buffer.from(Array.from({ length: 1000 }, (_, i) => `${i},${i * 1.5}\n`).join(""));
    await client.load(header("t-1", CHUNK), [{ part: "ROWS", data: rows }]);
  });
  after(() => client?.close());

  test("status answers during a scan that yields nothing, and cancelling stops it", async () => {
    const ac = new AbortController();
    const q = client.queryAll(
      { database: DB, chunkId: CHUNK, sql: SILENT, queryId: "silent-1" },
      { signal: ac.signal },
    );
    const s = await until(client, (st) => st.queriesRunning === 1, "the scan to run");
    assert.deepEqual(
      s.running.map((r) => [r.queryId, r.chunkId]),
      [["silent-1", CHUNK]],
    );
    ac.abort();
    await assert.rejects(q, (e: unknown) => isQservError(e) && e.code === "CANCELLED");
    await until(client, (st) => st.queriesRunning === 0 && st.running.length === 0, "the scan to stop");
    const after = await client.queryAll({ database: DB, chunkId: CHUNK, sql: `SELECT count(*) FROM T_${CHUNK}` });
    assert.deepEqual(after.rows, [[1000n]]);
  });

  test("leaving a streaming result early cancels the scan on the worker", async () => {
    let batches = 0;
    for await (const ev of client.query({ database: DB, chunkId: CHUNK, sql: ENDLESS, maxBatchRows: 1000 })) {
      if (ev.kind === "rows") {
        assert.equal(ev.rows[0]?.[0], BigInt(batches * 1000 + 1));
        if (++batches === 3) break;
      }
    }
    await until(client, (st) => st.queriesRunning === 0, "the scan to stop");
  });

  test("a slow reader holds the scan back instead of filling the worker's memory", async () => {
    const it = client.query({ database: DB, chunkId: CHUNK, sql: ENDLESS, maxBatchRows: 100, queryId: "slow" });
    await it.next(); // header
    await it.next(); // first batch
    // The reader stalls: the scan must come to a stop (an unthrottled one never does), well short of 100k rows.
    const sentNow = async () => (await client.status()).running.find((r) => r.queryId === "slow")?.rowsSent ?? -1;
    let last = -1;
    const sent = await waitFor("the scan to stop while its reader stalls", async () => {
      const now = await sentNow();
      const same = now > 0 && now === last;
      last = now;
      return same && (await sentNow()) === now ? now : undefined;
    });
    assert.ok(sent > 0 && sent < 100_000, `rows sent while the reader stalled: ${sent}`);
    for (let i = 0; i < 300; i++) await it.next();
    const resumed = await client.status();
    assert.ok((resumed.running.find((r) => r.queryId === "slow")?.rowsSent ?? 0) > sent);
    await it.return(undefined);
    await until(client, (st) => st.queriesRunning === 0, "the scan to stop");
  });

  test("queries beyond the thread count wait in the queue", async () => {
    const acs = [new AbortController(), new AbortController(), new AbortController()];
    const qs = acs.map((ac) =>
      client.queryAll({ database: DB, chunkId: CHUNK, sql: SILENT }, { signal: ac.signal }).catch((e: unknown) => e),
    );
    await until(client, (st) => st.queriesRunning === 2 && st.queriesQueued === 1, "two running, one queued");
    for (const ac of acs) ac.abort();
    for (const e of await Promise.all(qs)) assert.ok(isQservError(e) && e.code === "CANCELLED");
    await until(client, (st) => st.queriesRunning === 0 && st.queriesQueued === 0, "all stopped");
  });

  test("a load whose client is killed midway leaves nothing behind", async () => {
    const child = spawn(
      process.execPath,
      [join(ROOT, "dist/test/support/slowLoad.js"), w.address, DB, "T", "100", "200"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    await once(child.stdout!, "data");
    await until(client, (st) => st.loadsRunning === 2, "both loads under way");
    child.kill("SIGKILL");
    await until(client, (st) => st.loadsRunning === 0, "the loads to be rolled back");
    const held = (await client.list(DB)).databases[0]!;
    assert.deepEqual(
      held.chunks.map((c) => [c.chunkId, c.tables]),
      [[CHUNK, [{ table: "T", rows: 1000, overlapRows: 0 }]]],
    );
    const r = await client.queryAll({ database: DB, chunkId: CHUNK, sql: `SELECT count(*), max(id) FROM T_${CHUNK}` });
    assert.deepEqual(r.rows, [[1000n, 999n]]);
    await assert.rejects(client.queryAll({ database: DB, chunkId: 200, sql: "SELECT 1" }), /holds no chunk 200/);
  });

  /** The suite's worker stopped (threads abandoned by earlier tests may still be in a SQLite step), a fresh one on its data. */
  const freshWorker = async (): Promise<WorkerProcess> => {
    await w.stop("SIGTERM");
    w = await startWorkerProcess(join(dir, "data"), ["--threads", "1"]);
    client.close();
    client = new WorkerClient(w.address);
    return w;
  };

  test("SIGTERM while an endless scan streams: the scan is cancelled and the worker exits 0", async () => {
    const fresh = await freshWorker();
    const it = client.query({ database: DB, chunkId: CHUNK, sql: ENDLESS, maxBatchRows: 100 });
    await it.next(); // header: the scan runs; it never ends by itself
    await until(client, (st) => st.queriesRunning === 1, "the scan to run");
    const drained = (async () => {
      try {
        for (;;) if ((await it.next()).done) return "ended";
      } catch (e) {
        return e;
      }
    })();
    assert.equal(await fresh.stop("SIGTERM"), 0);
    assert.ok(isQservError(await drained));
    assert.ok(fresh.logs.some((l) => l.msg === "worker stopped" && l.stuckThreads === 0));
  });

  test("SIGTERM while an endless scan that yields nothing runs: the worker ends instead of hanging", async () => {
    const fresh = await freshWorker();
    const q = client.queryAll({ database: DB, chunkId: CHUNK, sql: SILENT_ENDLESS }).catch((e: unknown) => e);
    await until(client, (st) => st.queriesRunning === 1, "the scan to run");
    assert.equal(await fresh.stop("SIGTERM"), null);
    assert.equal(fresh.proc.signalCode, "SIGKILL", "a thread inside a SQLite step: the process ends itself");
    assert.ok(isQservError(await q));
    // Its last lines may still be in the pipe when 'exit' comes: wait for them, not for a time.
    await waitFor("the worker's 'worker stopped' line naming the stuck thread", async () =>
      fresh.logs.some((l) => l.msg === "worker stopped" && (l.stuckThreads as number) >= 1) ? true : undefined,
    );
  });
});
