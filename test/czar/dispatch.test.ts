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
