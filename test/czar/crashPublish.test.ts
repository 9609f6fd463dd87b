/**
 * The publish journal: the czar SIGKILLed at every step of an append's publish, and again during
 * the replay at its restart, ends with the append entirely out (killed before every worker had
 * published) or entirely in (after: rolled forward, never back), right after the restart; with a
 * worker down at the restart the publish stays undecided (the table served as it was, ingests of
 * the database refused) until the worker is back. A sampler asks for the table's count and sum
 * throughout: each answer is what the table held before or after the append, or a clear error.
 * Counts and sums are those of the generated catalog's parts (the rig's CSV files).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CrashRig } from "../support/crashRig.js";
import { tempDir } from "../support/fs.js";

describe("a czar SIGKILLed at every step of an append's publish (3 workers, R = 2)", () => {
  const dir = tempDir();
  let rig: CrashRig;
  before(async () => {
    rig = await CrashRig.start(dir, 3000, 5, 6);
    rig.startSampler();
  });
  after(() => rig?.stop());

  // Each restart arms the czar for the next case. Every point, in turn, is in `npm run soak:crash`.
  test("killed after one worker published, and again while the replay takes it back: out", async () => {
    assert.equal(await rig.killAt(1, "publish:partial", "replay:back", "publish:workers"), false);
  });

  test("killed once every worker published (not journaled yet), and again as the replay finishes it: in", async () => {
    assert.equal(await rig.killAt(1, "publish:workers", "replay:forward", "publish:committed"), true);
  });

  test("killed once the journal says committed: in", async () => {
    assert.equal(await rig.killAt(2, "publish:committed", undefined, "publish:workers"), true);
  });

  test("a worker down at the restart: undecided, the table as it was, ingests refused; finished once it is back", async () => {
    rig.allowed = rig.states(3, 4);
    const w = await rig.crashWithWorkerDown(3);
    await rig.expectExact(3, `w${w + 1} down: the publish is undecided`);
    const r = await rig.ingest(4);
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.match(String((r.body.error as { message: string }).message), /waits for its workers to be back/);
    await rig.post("/replicate", {}); // still down: stays open
    await rig.expectExact(3, `w${w + 1} still down`);
    await rig.startWorker(w);
    await rig.post("/replicate", {}); // the pass's reconcile replays the journal: every worker published
    await rig.expectExact(4, "the publish finished once the worker was back");
    rig.allowed = rig.states(4);
  });

  test("an append rolled forward again is a duplicate; the next one loads; every chunk on 2 replicas, no stage left", async () => {
    const again = await rig.ingest(1);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.duplicate, true);
    rig.allowed = rig.states(4, 5);
    const r = await rig.ingest(4);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    rig.allowed = rig.states(5);
    await rig.expectExact(5, "after the next append");
    await rig.expectWhole();
  });

  test("every sampled answer was exact or a clear error", async () => {
    await rig.stopSampler();
    assert.deepEqual(rig.violations, []);
    assert.ok(rig.samples - rig.errors >= 4, `${rig.samples} samples, ${rig.errors} errors`);
  });
});
