/** DROP statements as parsed, and what metadata does for loads, unload and drop (one SQLite file). */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { isQservError } from "../../src/common/errors.js";
import { dropTable, unload } from "../../src/czar/dataAdmin.js";
import { DatabaseLocks } from "../../src/czar/databaseLocks.js";
import { ingestTable } from "../../src/czar/ingest.js";
import { Metadata, REPLICATED_CHUNK } from "../../src/czar/metadata.js";
import { parseStatement } from "../../src/czar/sql/parser.js";
import { printMysql } from "../../src/czar/sql/printer.js";
import { startCluster, type TestCluster } from "../support/cluster.js";
import { tempDir } from "../support/fs.js";
import { DB, table } from "../support/tableConfigs.js";

const code = (c: string, re?: RegExp) => (e: unknown) =>
  isQservError(e) && e.code === c && (re === undefined || re.test(e.message));
const idx = (pairs: Array<[string, number]>) => pairs.map(([key, chunkId]) => ({ key, chunkId, subChunkId: 0 }));

/** Object loaded twice (L1 in chunks 10 and 11, L2 in 11 and 12), placed on w1 and w2. */
function twoLoads(file = ":memory:"): Metadata {
  const m = Metadata.open(file);
  m.createDatabase(DB);
  const placement = new Map([10, 11, 12].map((c) => [c, ["w1", "w2"]]));
  const load = (n: number, chunks: number[][], keys: Array<[string, number]>) =>
    m.recordLoad({
      config: table("Object"),
      loadId: `db1.Object.${n}`,
      rows: keys.length,
      files: [`/data/${n}.csv`],
      chunks: chunks.map(([id, rows, overlapRows]) => ({ id: id!, rows: rows!, overlapRows: overlapRows! })),
      placement,
      directorIndex: idx(keys),
    });
  load(
    1,
    [
      [10, 2, 1],
      [11, 3, 0],
    ],
    [
      ["1", 10],
      ["2", 10],
      ["3", 11],
      ["4", 11],
      ["5", 11],
    ],
  );
  load(
    2,
    [
      [11, 1, 2],
      [12, 2, 0],
    ],
    [
      ["6", 11],
      ["7", 12],
      ["8", 12],
    ],
  );
  return m;
}

describe("DROP statements", () => {
  test("DROP TABLE and DROP DATABASE parse, with IF EXISTS, a qualified name, RESTRICT", () => {
    assert.deepEqual(parseStatement("drop table if exists db1.Object restrict;"), {
      kind: "dropTable",
      db: "db1",
      table: "Object",
      ifExists: true,
      pos: { line: 1, column: 1 },
    });
    assert.deepEqual(parseStatement("DROP SCHEMA `db1`"), {
      kind: "dropDatabase",
      db: "db1",
      ifExists: false,
      pos: { line: 1, column: 1 },
    });
    assert.equal(printMysql(parseStatement("DROP TABLE Object")), "DROP TABLE Object");
  });

  test("what is not supported is refused with its position", () => {
    for (const [sql, what] of [
      ["DROP TABLE a, b", /not supported: DROP TABLE of several tables|DROP TABLE of several tables are not supported/],
      ["DROP TABLE a CASCADE", /CASCADE/],
      ["DROP TEMPORARY TABLE a", /DROP TEMPORARY TABLE/],
      ["DROP VIEW v", /DROP VIEW/],
    ] as const) {
      assert.throws(
        () => parseStatement(sql),
        (e: unknown) => isQservError(e) && what.test(e.message) && /not supported/.test(e.message),
        sql,
      );
    }
    assert.throws(() => parseStatement("DROP TABLE IF db1.t"), /syntax error/);
  });
});

