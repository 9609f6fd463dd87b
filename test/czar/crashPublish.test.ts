/**
 * No czar crash may produce a wrong answer: the czar SIGKILLed at points through an append's
 * publish (after one worker published, after all have, after metadata recorded it; and with a
 * worker down while the czar restarts), restarted, with and without a repair pass, then the
 * append retried. A sampler asks for the table's count and sum every 150 ms throughout:
 * each answer is what the table held before or after the append, or a clear error (UNAVAILABLE,
 * CANCELLED by a czar shutting down, or no czar to answer). Right after each restart the answer is exact (the publish rolled back,
 * or kept where metadata had recorded it); after the retry it is exact, every chunk is on 2 live
 * replicas and no worker keeps a stage.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type CrashPoint, CrashRig } from "../support/crashRig.js";
import { tempDir } from "../support/fs.js";

// The soak (npm run soak:crash) kills at every point, also before any worker publishes and on the progress line.
const CASES: Array<[CrashPoint, boolean]> = [
  ["publish:partial", true],
  ["publish:workers", false],
  ["publish:recorded", false],
];

describe("a czar SIGKILLed while publishing an append (3 workers, R = 2)", () => {
  const dir = tempDir();
  let rig: CrashRig;
  before(async () => {
    rig = await CrashRig.start(dir, 4000, CASES.length + 2, 6);
    rig.startSampler();
  });
  after(() => rig?.stop());

  CASES.forEach(([point, repair], i) => {
    test(`killed at ${point}${repair ? ", a repair pass" : ""}, the append retried: exact, whole`, () =>
      rig.crashAppend(i + 1, point, repair));
  });

  test("a worker down while the czar restarts keeps the unrecorded publish: never served, reconciled once back", async () => {
    const part = CASES.length + 1;
    rig.allowed = rig.states(part, part + 1);
    await rig.crashWithWorkerDown(part);
    await rig.expectExact(part, "w1 down: its replicas are not used");
    await rig.startWorker(0);
    await rig.post("/status"); // lists w1 again: it holds rows metadata does not count
    await rig.expectExact(part, "w1 back, unreconciled: its replicas are not used");
    await rig.killWorker(1);
    const s = await rig.sample();
    assert.ok(s.ok ? s.answer === rig.key(part) : s.code === "UNAVAILABLE", `w2 down too: ${s.answer}`);
    await rig.startWorker(1);
    const rep = (await rig.post("/replicate", {})) as Record<string, unknown[]>;
    assert.deepEqual([rep.dropped, rep.unavailable, rep.failed], [[], [], []], JSON.stringify(rep));
    await rig.expectExact(part, "after the repair pass reconciled w1");
    const r = await rig.ingest(part);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    rig.allowed = rig.states(part + 1);
    await rig.expectExact(part + 1, "after the retry");
    await rig.expectWhole();
  });

  test("every sampled answer was exact or a clear error", async () => {
    await rig.stopSampler();
    assert.deepEqual(rig.violations, []);
    assert.ok(rig.samples - rig.errors >= CASES.length, `${rig.samples} samples, ${rig.errors} errors`);
  });
});
