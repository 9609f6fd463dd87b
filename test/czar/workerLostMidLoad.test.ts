/**
 * A worker that dies while an append loads its chunks (3 workers, R = 2): the append goes on with
 * the chunks' other replicas and succeeds, exact; once the worker is back a repair pass puts every
 * chunk on 2 replicas again. (Before, the whole append failed: under a worker restart now and then
 * a long append never got through.)
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { HALT_ENV } from "../../src/common/haltPoint.js";
import { CrashRig, haltWatch } from "../support/crashRig.js";
import { tempDir } from "../support/fs.js";

describe("a worker SIGKILLed in the middle of an append's load (3 workers, R = 2)", () => {
  const dir = tempDir();
  let rig: CrashRig;
  before(async () => {
    rig = await CrashRig.start(dir, 4000, 2, 6);
  });
  after(() => rig?.stop());

  test("the append completes on the other replicas, exact; a repair pass makes it whole", async () => {
    const halt = haltWatch("worker:load");
    await rig.restartWorker(2, { [HALT_ENV]: "worker:load" }, halt.onLog);
    const pending = rig.ingest(1);
    await halt.halted;
    await rig.killWorker(2);
    const r = await pending;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.tableRows, rig.content(2).count);
    await rig.expectExact(2, "after the append, w3 down");
    await rig.startWorker(2);
    await rig.expectExact(2, "w3 back");
    await rig.expectWhole();
    await rig.expectExact(2, "after the repair pass");
  });
});
