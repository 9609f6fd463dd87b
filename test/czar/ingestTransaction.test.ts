/**
 * A table load is one transaction, over three worker processes: a later file appends to a table
 * (answers equal a reference SQLite holding every file), the same file again changes nothing, a
 * bad row or a duplicate director key leaves the table as it was and no stage behind, queries
 * running during a publish see the old or the new table, never a mix, and a worker killed in the
 * middle of an upload fails the load without a trace; the retry succeeds with that worker down.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isQservError, QservError } from "../../src/common/errors.js";
import { tableDialect } from "../../src/common/ingestConfig.js";
import { toJsonValue } from "../../src/common/jsonValue.js";
import type { Value } from "../../src/common/rowCodec.js";
import { Czar } from "../../src/czar/czar.js";
import { DatabaseLocks } from "../../src/czar/databaseLocks.js";
import { type IngestOptions, ingestTable } from "../../src/czar/ingest.js";
import type { WorkerClient } from "../../src/worker/client.js";
import { startCluster, type TestCluster } from "../support/cluster.js";
import { tempDir } from "../support/fs.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { rowSet } from "../support/rows.js";
import { synDatabase, synTable, writeObjects } from "../support/synthetic.js";

const QUERIES = [
  ["SELECT COUNT(*), SUM(objectId), ROUND(SUM(flux), 2) FROM Obj", null],
  [
    "SELECT COUNT(*), MIN(objectId) FROM Obj WHERE qserv_areaspec_box(2, -3, 7, 1)",
    "SELECT COUNT(*), MIN(objectId) FROM Obj WHERE ra BETWEEN 2 AND 7 AND decl BETWEEN -3 AND 1",
  ],
  ["SELECT objectId, ra, decl FROM Obj WHERE objectId IN (5, 100007, 200003, 300009, 400011, 600013, 700017)", null],
] as const;

describe("a table load is one transaction", () => {
  const dir = tempDir();
  const locks = new DatabaseLocks();
  const database = synDatabase();
  const table = synTable();
  let cluster: TestCluster;
  let czar: Czar;
  /** Every file the table should hold, concatenated: the reference's input. */
  let loaded = "";

  const file = (name: string, firstId: number, n: number, extra = "", span?: number): string => {
    const f = join(dir, name);
    writeObjects(f, firstId, n, extra, span);
    return f;
  };
  const ingest = (f: string, o: IngestOptions = {}) => ingestTable(cluster.ctx, { database, table, files: [f] }, o);
  const query = async (sql: string): Promise<Value[][]> =>
    (await czar.execute(sql, { database: "qsyn" })).rows.map((r) => r.map((v) => toJsonValue(v) as Value));
  /** The answers of QUERIES now. */
  const answers = async (): Promise<string[][]> => {
    const out: string[][] = [];
    for (const [sql] of QUERIES) out.push(rowSet(await query(sql), false, 9));
    return out;
  };
  /** The answers of QUERIES from a reference SQLite holding `loaded`. */
  const expected = (): string[][] => {
    const ref = referenceDb();
    const all = join(dir, "reference.csv");
    writeFileSync(all, loaded);
    // No chunk columns in the reference: the queries do not read them.
    loadReference(ref, all, { ...table, longitudeKey: "" }, tableDialect(table, all), database);
    const out = QUERIES.map(([sql, refSql]) =>
      rowSet(
        (
          ref
            .prepare(refSql ?? sql)
            .raw(true)
            .safeIntegers(true)
            .all() as Value[][]
        ).map((r) => r.map((v) => toJsonValue(v) as Value)),
        false,
        9,
      ),
    );
    ref.close();
    return out;
  };
  const accept = (f: string) => {
    loaded += readFileSync(f, "latin1");
  };
  const noStages = async (workers: string[]) => {
    for (const w of workers) {
      const held = (await cluster.client(w).list("qsyn")).databases[0];
      assert.deepEqual(held?.staged ?? [], [], `stages left on ${w}`);
    }
  };

  before(async () => {
    cluster = await startCluster(dir, 3, 2);
    cluster.ctx.locks = locks;
    const meta = cluster.ctx.meta;
    czar = new Czar({
      catalog: meta,
      directory: { replicas: (db, c) => meta.replicas(db, c), client: (id) => cluster.client(id) },
      locks,
      attemptTimeoutMs: 5000,
    });
  });
  after(() => cluster?.stop());

  test("a second file appends; answers equal a reference holding both; the same file again changes nothing", async () => {
    const a = file("a.csv", 1, 5000);
    const first = await ingest(a);
    accept(a);
    assert.deepEqual([first.rows, first.tableRows, first.duplicate], [5000, 5000, false]);
    assert.ok(first.chunks > 20, `${first.chunks} chunks`);
    const b = file("b.csv", 100001, 5000);
    const second = await ingest(b);
    accept(b);
    assert.deepEqual([second.rows, second.tableRows, second.duplicate], [5000, 10000, false]);
    const want = expected();
    assert.deepEqual(await answers(), want);
    assert.deepEqual((await query("SELECT COUNT(*) FROM Obj"))[0], [10000]);
    assert.equal(cluster.ctx.meta.lookupKeys("qsyn", "Obj", [100007n]).length, 1);
    const again = await ingest(b);
    assert.deepEqual([again.rows, again.tableRows, again.duplicate], [5000, 10000, true]);
    assert.deepEqual(await answers(), want);
    await noStages([...cluster.workers.keys()]);
  });

  test("a bad row or a key loaded before: an error naming it, the table unchanged, no stage left; a good retry loads", async () => {
    const before = await answers();
    const bad = file("c.csv", 200001, 2000, "200000,not-a-number,3,4\n");
    await assert.rejects(ingest(bad), (e: unknown) => {
      assert.ok(isQservError(e) && e.code === "BAD_INPUT", String(e));
      assert.match(e.message, /c\.csv:2001: ra "not-a-number" is not a number/);
      return true;
    });
    assert.deepEqual(await answers(), before);
    await noStages([...cluster.workers.keys()]);
    const dup = file("dup.csv", 100007, 1);
    await assert.rejects(ingest(dup), (e: unknown) => {
      assert.ok(isQservError(e) && e.code === "CONFLICT", String(e));
      assert.match(e.message, /duplicate director key objectId=100007/);
      return true;
    });
    assert.deepEqual(await answers(), before);
    assert.equal(cluster.ctx.meta.table("qsyn", "Obj")?.rows, 10000);
    const good = file("c.csv", 200001, 2000);
    const r = await ingest(good);
    accept(good);
    assert.equal(r.tableRows, 12000);
    assert.deepEqual(await answers(), expected());
    await assert.rejects(
      ingestTable(cluster.ctx, { database, table: { ...table, uniquePrimaryKey: false }, files: [good] }),
      /exists with another config \(uniquePrimaryKey differ\)/,
    );
  });

  test("queries during an append see the old or the new table, never a mix", async () => {
    const [[old]] = (await query("SELECT COUNT(*) FROM Obj")) as [[number]];
    const f = file("d.csv", 300001, 5000);
    let done = false;
    const load = ingest(f).finally(() => {
      done = true;
    });
    const seen: number[] = [];
    while (!done) seen.push(Number((await query("SELECT COUNT(*) FROM Obj"))[0]?.[0]));
    await load;
    accept(f);
    seen.push(Number((await query("SELECT COUNT(*) FROM Obj"))[0]?.[0]));
    assert.ok(seen.length > 5, `${seen.length} queries`);
    assert.deepEqual(
      seen.filter((n) => n !== old && n !== old + 5000),
      [],
    );
    assert.equal(seen.at(-1), old + 5000);
  });

  test("a worker failing to publish leaves its chunks' replicas; when a chunk has none left, the load is taken back", async () => {
    const real = cluster.ctx.clients;
    const failing = (ids: string[]) => (id: string) => {
      const c = real(id);
      if (!ids.includes(id)) return c;
      return Object.assign(Object.create(c) as WorkerClient, {
        publish: () => Promise.reject(new QservError("UNAVAILABLE", `${id} is unreachable`)),
      });
    };
    const before = await answers();
    const f = file("f.csv", 600001, 2000);
    const held = async (w: string) => (await cluster.client(w).list("qsyn")).databases[0]?.chunks.map((c) => c.tables);
    const w3 = await held("w3");
    cluster.ctx.clients = failing(["w1", "w2"]);
    await assert.rejects(ingest(f), /no worker of chunk \d+ could publish the load: rolled back/);
    cluster.ctx.clients = real;
    assert.deepEqual(await held("w3"), w3, "w3 published, then took it back");
    assert.deepEqual(await answers(), before);
    await noStages([...cluster.workers.keys()]);
    // In one corner: w2 leaves a few chunks only, and holds the others for the next test.
    const meta = cluster.ctx.meta;
    const withoutW2 = () => meta.tableChunks("qsyn", "Obj").filter((c) => !meta.replicas("qsyn", c).includes("w2"));
    const lacking = withoutW2().length;
    const g = file("g.csv", 700001, 2000, "", 1);
    cluster.ctx.clients = failing(["w2"]);
    try {
      const r = await ingest(g);
      accept(g);
      assert.equal(r.tableRows, 19000);
    } finally {
      cluster.ctx.clients = real;
    }
    const left = withoutW2().length - lacking;
    assert.ok(left > 0 && left < 5, `w2 left the ${left} chunks it could not publish`);
    assert.deepEqual(await answers(), expected());
  });

  test("a worker killed during the upload: the load goes on with the chunks' other replicas, exact", async () => {
    const f = file("e.csv", 400001, 5000);
    const killer = {
      onProgress: (p: Parameters<NonNullable<IngestOptions["onProgress"]>>[0]) => {
        if (p.phase === "upload" && p.done === 1) cluster.workers.get("w2")?.proc.kill("SIGKILL");
      },
    };
    const r = await ingest(f, killer);
    accept(f);
    assert.equal(r.tableRows, 24000);
    assert.deepEqual(await answers(), expected());
    await noStages(["w1", "w3"]);
    const meta = cluster.ctx.meta;
    for (const c of meta.tableChunks("qsyn", "Obj")) assert.ok(meta.replicas("qsyn", c).some((w) => w !== "w2"));
  });

  test("a replicated table loads on the live workers and appends there", async () => {
    const filt = {
      ...table,
      table: "Filt",
      isPartitioned: false,
      directorKey: "",
      longitudeKey: "",
      latitudeKey: "",
      schema: table.schema.slice(0, 4),
    };
    const load = (f: string) => ingestTable(cluster.ctx, { database, table: filt, files: [f] });
    await load(file("filt1.csv", 1, 30));
    assert.equal((await load(file("filt2.csv", 101, 20))).tableRows, 50);
    assert.deepEqual(cluster.ctx.meta.replicas("qsyn", -1), ["w1", "w3"], "w2 is down");
    assert.deepEqual(await query("SELECT COUNT(*), SUM(objectId) FROM Filt"), [[50, 465 + 2210]]);
    for (const w of ["w1", "w3"]) {
      const r = await cluster.client(w).queryAll({ database: "qsyn", chunkId: -1, sql: "SELECT COUNT(*) FROM Filt" });
      assert.deepEqual(r.rows, [[50n]]);
    }
  });
});
