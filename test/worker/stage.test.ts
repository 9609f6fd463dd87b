/**
 * Staged loads on a worker process: rows in a stage are invisible until published; publishing
 * creates or appends to the live tables (their indexes named as if loaded directly), again is a
 * no-op; a stage survives a restart and DropStage removes it (and a file it alone created).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { isQservError } from "../../src/common/errors.js";
import { WorkerClient } from "../../src/worker/client.js";
import { tempDir } from "../support/fs.js";
import { idXHeader } from "../support/loads.js";

const DB = "staging";

describe("a worker's stages", () => {
  const dataDir = join(tempDir(), "w");
  let w: WorkerProcess;
  let client: WorkerClient;
  const stageLoad = (loadId: string, stage: string, chunkId: number, rows: string) =>
    client.load({ ...idXHeader(loadId, DB, "Extra", chunkId), stage }, [{ part: "ROWS", data: Buffer.from(rows) }]);
  const count = async (chunkId: number) =>
    (await client.queryAll({ database: DB, chunkId, sql: `SELECT count(*) FROM Extra_${chunkId}` })).rows[0]?.[0];
  const staged = async () => (await client.list(DB)).databases[0]?.staged ?? [];

  before(async () => {
    w = await startWorkerProcess(dataDir);
    client = new WorkerClient(w.address);
  });
  after(async () => {
    client?.close();
    await w?.stop();
  });

  test("a staged load is invisible until published; publishing again changes nothing", async () => {
    const r = await stageLoad("L1:5", "s1", 5, "1,2.5\n2,3.5\n");
    assert.deepEqual([r.rows, r.duplicate], [2, false]);
    assert.deepEqual(await staged(), [{ table: "Extra", stage: "s1", chunkId: 5, rows: 2, overlapRows: 0 }]);
    await assert.rejects(count(5), /holds no chunk 5/);
    assert.equal((await client.publish({ database: DB, table: "Extra", stage: "s1", chunkIds: [5] })).applied, 1);
    assert.equal(await count(5), 2n);
    assert.deepEqual(await staged(), []);
    assert.equal((await client.publish({ database: DB, table: "Extra", stage: "s1", chunkIds: [5] })).applied, 0);
    assert.equal(await count(5), 2n);
    assert.equal((await stageLoad("L1:5", "s1", 5, "1,2.5\n2,3.5\n")).duplicate, true, "published load id");
  });

  test("a later stage appends; the live table keeps its own indexes", async () => {
    await stageLoad("L2:5", "s2", 5, "3,1\n4,1\n5,1\n");
    assert.equal(await count(5), 2n);
    await client.publish({ database: DB, table: "Extra", stage: "s2", chunkIds: [5] });
    assert.equal(await count(5), 5n);
    const idx = await client.queryAll({
      database: DB,
      chunkId: 5,
      sql: "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    });
    assert.deepEqual(idx.rows, [
      ["ExtraFullOverlap_5_id", "ExtraFullOverlap_5"],
      ["Extra_5_id", "Extra_5"],
    ]);
    const held = (await client.list(DB)).databases[0]?.chunks.find((c) => c.chunkId === 5);
    assert.deepEqual(held?.tables, [{ table: "Extra", rows: 5, overlapRows: 0 }]);
  });

  test("unpublishing takes a publish back: appended rows deleted, a table it created dropped", async () => {
    await stageLoad("U1:5", "u1", 5, "8,1\n9,1\n");
    await stageLoad("U1:7", "u1", 7, "10,1\n");
    assert.equal((await client.publish({ database: DB, table: "Extra", stage: "u1", chunkIds: [5, 7] })).applied, 2);
    assert.deepEqual([await count(5), await count(7)], [7n, 1n]);
    assert.equal((await client.unpublish({ database: DB, table: "Extra", stage: "u1", chunkIds: [5, 7] })).applied, 2);
    assert.equal(await count(5), 5n);
    await assert.rejects(count(7), /holds no chunk 7/);
    const chunks = (await client.list(DB)).databases[0]?.chunks;
    assert.deepEqual(
      chunks?.map((c) => [c.chunkId, c.tables]),
      [[5, [{ table: "Extra", rows: 5, overlapRows: 0 }]]],
    );
    assert.equal((await stageLoad("U1:5", "u1", 5, "8,1\n9,1\n")).duplicate, false, "its loads are forgotten");
    await client.dropStage({ database: DB, table: "Extra", stage: "u1" });
  });

  test("a stage survives a restart; DropStage removes it, and a file it alone made", async () => {
    await stageLoad("L3:5", "s3", 5, "6,1\n");
    await stageLoad("L3:6", "s3", 6, "7,1\n");
    client.close();
    await w.stop();
    w = await startWorkerProcess(dataDir);
    client = new WorkerClient(w.address);
    assert.deepEqual(
      (await staged()).map((s) => [s.chunkId, s.stage, s.rows]),
      [
        [5, "s3", 1],
        [6, "s3", 1],
      ],
    );
    assert.equal((await client.dropStage({ database: DB, table: "Extra", stage: "*" })).files, 2);
    assert.deepEqual(await staged(), []);
    assert.equal(await count(5), 5n);
    assert.deepEqual(
      (await client.list(DB)).databases[0]?.chunks.map((c) => c.chunkId),
      [5],
    );
    await assert.rejects(
      client.publish({ database: DB, table: "Extra", stage: "s3", chunkIds: [6] }),
      (e: unknown) => isQservError(e) && e.code === "NOT_FOUND",
    );
    await assert.rejects(stageLoad("L4:5", "bad-name", 5, "1,1\n"), /stage name/);
  });
});
