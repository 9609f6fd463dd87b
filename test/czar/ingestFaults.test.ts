/**
 * Ingest faults on one cluster. The publish journal: the czar SIGKILLed at the steps of an
 * append's publish, and again during the replay at its restart, ends with the append entirely
 * out (killed before every worker had published) or entirely in (after: rolled forward, never
 * back), right after the restart; with a worker down at the restart the publish stays undecided
 * (the table served as it was, ingests of the database refused) until the worker is back.
 * Load deadlines: an ingest whose load into a worker stops making progress (the worker's load
 * handler held at a test point, then the worker SIGSTOPped) gives up on that worker once
 * `--load-idle-timeout` passes and completes on the chunks' other replicas; once the worker is
 * back, a repair pass clears its stage and copies its chunks back. A worker SIGKILLed during a
 * load is gone around the same way.
 * A sampler asks for the table's count and sum throughout: each answer is what the table held
 * before or after the append, or a clear error. Counts and sums are those of the generated
 * catalog's parts (the rig's CSV files).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { HALT_ENV } from "../../src/common/haltPoint.js";
import { CrashRig, haltWatch } from "../support/crashRig.js";
import { tempDir } from "../support/fs.js";
import { waitFor } from "../support/waitFor.js";

describe("a czar SIGKILLed during a publish, a worker stopped during a load (3 workers, R = 2)", () => {
  const dir = tempDir();
  let rig: CrashRig;
  before(async () => {
    rig = await CrashRig.start(dir, 3000, 6, 6, { repair: 0, health: 0 }, ["--load-idle-timeout", "6"]);
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
    await rig.waitUp(w);
    // A repair pass's reconcile replays the journal once its probe finds the worker up (a busy
    // machine may make a probe time out: the next pass then finishes it).
    await waitFor("the publish finished once the worker was back", async () => {
      await rig.post("/replicate", {});
      return (await rig.sample()).answer === rig.key(4) ? true : undefined;
    });
    await rig.expectExact(4, "the publish finished once the worker was back");
    rig.allowed = rig.states(4);
  });

  test("a worker stopped during a load: the ingest goes on with the other replicas, whole; its stage goes once it is back", async () => {
    const halt = haltWatch("worker:load");
    await rig.restartWorker(1, { [HALT_ENV]: "worker:load" }, halt.onLog);
    await rig.waitUp(1); // else the ingest may find it down and go around it from the start
    rig.allowed = rig.states(4, 5);
    const pending = rig.ingest(4);
    await halt.halted;
    const pid = rig.workers[1]!.proc.pid!;
    process.kill(pid, "SIGSTOP");
    try {
      const r = await pending;
      // w2's loads made no progress for --load-idle-timeout: its chunks keep their other replica.
      assert.equal(r.status, 200, JSON.stringify(r.body));
      rig.allowed = rig.states(5);
      await rig.expectExact(5, "the append is whole without w2");
    } finally {
      process.kill(pid, "SIGCONT");
    }
    await rig.restartWorker(1); // without the test point
    await rig.waitUp(1);
    await rig.expectWhole(); // a repair pass: w2's stage dropped, every chunk on 2 replicas again
  });

  test("a worker SIGKILLed during a load: the append completes on the other replicas; a repair pass makes it whole", async () => {
    const halt = haltWatch("worker:load");
    await rig.restartWorker(2, { [HALT_ENV]: "worker:load" }, halt.onLog);
    await rig.waitUp(2);
    rig.allowed = rig.states(5, 6);
    const pending = rig.ingest(5);
    await halt.halted;
    await rig.killWorker(2);
    const r = await pending;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.tableRows, rig.content(6).count);
    rig.allowed = rig.states(6);
    await rig.expectExact(6, "after the append, w3 down");
    await rig.startWorker(2);
    await rig.waitUp(2);
    await rig.expectWhole();
    await rig.expectExact(6, "after the repair pass");
  });

  test("an append rolled forward again is a duplicate; every chunk on 2 replicas, no stage left", async () => {
    const again = await rig.ingest(1);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.duplicate, true);
    await rig.expectWhole();
  });

  test("every sampled answer was exact or a clear error", async () => {
    await rig.stopSampler();
    assert.deepEqual(rig.violations, []);
    assert.ok(rig.samples - rig.errors >= 4, `${rig.samples} samples, ${rig.errors} errors`);
  });
});
