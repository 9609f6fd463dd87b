/**
 * No czar crash may produce a wrong answer: the czar SIGKILLed at points through an append's
 * publish (before any worker publishes, after one has, after all have, after metadata recorded
 * it, and the moment the ingest reports its publish), restarted, with and without a repair pass,
 * then the append retried. A sampler asks for the table's count and sum every 150 ms throughout:
 * each answer is what the table held before or after the append, or a clear error (UNAVAILABLE,
 * or no czar to answer). Right after each restart the answer is exact (the publish rolled back,
 * or kept where metadata had recorded it); after the retry it is exact, every chunk is on 2 live
 * replicas and no worker keeps a stage.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type CrashPoint, CrashRig } from "../support/crashRig.js";
import { tempDir } from "../support/fs.js";

const CASES: Array<[CrashPoint, boolean]> = [
  ["publish:locked", false],
  ["publish:partial", true],
  ["publish:partial", false],
  ["publish:workers", true],
  ["publish:recorded", false],
  ["progress", true],
];

describe("a czar SIGKILLed while publishing an append (3 workers, R = 2)", () => {
  const dir = tempDir();
  let rig: CrashRig;
  before(async () => {
    rig = await CrashRig.start(dir, 4000, CASES.length + 1, 6);
    rig.startSampler();
  });
  after(() => rig?.stop());

  CASES.forEach(([point, repair], i) => {
    test(`killed at ${point}${repair ? ", a repair pass" : ""}, the append retried: exact, whole`, () =>
      rig.crashAppend(i + 1, point, repair));
  });

  test("every sampled answer was exact or a clear error", async () => {
    await rig.stopSampler();
    assert.deepEqual(rig.violations, []);
    assert.ok(rig.samples - rig.errors >= CASES.length, `${rig.samples} samples, ${rig.errors} errors`);
  });
});
