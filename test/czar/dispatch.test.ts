/** Dispatch over a fake directory: replicas known down are tried last. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { QservError } from "../../src/common/errors.js";
import { dispatch, type WorkerDirectory } from "../../src/czar/exec/dispatch.js";
import type { QueryEvent } from "../../src/worker/client.js";

function directory(down: ReadonlySet<string>, asked: string[]): WorkerDirectory {
  return {
    replicas: () => ["a", "b", "c"],
    isDown: (id) => down.has(id),
    client: (id) => ({
      async *query(): AsyncGenerator<QueryEvent> {
        asked.push(id);
        if (down.has(id)) throw new QservError("UNAVAILABLE", `${id} is down`);
        yield { kind: "rows", rows: [[id]] };
      },
    }),
  };
}

const options = {
  queryId: "q",
  concurrency: 4,
  attemptTimeoutMs: 1000,
  maxAttempts: 3,
  signal: new AbortController().signal,
};
const jobs = [0, 1, 2, 3, 4, 5].map((chunkId) => ({ chunkId, subChunkIds: [], sql: "SELECT 1" }));

test("jobs spread over the replicas that are up; a down one is never asked while another is up", async () => {
  const asked: string[] = [];
  const stats = await dispatch("db", jobs, directory(new Set(["b"]), asked), options, () => true);
  assert.equal(stats.retries, 0);
  assert.deepEqual([...new Set(asked)].sort(), ["a", "c"]);
});

test("when every replica is known down, they are still tried in turn", async () => {
  const asked: string[] = [];
  await assert.rejects(
    dispatch("db", jobs.slice(0, 1), directory(new Set(["a", "b", "c"]), asked), options, () => true),
    /no replica answered for chunk 0 of db; workers down: a, b, c/,
  );
  assert.deepEqual(asked, ["a", "b", "c"]);
});

/**
 * A fake worker that answers batches like the real one (rows, then chunkDone per chunk) and can
 * be told to fail: `failAt(worker, chunkId)` gives the error to throw when it reaches that chunk.
 */
function batchingDirectory(
  replicas: (chunkId: number) => string[],
  calls: Array<{ worker: string; chunks: number[] }>,
  failAt: (worker: string, chunkId: number) => QservError | null = () => null,
): WorkerDirectory {
  return {
    replicas: (_db, chunkId) => replicas(chunkId),
    client: (worker) => ({
      async *query(spec): AsyncGenerator<QueryEvent> {
        const parts = (spec.chunks?.length ?? 0) > 0 ? spec.chunks! : [spec];
        calls.push({ worker, chunks: parts.map((p) => p.chunkId) });
        for (const p of parts) {
          const err = failAt(worker, p.chunkId);
          if (err !== null) throw err;
          yield { kind: "rows", rows: [[p.chunkId, worker]] };
          if ((spec.chunks?.length ?? 0) > 0) yield { kind: "chunkDone", chunkId: p.chunkId, rows: 1 };
        }
      },
    }),
  };
}

const many = Array.from({ length: 200 }, (_, chunkId) => ({ chunkId, subChunkIds: [], sql: "SELECT 1" }));

/** Runs `jobs` and returns, per chunk, the workers whose rows reached the sink. */
async function gathered(dir: WorkerDirectory, list = many, o = options): Promise<Map<number, string[]>> {
  const got = new Map<number, string[]>();
  await dispatch("db", list, dir, o, (rows, job) => {
    for (const r of rows) {
      assert.equal(r[0], job.chunkId, "rows handed on with their own job");
      got.set(job.chunkId, [...(got.get(job.chunkId) ?? []), r[1] as string]);
    }
    return true;
  });
  return got;
}

test("many jobs go to each worker in batches; every chunk's rows arrive once", async () => {
  const calls: Array<{ worker: string; chunks: number[] }> = [];
  const got = await gathered(batchingDirectory((c) => (c % 2 === 0 ? ["a", "b"] : ["b", "a"]), calls));
  assert.equal(got.size, many.length);
  for (const [, w] of got) assert.equal(w.length, 1);
  assert.ok(calls.length < many.length / 4, `${calls.length} calls for ${many.length} chunks`);
  assert.ok(calls.every((c) => c.chunks.length <= 32));
  // A batch only holds chunks that worker has.
  for (const c of calls)
    for (const id of c.chunks) assert.ok((id % 2 === 0 ? ["a", "b"] : ["b", "a"]).includes(c.worker));
});

test("a worker dying mid-batch: the chunks it finished are kept, the rest move to the other replica", async () => {
  const calls: Array<{ worker: string; chunks: number[] }> = [];
  let dead = false;
  const got = await gathered(
    batchingDirectory(
      () => ["a", "b"],
      calls,
      (worker, chunkId) => {
        if (worker === "a" && (dead || chunkId === 50)) {
          dead = true;
          return new QservError("UNAVAILABLE", "a died");
        }
        return null;
      },
    ),
  );
  assert.equal(got.size, many.length);
  for (const [id, w] of got) assert.equal(w.length, 1, `chunk ${id} answered ${w.length} times`);
  assert.ok(
    [...got.values()].some((w) => w[0] === "a"),
    "chunks a finished before dying were kept",
  );
  assert.equal(got.get(50)?.[0], "b");
});

