/**
 * Load calls have deadlines: an ingest whose load into a worker stops making progress (the
 * worker's load handler held at a test point, then the worker SIGSTOPped) fails once
 * `--load-idle-timeout` passes, with the load's error naming the worker (not the clean-up's),
 * and leaves nothing: the table answers as before, the other workers keep no stage. Once the
 * worker is SIGCONTed and back, a repair pass clears its stage and the same ingest loads whole.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { HALT_ENV } from "../../src/common/haltPoint.js";
import { CrashRig, haltWatch } from "../support/crashRig.js";
import { tempDir } from "../support/fs.js";

describe("an ingest with a worker stopped mid-load (3 workers, R = 2)", () => {
  const dir = tempDir();
  let rig: CrashRig;
  before(async () => {
    rig = await CrashRig.start(dir, 2000, 3, 6, { repair: 0, health: 0 }, ["--load-idle-timeout", "6"]);
    rig.startSampler();
  });
  after(() => rig?.stop());

  test("fails cleanly naming the worker, all out; loads whole once the worker is back", async () => {
    rig.allowed = rig.states(1, 2);
    const halt = haltWatch("worker:load");
    await rig.restartWorker(1, { [HALT_ENV]: "worker:load" }, halt.onLog);
    await rig.waitUp(1); // else the ingest may find it down and go around it
    const pending = rig.ingest(1);
    await halt.halted;
    const pid = rig.workers[1]!.proc.pid!;
    process.kill(pid, "SIGSTOP");
    try {
      const r = await pending;
      assert.equal(r.status, 503, JSON.stringify(r.body));
      const message = String((r.body.error as { message: string }).message);
      assert.match(message, /^loading demo\.Object into worker w2: .*made no progress for 6 s/, message);
      await rig.expectExact(1, "nothing of the failed ingest is seen");
      for (const i of [0, 2]) assert.equal((await rig.held(i)).staged, 0, `w${i + 1} keeps a stage`);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    rig.allowed = rig.states(1);
    await rig.restartWorker(1); // without the test point
    await rig.waitUp(1);
    await rig.post("/replicate", {}); // its reconcile drops the stage w2 kept
    assert.equal((await rig.held(1)).staged, 0, "w2 keeps a stage after the repair pass");
    rig.allowed = rig.states(1, 2);
    const r = await rig.ingest(1);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    rig.allowed = rig.states(2);
    await rig.expectExact(2, "after the retry");
    await rig.expectWhole();
    await rig.stopSampler();
    assert.deepEqual(rig.violations, []);
  });
});
