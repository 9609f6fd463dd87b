/** The czar's query history: kept across a reopen, bounded, a torn last line skipped, filtered and ordered. */
import assert from "node:assert/strict";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { QueryHistory } from "../../src/czar/queryHistory.js";
import { tempDir } from "../support/fs.js";

const entry = (i: number, failed = false) => ({
  query: `SELECT ${i}`,
  user: i % 2 === 0 ? "ann" : "bob",
  database: "demo",
  startedAt: new Date(1_700_000_000_000 + i).toISOString(),
  elapsedMs: (i * 7919) % 1000,
  rows: i,
  chunks: 1,
  retries: 0,
  ...(failed ? { error: { code: "BAD_QUERY" as const, message: "no" } } : {}),
});

test("the history keeps the last `max` queries across a reopen, its file bounded", () => {
  const file = join(tempDir(), "h.jsonl");
  const h = new QueryHistory(file, 100);
  for (let i = 1; i <= 450; i++) h.record(entry(i, i % 10 === 0));
  const lines = readFileSync(file, "utf8").trim().split("\n").length;
  assert.ok(lines <= 200, `${lines} lines`);
  appendFileSync(file, '{"seq": 451, "query": "SELECT'); // a czar killed mid-write
  const again = new QueryHistory(file, 100);
  const all = again.list({ limit: 1000 });
  assert.deepEqual(
    all.map((r) => r.query),
    Array.from({ length: 100 }, (_, k) => `SELECT ${450 - k}`),
  );
  assert.equal(again.record(entry(451)).seq, 451);
  const failed = again.list({ failed: true, limit: 1000 });
  assert.deepEqual(
    failed.map((r) => r.rows),
    [450, 440, 430, 420, 410, 400, 390, 380, 370, 360],
  );
  const slowest = again.list({ slowest: true, limit: 5 }).map((r) => r.elapsedMs);
  const want = again
    .list({ limit: 1000 })
    .map((r) => r.elapsedMs)
    .sort((a, b) => b - a)
    .slice(0, 5);
  assert.deepEqual(slowest, want);
  assert.ok(again.list({ user: "bob", limit: 1000 }).every((r) => r.user === "bob"));
});
