/**
 * Ingest faults on one cluster. The publish journal: the czar SIGKILLed at the steps of an
 * append's publish, and again during the replay at its restart, ends with the append entirely
 * out (killed before every worker had published) or entirely in (after: rolled forward, never
 * back), right after the restart; with a worker down at the restart the publish stays undecided
 * (the table served as it was, ingests of the database refused) until the worker is back.
 * Load deadlines: an ingest whose load into a worker stops making progress (the worker's load
 * handler held at a test point, then the worker SIGSTOPped) fails once `--load-idle-timeout`
 * passes, with the load's error naming the worker (not the clean-up's), and leaves nothing; once
 * the worker is back, a repair pass clears its stage and the ingest loads whole.
 * A sampler asks for the table's count and sum throughout: each answer is what the table held
 * before or after the append, or a clear error. Counts and sums are those of the generated
 * catalog's parts (the rig's CSV files).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { HALT_ENV } from "../../src/common/haltPoint.js";
import { CrashRig, haltWatch } from "../support/crashRig.js";
import { tempDir } from "../support/fs.js";

describe("a czar SIGKILLed during a publish, a worker stopped during a load (3 workers, R = 2)", () => {
  const dir = tempDir();
  let rig: CrashRig;
  before(async () => {
    rig = await CrashRig.start(dir, 3000, 5, 6, { repair: 0, health: 0 }, ["--load-idle-timeout", "6"]);
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
    await rig.startWorker(w);
    await rig.post("/replicate", {}); // the pass's reconcile replays the journal: every worker published
    await rig.expectExact(4, "the publish finished once the worker was back");
    rig.allowed = rig.states(4);
  });

  test("a worker stopped during a load: the ingest fails naming it, all out; the stage goes once it is back", async () => {
    const halt = haltWatch("worker:load");
    await rig.restartWorker(1, { [HALT_ENV]: "worker:load" }, halt.onLog);
    await rig.waitUp(1); // else the ingest may find it down and go around it
    const pending = rig.ingest(4);
    await halt.halted;
    const pid = rig.workers[1]!.proc.pid!;
    process.kill(pid, "SIGSTOP");
    try {
      const r = await pending;
      assert.equal(r.status, 503, JSON.stringify(r.body));
      const message = String((r.body.error as { message: string }).message);
      assert.match(message, /^loading demo\.Object into worker w2: .*made no progress for 6 s/, message);
      await rig.expectExact(4, "nothing of the failed ingest is seen");
      for (const i of [0, 2]) assert.equal((await rig.held(i)).staged, 0, `w${i + 1} keeps a stage`);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    await rig.restartWorker(1); // without the test point
    await rig.waitUp(1);
    await rig.post("/replicate", {}); // its reconcile drops the stage w2 kept
    assert.equal((await rig.held(1)).staged, 0, "w2 keeps a stage after the repair pass");
  });

  test("an append rolled forward again is a duplicate; the next one loads; every chunk on 2 replicas, no stage left", async () => {
    const again = await rig.ingest(1);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.duplicate, true);
    await rig.appendWhole(4);
  });

  test("every sampled answer was exact or a clear error", async () => {
    await rig.stopSampler();
    assert.deepEqual(rig.violations, []);
    assert.ok(rig.samples - rig.errors >= 4, `${rig.samples} samples, ${rig.errors} errors`);
  });
});