test("a chunk one worker lacks moves on alone; the rest of its batch stays with that worker", async () => {
  const calls: Array<{ worker: string; chunks: number[] }> = [];
  const got = await gathered(
    batchingDirectory(
      () => ["a", "b"],
      calls,
      (worker, chunkId) => (worker === "a" && chunkId === 8 ? new QservError("NOT_FOUND", "no chunk 8 here") : null),
    ),
  );
  assert.equal(got.size, many.length);
  assert.deepEqual(got.get(8), ["b"]);
  // Jobs start on replica (chunkId mod 2): every other chunk answered where it started.
  const moved = [...got.entries()].filter(([id, w]) => id !== 8 && w[0] !== (id % 2 === 0 ? "a" : "b"));
  assert.deepEqual(moved, []);
});

test("a sink that has enough stops the batches under way", async () => {
  const calls: Array<{ worker: string; chunks: number[] }> = [];
  let seen = 0;
  await dispatch(
    "db",
    many,
    batchingDirectory(() => ["a"], calls),
    options,
    () => ++seen < 10,
  );
  assert.ok(seen >= 10 && seen < many.length, `${seen} chunks handed on`);
});

/**
 * A directory where worker "a" is hung (its calls send nothing until cancelled) or, with
 * `lateA`, answers only once released; "b" answers at once. Records the calls and cancellations.
 */
function hungDirectory(
  seen: { calls: string[]; cancelled: string[] },
  release?: Promise<void>,
  replicas: (chunkId: number) => string[] = () => ["a", "b"],
): WorkerDirectory {
  return {
    replicas: (_db, chunkId) => replicas(chunkId),
    client: (worker) => ({
      async *query(spec, o): AsyncGenerator<QueryEvent> {
        const parts = (spec.chunks?.length ?? 0) > 0 ? spec.chunks! : [spec];
        seen.calls.push(worker);
        if (worker === "a") {
          const cancelled = new Promise<void>((resolve) => o?.signal?.addEventListener("abort", () => resolve()));
          await Promise.race([cancelled, release ?? new Promise<void>(() => {})]);
          if (o?.signal?.aborted) {
            seen.cancelled.push(worker);
            throw new QservError("CANCELLED", "query cancelled");
          }
        }
        for (const p of parts) {
          yield { kind: "rows", rows: [[p.chunkId, worker]] };
          if ((spec.chunks?.length ?? 0) > 0) yield { kind: "chunkDone", chunkId: p.chunkId, rows: 1 };
        }
      },
    }),
  };
}

const hedged = { ...options, attemptTimeoutMs: 3_600_000, hedgeAfterMs: 20 };

test("a hung worker: its chunks are hedged on the other replica, answered once, the hung calls cancelled", async () => {
  const seen = { calls: [] as string[], cancelled: [] as string[] };
  const list = many.slice(0, 40);
  const got = await gathered(hungDirectory(seen), list, hedged);
  assert.equal(got.size, list.length);
  for (const [id, w] of got) assert.deepEqual(w, ["b"], `chunk ${id}`);
  const hungCalls = seen.calls.filter((w) => w === "a").length;
  assert.ok(hungCalls > 0, "some jobs started on the hung worker");
  assert.equal(seen.cancelled.length, hungCalls, "every call to the hung worker was cancelled");
});

test("a hung worker whose chunks have their other replicas on different workers: each goes to its own", async () => {
  const seen = { calls: [] as string[], cancelled: [] as string[] };
  const list = many.slice(0, 64);
  // Even chunks start on "a" (the hung one), in batches that mix chunks whose other replica is b or c.
  const other = (c: number) => (c % 2 === 1 || c % 4 === 0 ? "b" : "c");
  const got = await gathered(
    hungDirectory(seen, undefined, (c) => ["a", other(c)]),
    list,
    {
      ...hedged,
      concurrency: 1,
    },
  );
  assert.equal(got.size, list.length);
  for (const [id, w] of got) assert.deepEqual(w, [other(id)], `chunk ${id}`);
  assert.ok(seen.calls.includes("a") && seen.calls.includes("c"));
});

test("a late worker that answers after the hedge did: no chunk's rows are handed on twice", async () => {
  const seen = { calls: [] as string[], cancelled: [] as string[] };
  let release = () => {};
  const late = new Promise<void>((resolve) => {
    release = resolve;
  });
  const list = many.slice(0, 40);
  const got = await gathered(
    {
      ...hungDirectory(seen, late),
      // "a" is let go as soon as "b" has answered anything: both answer the hedged chunks.
      client: (w) => {
        const c = hungDirectory(seen, late).client(w);
        return {
          async *query(spec, o) {
            for await (const ev of c.query(spec, o)) {
              yield ev;
              if (w === "b") release();
            }
          },
        };
      },
    },
    list,
    hedged,
  );
  assert.equal(got.size, list.length);
  for (const [id, w] of got) assert.equal(w.length, 1, `chunk ${id} answered ${w.length} times`);
});
