/**
 * A small seeded subset of the fuzz run (`npm run fuzz` is the full one): hostile SQL over HTTP
 * and the MySQL port, raw MySQL packets, raw HTTP requests, gRPC to a worker and mutated ingests
 * against a real small cluster: no node crashes, nothing hangs, nothing answers INTERNAL.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { tempDir } from "../support/fs.js";
import { SKIP_ITEST } from "../support/paths.js";
import { runFuzz } from "./run.js";

test("fuzz subset (seed 7): 0 crashes, 0 hangs, 0 INTERNAL", { skip: SKIP_ITEST }, async () => {
  const report = await runFuzz({
    dir: tempDir(),
    seed: 7,
    sql: 150,
    packets: 60,
    http: 60,
    grpc: 60,
    ingests: 6,
    concurrency: 4,
    heavy: 0,
    // A hang is no answer at all: the bound is far past any answer, even on a loaded machine.
    hangMs: 120_000,
  });
  const total = (k: "crashes" | "hangs" | "internal") => Object.values(report.counts).reduce((n, c) => n + c[k], 0);
  const detail = JSON.stringify(report, null, 1);
  assert.equal(report.counts["sql/http"]?.inputs, 150);
  assert.equal(report.counts["sql/mysql"]?.inputs, 150);
  assert.equal(total("crashes"), 0, detail);
  assert.equal(total("hangs"), 0, detail);
  assert.equal(total("internal"), 0, detail);
  for (const [kind, c] of Object.entries(report.counts)) assert.deepEqual(c.serverErrors, {}, `${kind}: ${detail}`);
  assert.ok(report.ping.n > 0);
});
