import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { isQservError } from "../../src/common/errors.js";
import { Metadata } from "../../src/czar/metadata.js";
import { tempDir } from "../support/fs.js";
import { DB, table } from "../support/tableConfigs.js";

const code = (c: string) => (e: unknown) => isQservError(e) && e.code === c;
const entries = (pairs: Array<[string, number]>) => pairs.map(([key, chunkId]) => ({ key, chunkId, subChunkId: 0 }));

function withObject(): Metadata {
  const m = Metadata.open(":memory:");
  m.createDatabase(DB);
  m.registerTable({
    config: table("Object"),
    loadId: "L1",
    rows: 7,
    chunks: [
      { id: 7140, rows: 3, overlapRows: 1 },
      { id: 6630, rows: 4, overlapRows: 0 },
      { id: 6631, rows: 0, overlapRows: 2 },
    ],
    directorIndex: entries([
      ["29759322768015696", 7140],
      ["29759322768015697", 6630],
      ["-5", 6630],
      ["10", 7140],
      ["11", 7140],
      ["12", 6630],
      ["10", 6630],
    ]),
  });
  return m;
}

describe("Metadata", () => {
  test("a database with other partitioning is a CONFLICT; the same one again is a no-op", () => {
    const m = Metadata.open(":memory:");
    m.createDatabase(DB);
    m.createDatabase({ ...DB });
    assert.deepEqual(m.databases(), [DB]);
    assert.throws(() => m.createDatabase({ ...DB, numSubStripes: 14 }), code("CONFLICT"));
    assert.throws(() => m.createDatabase({ ...DB, overlap: 0.001 }), code("CONFLICT"));
    assert.deepEqual(m.database("db1"), DB);
    assert.equal(m.database("nope"), null);
    m.close();
  });

  test("workers keep their registration order; an upsert changes the address", () => {
    const m = Metadata.open(":memory:");
    m.upsertWorker({ id: "w2", address: "a:2" });
    m.upsertWorker({ id: "w1", address: "a:1" });
    m.upsertWorker({ id: "w2", address: "b:2" });
    assert.deepEqual(m.workers(), [
      { id: "w2", address: "b:2" },
      { id: "w1", address: "a:1" },
    ]);
    m.close();
  });

  test("tables, their kind and chunks; registering one twice is a CONFLICT", () => {
    const m = withObject();
    m.registerTable({
      config: table("Source", { directorTable: "Object" }),
      loadId: "L2",
      rows: 5,
      chunks: [{ id: 7140, rows: 5, overlapRows: 0 }],
    });
    m.registerTable({ config: table("Filter", { isPartitioned: false }), loadId: "L3", rows: 9, replicatedOn: ["w1"] });
    assert.deepEqual(
      m.tables("db1").map((t) => [t.name, t.kind, t.rows]),
      [
        ["Filter", "replicated", 9],
        ["Object", "director", 7],
        ["Source", "child", 5],
      ],
    );
    assert.deepEqual(m.table("db1", "Source")?.config, table("Source", { directorTable: "Object" }));
    assert.equal(m.table("db1", "object"), null, "exact name match");
    assert.equal(m.loadIdOf("db1", "Object"), "L1");
    assert.deepEqual(m.chunks("db1"), [6630, 7140], "overlap-only chunk 6631 holds no rows");
    assert.deepEqual(m.tableChunks("db1", "Source"), [7140]);
    assert.deepEqual(m.tableChunks("db1", "Object"), [6630, 7140]);
    assert.throws(() => m.registerTable({ config: table("Object"), loadId: "L9", rows: 0 }), code("CONFLICT"));
    m.close();
  });

  test("lookupKeys compares 64-bit keys exactly and returns every chunk of a repeated key", () => {
    const m = withObject();
    assert.deepEqual(m.lookupKeys("db1", "Object", [29759322768015696n]), [7140]);
    assert.deepEqual(m.lookupKeys("db1", "Object", [29759322768015697n]), [6630]);
    assert.deepEqual(m.lookupKeys("db1", "Object", ["29759322768015697"]), [6630]);
    assert.deepEqual(m.lookupKeys("db1", "Object", [29759322768015698n, 1n, "x"]), []);
    assert.deepEqual(m.lookupKeys("db1", "Object", [-5, 11]), [6630, 7140]);
    assert.deepEqual(m.lookupKeys("db1", "Object", [10]), [6630, 7140]);
    assert.deepEqual(m.lookupKeys("db1", "Object", [10.5]), []);
    assert.throws(() => m.lookupKeys("db1", "Source", [1]), code("NOT_FOUND"));
    const all = [...m.directorEntries("db1", "Object")].map((e) => e.key);
    assert.ok(all.includes(29759322768015696n) && all.includes(29759322768015697n));
    m.close();
  });

  test("lookupRange: inclusive, exclusive and open bounds, as integers", () => {
    const m = withObject();
    assert.deepEqual(m.lookupRange("db1", "Object", 10, true, 11, true), [6630, 7140]);
    assert.deepEqual(m.lookupRange("db1", "Object", 10, false, 12, false), [7140]);
    assert.deepEqual(m.lookupRange("db1", "Object", 11.5, true, 12, true), [6630]);
    assert.deepEqual(m.lookupRange("db1", "Object", null, true, 0, true), [6630]);
    assert.deepEqual(m.lookupRange("db1", "Object", 29759322768015697n, true, null, false), [6630]);
    assert.deepEqual(m.lookupRange("db1", "Object", 29759322768015696n, true, 29759322768015696n, true), [7140]);
    assert.deepEqual(m.lookupRange("db1", "Object", 13, true, 100, true), []);
    m.close();
  });

  test("text director keys: exact lookups; ranges are UNSUPPORTED", () => {
    const m = Metadata.open(":memory:");
    m.createDatabase(DB);
    const schema = [{ name: "id", type: "VARCHAR(20)" }, ...table("T").schema.slice(1)];
    m.registerTable({ config: table("T", { schema }), loadId: "L", rows: 2, directorIndex: entries([["a1", 5]]) });
    assert.deepEqual(m.lookupKeys("db1", "T", ["a1"]), [5]);
    assert.deepEqual(m.lookupKeys("db1", "T", ["A1"]), []);
    assert.throws(() => m.lookupRange("db1", "T", 1, true, 2, true), code("UNSUPPORTED"));
    m.close();
  });

  test("placement: new chunks balanced over the workers, placed chunks keep theirs", () => {
    const m = Metadata.open(":memory:");
    const ws = ["w1", "w2", "w3"];
    const p = m.assignChunks("db1", [6, 5, 4, 3, 2, 1], ws, 2);
    for (const ids of p.values()) assert.equal(new Set(ids).size, 2);
    const per = ws.map((w) => [...p.values()].filter((ids) => ids.includes(w)).length);
    assert.deepEqual(per, [4, 4, 4]);
    assert.deepEqual(p.get(1), ["w1", "w2"]);
    assert.deepEqual(m.replicas("db1", 1), ["w1", "w2"]);
    const again = m.assignChunks("db1", [1, 7], ["w3", "w2", "w1"], 2);
    assert.deepEqual(again.get(1), ["w1", "w2"]);
    assert.equal(again.get(7)?.length, 2);
    assert.throws(() => m.assignChunks("db1", [8], ws, 4), code("BAD_ARGUMENT"));
    m.close();
  });

  test("replicas added and removed one at a time; placements lists them in rank order", () => {
    const m = Metadata.open(":memory:");
    m.assignChunks("db1", [1, 2], ["w1", "w2", "w3"], 2);
    assert.equal(m.removeReplica("db1", 1, "w1"), true);
    assert.equal(m.removeReplica("db1", 1, "w1"), false);
    m.addReplica("db1", 1, "w3");
    m.addReplica("db1", 1, "w3");
    m.addReplica("db1", 5, "w2");
    assert.deepEqual(m.replicas("db1", 1), ["w2", "w3"]);
    assert.deepEqual(m.placements(), [
      { db: "db1", chunkId: 1, workers: ["w2", "w3"] },
      { db: "db1", chunkId: 2, workers: m.replicas("db1", 2) },
      { db: "db1", chunkId: 5, workers: ["w2"] },
    ]);
    m.close();
  });

  test("chunk -1 lists the workers holding every replicated table", () => {
    const m = Metadata.open(":memory:");
    m.createDatabase(DB);
    const rep = (name: string, on: string[]) =>
      m.registerTable({ config: table(name, { isPartitioned: false }), loadId: name, rows: 1, replicatedOn: on });
    rep("A", ["w1", "w2"]);
    assert.deepEqual(m.replicas("db1", -1), ["w1", "w2"]);
    rep("B", ["w2", "w3", "w1"]);
    assert.deepEqual(m.replicas("db1", -1), ["w1", "w2"]);
    rep("C", ["w2"]);
    assert.deepEqual(m.replicas("db1", -1), ["w2"]);
    m.close();
  });

  test("a later load adds rows, chunk counts, index entries and placement; the same load again changes nothing", () => {
    const m = withObject();
    m.assignChunks("db1", [6630, 7140], ["w1", "w2"], 2);
    const load = {
      config: table("Object"),
      loadId: "L2",
      rows: 3,
      chunks: [
        { id: 7140, rows: 1, overlapRows: 0 },
        { id: 9000, rows: 2, overlapRows: 1 },
      ],
      placement: new Map([
        [7140, ["w2"]],
        [9000, ["w3", "w1"]],
      ]),
      directorIndex: entries([
        ["100", 7140],
        ["101", 9000],
      ]),
    };
    assert.equal(
      m.heldDirectorKey(
        "db1",
        "Object",
        entries([
          ["99", 1],
          ["11", 1],
        ]),
      ),
      "11",
    );
    assert.equal(m.heldDirectorKey("db1", "Object", load.directorIndex), null);
    assert.equal(m.recordLoad(load).rows, 10);
    assert.equal(m.recordLoad(load).rows, 10, "recorded once");
    assert.equal(m.loadRows("db1", "Object", "L2"), 3);
    assert.equal(m.loadRows("db1", "Object", "L1"), 7);
    assert.equal(m.loadIdOf("db1", "Object"), "L1", "the first load");
    assert.deepEqual(m.tableChunks("db1", "Object"), [6630, 7140, 9000]);
    assert.deepEqual(m.replicas("db1", 7140), ["w2"]);
    assert.deepEqual(m.replicas("db1", 6630), ["w1", "w2"]);
    assert.deepEqual(m.replicas("db1", 9000), ["w3", "w1"]);
    assert.deepEqual(m.lookupKeys("db1", "Object", [101n, 11n]), [7140, 9000]);
    assert.throws(
      () => m.recordLoad({ ...load, loadId: "L3", config: table("Object", { directorKey: "ra" }) }),
      (e: unknown) => code("CONFLICT")(e) && /directorKey differ/.test(String(e)),
    );
    assert.throws(() => m.checkConfig(table("Object", { latitudeKey: "ra" })), code("CONFLICT"));
    m.checkConfig(table("Object"));
    m.close();
  });

  test("new chunks go largest first to the workers holding the fewest rows", () => {
    const m = Metadata.open(":memory:");
    const rows = new Map([
      [1, 100],
      [2, 60],
      [3, 50],
      [4, 5],
    ]);
    // By chunk count alone 3 would join 1 on w1; by rows it goes to w2 (60 < 100), then 4 to w1.
    assert.deepEqual(
      [...m.planChunks("db1", [4, 3, 2, 1], ["w1", "w2"], 1, rows)].sort((a, b) => a[0] - b[0]),
      [
        [1, ["w1"]],
        [2, ["w2"]],
        [3, ["w2"]],
        [4, ["w1"]],
      ],
    );
    m.close();
  });

  test("planChunks places new chunks like assignChunks but records nothing", () => {
    const m = withObject();
    assert.deepEqual(
      [...m.planChunks("db1", [1, 2], ["w1", "w2", "w3"], 2)],
      [
        [1, ["w1", "w2"]],
        [2, ["w3", "w1"]],
      ],
    );
    assert.deepEqual(m.placements(), []);
    m.close();
  });

  test("kept lookups follow every write at once, and another connection's from the next turn; they are frozen", async () => {
    const file = join(tempDir(), "meta.sqlite");
    const m = Metadata.open(file);
    const reader = Metadata.openReader(file);
    m.createDatabase(DB);
    m.assignChunks("db1", [1], ["w1"], 1);
    assert.deepEqual(m.replicas("db1", 1), ["w1"]);
    const g0 = reader.generation();
    assert.deepEqual(reader.replicas("db1", 1), ["w1"]);
    // Same turn, same connection: each write is seen by the next read.
    m.addReplica("db1", 1, "w2");
    assert.deepEqual(m.replicas("db1", 1), ["w1", "w2"]);
    assert.equal(m.removeReplica("db1", 1, "w1"), true);
    assert.deepEqual(m.replicas("db1", 1), ["w2"]);
    assert.equal(m.table("db1", "Object"), null);
    m.registerTable({ config: table("Object"), loadId: "L1", rows: 1, chunks: [{ id: 1, rows: 1, overlapRows: 0 }] });
    assert.equal(m.table("db1", "Object")?.rows, 1);
    assert.equal(m.snapshotSeq("db1"), 1);
    // The reader's answers are of its turn; from the next one it sees the writer's commits.
    await new Promise((r) => setImmediate(r));
    assert.notEqual(reader.generation(), g0);
    assert.deepEqual(reader.replicas("db1", 1), ["w2"]);
    assert.equal(reader.table("db1", "Object")?.rows, 1);
    // Shared answers cannot be changed by a caller; replica lists are the caller's own copy.
    const t = m.table("db1", "Object");
    assert.throws(() => {
      (t as { rows: number }).rows = 5;
    }, TypeError);
    assert.throws(() => {
      (t?.config as { directorKey: string }).directorKey = "x";
    }, TypeError);
    m.replicas("db1", 1).push("w9");
    assert.deepEqual(m.replicas("db1", 1), ["w2"]);
    reader.close();
    m.close();
  });

  test("a file keeps everything across close and reopen", () => {
    const file = join(tempDir(), "meta.sqlite");
    const m = Metadata.open(file);
    m.upsertWorker({ id: "w1", address: "x:1" });
    m.createDatabase(DB);
    m.registerTable({
      config: table("Object"),
      loadId: "L",
      rows: 1,
      chunks: [{ id: 9, rows: 1, overlapRows: 0 }],
      directorIndex: entries([["29759322768015697", 9]]),
    });
    m.assignChunks("db1", [9], ["w1"], 1);
    m.close();
    const r = Metadata.open(file);
    assert.deepEqual(r.workers(), [{ id: "w1", address: "x:1" }]);
    assert.deepEqual(r.database("db1"), DB);
    assert.deepEqual(r.tableChunks("db1", "Object"), [9]);
    assert.deepEqual(r.replicas("db1", 9), ["w1"]);
    assert.deepEqual(r.lookupKeys("db1", "Object", [29759322768015697n]), [9]);
    r.close();
  });
});