describe("metadata of loads, unload and drop", () => {
  const dir = tempDir();
  test("loads lists each load with its files, rows and time", () => {
    const m = twoLoads();
    const l = m.loads("db1", "Object");
    assert.deepEqual(
      l.map((x) => [x.loadId, x.files, x.rows, x.state]),
      [
        ["db1.Object.1", ["/data/1.csv"], 5, "published"],
        ["db1.Object.2", ["/data/2.csv"], 3, "published"],
      ],
    );
    assert.ok(l.every((x) => x.loadedAt !== null && Date.parse(x.loadedAt) > 0));
    assert.deepEqual(m.loads("db2"), []);
  });

  test("unrecording the first load takes exactly its rows, chunk counts and index entries", () => {
    const m = twoLoads();
    const r = m.unrecordLoad("db1", "Object", "db1.Object.1");
    assert.deepEqual([...r.chunks.keys()].sort(), [10, 11]);
    assert.deepEqual(r.chunks.get(10), ["w1", "w2"]);
    assert.equal(r.tableDropped, false);
    assert.equal(m.table("db1", "Object")?.rows, 3);
    assert.deepEqual(
      [...m.chunkContents("db1")].map(([c, t]) => [c, t[0]!.rows, t[0]!.overlapRows]),
      [
        [11, 1, 2],
        [12, 2, 0],
      ],
    );
    // The loads left with rows in each chunk, as the stages workers list them under.
    assert.deepEqual(
      [...m.loadStages("db1")].map(([c, byTable]) => [c, byTable.get("Object")]),
      [
        [11, ["L2"]],
        [12, ["L2"]],
      ],
    );
    assert.deepEqual(m.lookupKeys("db1", "Object", [1n, 3n, 6n, 7n]), [11, 12]);
    assert.deepEqual(m.replicas("db1", 10), [], "chunk 10 holds nothing: its placement goes");
    assert.deepEqual(m.tableChunks("db1", "Object"), [11, 12]);
    assert.equal(m.loadRows("db1", "Object", "db1.Object.1"), null);
    assert.throws(() => m.unrecordLoad("db1", "Object", "db1.Object.1"), code("NOT_FOUND"));
    const last = m.unrecordLoad("db1", "Object", "db1.Object.2");
    assert.equal(last.tableDropped, true);
    assert.equal(m.table("db1", "Object"), null);
    assert.deepEqual(m.placements(), []);
  });

  test("dropTable and dropDatabase take everything of it; a director with children is refused before any change", async () => {
    const m = twoLoads();
    m.recordLoad({
      config: table("Source", { directorTable: "Object", directorKey: "oid" }),
      loadId: "db1.Source.1",
      rows: 2,
      files: [],
      chunks: [{ id: 11, rows: 2, overlapRows: 0 }],
      placement: new Map([[11, ["w1", "w2"]]]),
    });
    m.recordLoad({
      config: table("Filter", { isPartitioned: false }),
      loadId: "db1.Filter.1",
      rows: 4,
      files: [],
      replicatedOn: ["w1", "w2", "w3"],
    });
    assert.deepEqual(m.childTables("db1", "Object"), ["Source"]);
    const ctx = {
      meta: m,
      clients: (): never => assert.fail("no worker is asked when the drop is refused"),
      locks: new DatabaseLocks(),
    };
    await assert.rejects(dropTable(ctx, "db1", "Object"), code("CONFLICT", /child tables follow it \(Source\)/));
    await assert.rejects(unload(ctx, "db1.Object.1"), code("CONFLICT", /Source/));
    await assert.rejects(dropTable(ctx, "db1", "Nope"), code("NOT_FOUND", /Unknown table 'db1.Nope'/));
    assert.equal(m.table("db1", "Object")?.rows, 8);
    const f = m.dropTable("db1", "Filter");
    assert.deepEqual([...f.chunks], [[REPLICATED_CHUNK, ["w1", "w2", "w3"]]]);
    assert.deepEqual(m.replicas("db1", REPLICATED_CHUNK), [], "no replicated table left: its placement goes");
    m.dropTable("db1", "Source");
    assert.deepEqual(m.childTables("db1", "Object"), []);
    const d = m.dropDatabase("db1");
    assert.equal(d.rows, 8);
    assert.equal(m.database("db1"), null);
    assert.deepEqual([m.placements(), m.loads()], [[], []]);
    assert.throws(() => m.dropDatabase("db1"), code("NOT_FOUND", /database doesn't exist/));
  });

  test("metadata of an earlier version opens; its loads are listed as legacy and cannot be unloaded", () => {
    const file = join(dir, "czar.sqlite");
    twoLoads(file).close();
    const raw = new Database(file);
    for (const c of ["files", "loaded_at", "index_first", "index_last"]) raw.exec(`ALTER TABLE loads DROP COLUMN ${c}`);
    raw.exec("DROP TABLE load_chunks");
    raw.pragma("user_version = 2");
    raw.close();
    const m = Metadata.open(file);
    assert.deepEqual(
      m.loads().map((l) => [l.loadId, l.state, l.files]),
      [
        ["db1.Object.1", "legacy", []],
        ["db1.Object.2", "legacy", []],
      ],
    );
    assert.throws(() => m.unrecordLoad("db1", "Object", "db1.Object.2"), code("UNSUPPORTED", /not supported/));
    assert.equal(m.dropTable("db1", "Object").rows, 8);
    m.close();
  });
});

describe("unloading a replicated table's loads on worker processes (3 workers, R = 2)", () => {
  const dir = tempDir();
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster(dir, 3, 2);
  });
  after(() => cluster?.stop());

  const config = table("Filter", {
    isPartitioned: false,
    directorKey: "",
    longitudeKey: "",
    latitudeKey: "",
    schema: [
      { name: "id", type: "BIGINT" },
      { name: "x", type: "DOUBLE" },
    ],
  });
  /** File i holds ids i*100 .. i*100+n-1. */
  const file = (i: number, n: number) => {
    const f = join(dir, `filter${i}.csv`);
    writeFileSync(f, Array.from({ length: n }, (_, k) => `${i * 100 + k},${k / 2}\n`).join(""));
    return f;
  };
  const ingest = (f: string) => ingestTable(cluster.ctx, { database: DB, table: config, files: [f] });
  /** COUNT and SUM(id) of Filter on every worker, as "count/sum". */
  const onWorkers = async () =>
    Promise.all(
      [...cluster.workers.keys()].map(async (w) => {
        const r = await cluster
          .client(w)
          .queryAll({ database: "db1", chunkId: -1, sql: "SELECT COUNT(*), SUM(id) FROM Filter" });
        return `${r.rows[0]?.[0]}/${r.rows[0]?.[1]}`;
      }),
    );

  test("the first load out leaves exactly the second's rows everywhere; the last takes the table; the file loads again", async () => {
    const [a, b] = [file(1, 5), file(2, 3)];
    await ingest(a);
    await ingest(b);
    const ctx = { meta: cluster.ctx.meta, clients: cluster.ctx.clients, locks: new DatabaseLocks() };
    const [la, lb] = cluster.ctx.meta.loads("db1", "Filter");
    assert.deepEqual([la?.files, lb?.files], [[a], [b]]);
    const r = await unload(ctx, la!.loadId);
    assert.deepEqual([r.rows, r.pending], [5, []]);
    const sumB = 200 + 201 + 202;
    assert.deepEqual(await onWorkers(), Array(3).fill(`3/${sumB}`));
    assert.equal(cluster.ctx.meta.table("db1", "Filter")?.rows, 3);
    await unload(ctx, lb!.loadId);
    assert.equal(cluster.ctx.meta.table("db1", "Filter"), null);
    for (const w of cluster.workers.keys()) {
      const held = (await cluster.client(w).list("db1")).databases;
      assert.deepEqual(held, [], `${w} holds nothing of db1`);
    }
    const again = await ingest(a);
    assert.equal(again.duplicate, false);
    assert.deepEqual(await onWorkers(), Array(3).fill(`5/${100 + 101 + 102 + 103 + 104}`));
  });
});
