/**
 * The publish journal's records in metadata: written before each step, they survive the czar
 * (a reopened file holds them); recording a journaled load moves the snapshot once, however
 * often it is replayed; an open entry holds its database against other ingests, drops and unloads.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { isQservError } from "../../src/common/errors.js";
import { Metadata } from "../../src/czar/metadata.js";
import {
  journalEntries,
  journalStep,
  type PublishRecord,
  placementOf,
  recordPublished,
  refusePending,
} from "../../src/czar/publishJournal.js";
import { tempDir } from "../support/fs.js";
import { DB, table } from "../support/tableConfigs.js";

const record = (loadId: string, seq: number): PublishRecord => ({
  loadId,
  database: DB,
  table: table("Object"),
  stage: `L${loadId}`,
  seq,
  rows: 7,
  files: ["/data/a.csv"],
  targets: [
    [7140, ["w1", "w2"]],
    [6630, ["w2", "w3"]],
  ],
  chunks: [
    { id: 7140, rows: 3, overlapRows: 1 },
    { id: 6630, rows: 4, overlapRows: 0 },
  ],
  scratch: "/nowhere",
});

describe("the publish journal", () => {
  const dir = tempDir();

  test("entries and their steps survive a reopen; closing one removes it", () => {
    const file = join(dir, "czar.sqlite");
    const m = Metadata.open(file);
    m.createDatabase(DB);
    journalStep(m, "prepared", record("a", 2));
    journalStep(m, "prepared", record("b", 2));
    journalStep(m, "committed", { ...record("a", 2), placement: [[7140, ["w1"]]] });
    m.close();
    const again = Metadata.open(file);
    const held = journalEntries(again);
    assert.deepEqual(
      held.map((e) => [e.record.loadId, e.step]),
      [
        ["a", "committed"],
        ["b", "prepared"],
      ],
    );
    assert.deepEqual(held[0]!.record.placement, [[7140, ["w1"]]]);
    again.closeJournal("a");
    assert.deepEqual(
      journalEntries(again).map((e) => e.record.loadId),
      ["b"],
    );
    again.close();
  });

  test("a journaled load recorded twice (a replay killed after recording) counts once; the snapshot moves once", () => {
    const m = Metadata.open(":memory:");
    m.createDatabase(DB);
    const r = record("L1", m.snapshotSeq("db1") + 1);
    const { placement, bare } = placementOf(m, "db1", new Map(r.targets), new Set());
    assert.equal(bare, null);
    recordPublished(m, r, placement);
    recordPublished(m, r, placement);
    assert.equal(m.table("db1", "Object")?.rows, 7);
    assert.equal(m.snapshotSeq("db1"), r.seq);
    assert.deepEqual(m.replicas("db1", 6630), ["w2", "w3"]);
  });

  test("placement: a worker that failed leaves its chunks; a chunk left with none is bare", () => {
    const m = Metadata.open(":memory:");
    const targets = new Map(record("x", 2).targets);
    const some = placementOf(m, "db1", targets, new Set(["w2"]));
    assert.deepEqual(
      [...some.placement],
      [
        [7140, ["w1"]],
        [6630, ["w3"]],
      ],
    );
    assert.equal(placementOf(m, "db1", targets, new Set(["w1", "w2"])).bare, 7140);
  });

  test("an open entry holds its database: CONFLICT naming the load; other databases are free", () => {
    const m = Metadata.open(":memory:");
    journalStep(m, "prepared", record("L9", 2));
    assert.throws(
      () => refusePending(m, "db1", "ingest db1.Source"),
      (e) => isQservError(e) && e.code === "CONFLICT" && /load L9 .*waits for its workers/.test(e.message),
    );
    refusePending(m, "db2", "ingest db2.Object");
  });
});
