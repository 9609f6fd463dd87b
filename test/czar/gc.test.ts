/**
 * Garbage collection on a real cluster (3 worker processes, R = 2, a czar process): each
 * leftover is made for real and `mini-qserv gc` removes it — a worker SIGKILLed while it
 * publishes an append keeps its stage and chunk files metadata no longer places on it; a worker
 * that comes back after its chunks were copied elsewhere leaves chunks on 3 replicas. After each
 * pass: no stage left, every chunk file a worker holds is placed there, every chunk on exactly 2
 * live replicas, and the answers exact (also for a query running during the pass).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { HALT_ENV } from "../../src/common/haltPoint.js";
import type { GcReport } from "../../src/czar/gc.js";
import { runCli } from "../support/cli.js";
import { CrashRig, haltWatch } from "../support/crashRig.js";
import { tempDir } from "../support/fs.js";

describe("garbage collection of what failures leave (3 workers, R = 2)", () => {
  const dir = tempDir();
  let rig: CrashRig;
  before(async () => {
    rig = await CrashRig.start(dir, 3000, 3, 6);
  });
  after(() => rig?.stop());

  /** The chunks metadata places on each worker. */
  const placed = (): Map<string, number[]> => {
    const db = new Database(join(dir, "czar", "czar.sqlite"), { readonly: true });
    try {
      const rows = db
        .prepare("SELECT worker_id, chunk_id FROM replicas WHERE db = 'demo' AND chunk_id >= 0 ORDER BY chunk_id")
        .all() as Array<{ worker_id: string; chunk_id: number }>;
      const out = new Map<string, number[]>();
      for (const r of rows) out.set(r.worker_id, [...(out.get(r.worker_id) ?? []), r.chunk_id]);
      return out;
    } finally {
      db.close();
    }
  };
  const gc = (): GcReport => {
    const r = runCli(["gc", "--czar", rig.czar.url, "--json"]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    return JSON.parse(r.stdout) as GcReport;
  };
  /** Every worker holds exactly the chunks placed on it, and no stage. */
  const expectTidy = async () => {
    const where = placed();
    for (let i = 0; i < 3; i++) {
      const held = await rig.held(i);
      assert.deepEqual(held.chunks, where.get(`w${i + 1}`) ?? [], `chunk files of w${i + 1}`);
      assert.equal(held.staged, 0, `stages on w${i + 1}`);
    }
  };

  test("a worker SIGKILLed while publishing an append: gc drops its stage and its stale chunk files", async () => {
    const halt = haltWatch("worker:publish");
    await rig.restartWorker(1, { [HALT_ENV]: "worker:publish" }, halt.onLog);
    const ingest = rig.ingest(1);
    await halt.halted;
    await rig.killWorker(1);
    const r = await ingest;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await rig.startWorker(1);
    const stale = await rig.held(1);
    const mine = placed().get("w2") ?? [];
    assert.ok(stale.staged > 0, "the killed worker kept its stage");
    const unplaced = stale.chunks.filter((c) => !mine.includes(c));
    assert.ok(unplaced.length > 0, "the killed worker kept chunk files no longer placed on it");
    const sampled = rig.sample();
    const report = (await rig.post("/gc", {})) as unknown as GcReport;
    assert.equal((await sampled).answer, (await rig.sample()).answer, "a query running during gc");
    assert.ok(report.stagesDropped.some((s) => s.worker === "w2"));
    assert.deepEqual(
      report.unplaced.filter((c) => c.worker === "w2").map((c) => c.chunkId),
      unplaced,
      "the stale chunk files dropped",
    );
    await expectTidy();
    await rig.expectExact(2, "after gc");
    await rig.expectWhole();
    await expectTidy();
  });

  test("a worker back after its chunks were copied away: gc trims every chunk back to 2 replicas", async () => {
    await rig.killWorker(2);
    await rig.post("/replicate", {});
    await rig.startWorker(2);
    const where = placed();
    const chunks = new Set([...where.values()].flat());
    const over = [...chunks].filter((c) => [...where.values()].filter((l) => l.includes(c)).length > 2);
    assert.ok(over.length > 0, "chunks on 3 replicas once the worker is back");
    const report = gc();
    assert.deepEqual(
      report.overReplicated.map((c) => c.chunkId).sort((a, b) => a - b),
      over,
    );
    assert.equal(report.unplaced.length, over.length, "each surplus copy's file dropped");
    await expectTidy();
    await rig.expectWhole();
    await rig.expectExact(2, "after gc");
    assert.deepEqual(gc().unplaced, [], "a second pass finds nothing");
  });
});
