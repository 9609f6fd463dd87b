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
