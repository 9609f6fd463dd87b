/**
 * Spatial queries over two worker processes equal a single SQLite database's answers, on objects
 * crowded in one sub-chunk, spread across longitude 0/360 and near a pole: near-neighbour
 * self-joins (pairs across 0/360 have one side in the overlap of a chunk at the other end of the
 * stripe; near the pole there is no longitude band), with and without an areaspec, as pair
 * lists and counts; and cone and box searches, which the czar narrows per chunk to the
 * sub-chunks and declination band they meet. Worker chunk tables carry the (subChunkId, decl, ra)
 * index those narrowed queries seek.
 */
import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { tableDialect } from "../../src/common/ingestConfig.js";
import type { Value } from "../../src/common/rowCodec.js";
import { Czar } from "../../src/czar/czar.js";
import { ingestTable } from "../../src/czar/ingest.js";
import { planSelect } from "../../src/czar/plan/planner.js";
import { parseStatement } from "../../src/czar/sql/parser.js";
import { startCluster, type TestCluster } from "../support/cluster.js";
import { tempDir } from "../support/fs.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { jsonRowSet } from "../support/rows.js";
import { synDatabase, synTable } from "../support/synthetic.js";

const R = 0.015;
const SEP = `scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < ${R}`;

/** Seeded positions: a crowd at (100, 30), a band across ra 0/360 at dec 20, a cap near dec 88, some sky. */
function catalog(): string {
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const lines: string[] = [];
  const add = (ra: number, dec: number) =>
    lines.push(
      `${lines.length + 1},${(((ra % 360) + 360) % 360).toFixed(6)},${dec.toFixed(6)},${(rnd() * 100).toFixed(3)}\n`,
    );
  for (let i = 0; i < 1500; i++) add(100 + rnd() * 0.3, 30 + rnd() * 0.3);
  for (let i = 0; i < 600; i++) add(-0.2 + rnd() * 0.4, 20 + rnd() * 0.4);
  for (let i = 0; i < 400; i++) add(rnd() * 360, 87.6 + rnd() * 0.4);
  for (let i = 0; i < 500; i++) add(rnd() * 360, -60 + rnd() * 120);
  return lines.join("");
}

describe("spatial queries", () => {
  const dir = tempDir();
  const database = synDatabase();
  const table = synTable();
  let cluster: TestCluster;
  let czar: Czar;
  let ref: Database.Database;

  const query = async (sql: string): Promise<string[]> =>
    jsonRowSet((await czar.execute(sql, { database: "qsyn" })).rows);
  const reference = (sql: string): string[] =>
    jsonRowSet(ref.prepare(sql).raw(true).safeIntegers(true).all() as Value[][]);

  before(async () => {
    const csv = join(dir, "obj.csv");
    writeFileSync(csv, catalog());
    cluster = await startCluster(dir, 2, 1);
    await ingestTable(cluster.ctx, { database, table, files: [csv] });
    const meta = cluster.ctx.meta;
    czar = new Czar({
      catalog: meta,
      directory: { replicas: (db, c) => meta.replicas(db, c), client: (id) => cluster.client(id) },
    });
    ref = referenceDb();
    loadReference(ref, csv, { ...table, longitudeKey: "" }, tableDialect(table, csv), database);
    ref.exec("CREATE INDEX obj_decl ON Obj (decl)");
  });
  after(async () => {
    ref?.close();
    await cluster?.stop();
  });

  // The reference finds pairs by a declination band (an index range) and the exact separation.
  const refPairs = (extra = "") =>
    `FROM Obj o1, Obj o2 WHERE o2.decl BETWEEN o1.decl - ${R} AND o1.decl + ${R} AND o1.objectId <> o2.objectId AND ${SEP}${extra}`;

  test("every pair over the whole sky, crowded, across ra 0/360 and near the pole", async () => {
    const got = await query(
      `SELECT o1.objectId, o2.objectId FROM Obj o1, Obj o2 WHERE ${SEP} AND o1.objectId <> o2.objectId`,
    );
    const want = reference(`SELECT o1.objectId, o2.objectId ${refPairs()}`);
    assert.ok(want.length > 10_000, `${want.length} pairs`);
    assert.deepEqual(got, want);
    const pairsAt = async (where: string) =>
      (await query(`SELECT COUNT(*) FROM Obj o1, Obj o2 WHERE ${SEP} AND o1.objectId <> o2.objectId AND ${where}`))[0];
    // Pairs that straddle ra 0, and pairs near the pole, are among them.
    assert.notEqual(await pairsAt("o1.ra < 1 AND o2.ra > 359"), "[0]");
    assert.notEqual(await pairsAt("o1.decl > 87.5"), "[0]");
  });

  test("counts and an areaspec (on both sides, as in Qserv)", async () => {
    const box = "o1.ra BETWEEN 100.1 AND 100.25 AND o1.decl BETWEEN 30.05 AND 30.2";
    const box2 = box.replaceAll("o1.", "o2.");
    assert.deepEqual(
      await query(
        `SELECT COUNT(*), SUM(o2.objectId) FROM Obj o1, Obj o2 WHERE qserv_areaspec_box(100.1, 30.05, 100.25, 30.2) AND ${SEP} AND o1.objectId <> o2.objectId`,
      ),
      reference(`SELECT COUNT(*), SUM(o2.objectId) ${refPairs(` AND ${box} AND ${box2}`)}`),
    );
    assert.deepEqual(
      await query(`SELECT COUNT(*) FROM Obj o1, Obj o2 WHERE ${SEP} AND o1.objectId <> o2.objectId AND o1.ra < 0.5`),
      reference(`SELECT COUNT(*) ${refPairs(" AND o1.ra < 0.5")}`),
    );
  });

  test("the per-chunk SQL narrows pairs natively before the separation: zones, or bands at ra 0/360 and the poles", () => {
    const plan = planSelect(
      parseStatement(`SELECT COUNT(*) FROM Obj o1, Obj o2 WHERE ${SEP}`) as Parameters<typeof planSelect>[0],
      "qsyn",
      cluster.ctx.meta,
    );
    assert.ok(plan.jobs.length > 0);
    const zoned = plan.jobs.filter((j) => j.sql.includes("_mq_nn_key"));
    for (const j of plan.jobs) {
      if (zoned.includes(j)) assert.match(j.sql, /"o2"\."_mq_nn_key" = "o1"\."_mq_nn_key"/, j.sql);
      else assert.match(j.sql, /WHERE\s+\(?"?o2"?\."?decl"?\s+BETWEEN/i, j.sql);
      assert.match(j.sql, /scisql_angSep/, "the exact test stays");
    }
    // The whole sky holds chunks of both kinds (this catalog crowds ra 0 and the pole).
    assert.ok(zoned.length > 0 && zoned.length < plan.jobs.length, `${zoned.length} of ${plan.jobs.length} zoned`);
    assert.ok(plan.jobs.some((j) => /FullOverlap/.test(j.sql)) && plan.jobs.some((j) => !/FullOverlap/.test(j.sql)));
  });

  test("cones and boxes, across ra 0/360, near the pole, in the crowd: narrowed per chunk, same rows", async () => {
    const searches: Array<[string, string]> = [
      ["qserv_areaspec_circle(0.05, 20.2, 0.15)", "scisql_s2PtInCircle(ra, decl, 0.05, 20.2, 0.15) = 1"],
      ["qserv_areaspec_circle(45, 87.8, 0.5)", "scisql_s2PtInCircle(ra, decl, 45, 87.8, 0.5) = 1"],
      ["qserv_areaspec_box(359.9, 20.05, 0.1, 20.3)", "scisql_s2PtInBox(ra, decl, 359.9, 20.05, 0.1, 20.3) = 1"],
      ["qserv_areaspec_box(100.05, 30.05, 100.2, 30.2)", "scisql_s2PtInBox(ra, decl, 100.05, 30.05, 100.2, 30.2) = 1"],
      ["qserv_areaspec_circle(100.1, 30.1, 0.05)", "scisql_s2PtInCircle(ra, decl, 100.1, 30.1, 0.05) = 1"],
    ];
    for (const [areaspec, scisql] of searches) {
      const want = reference(`SELECT objectId, ra, decl FROM Obj WHERE ${scisql}`);
      assert.ok(want.length > 0, `${areaspec} finds something`);
      assert.deepEqual(await query(`SELECT objectId, ra, decl FROM Obj WHERE ${areaspec}`), want, areaspec);
      assert.deepEqual(
        await query(`SELECT COUNT(*), SUM(objectId) FROM Obj WHERE ${areaspec}`),
        reference(`SELECT COUNT(*), SUM(objectId) FROM Obj WHERE ${scisql}`),
        areaspec,
      );
    }
    // A small cone's chunk query names the sub-chunks it meets and the declination band.
    const plan = planSelect(
      parseStatement("SELECT objectId FROM Obj WHERE qserv_areaspec_circle(100.1, 30.1, 0.05)") as Parameters<
        typeof planSelect
      >[0],
      "qsyn",
      cluster.ctx.meta,
    );
    for (const j of plan.jobs) {
      assert.match(j.sql, /subChunkId"?\s+IN\s*\(/i, j.sql);
      assert.match(j.sql, /decl"?\s+BETWEEN/i, j.sql);
    }
  });

  test("chunk tables index (subChunkId, decl, ra)", () => {
    const chunkDir = join(dir, "w1", "qsyn");
    const f = readdirSync(chunkDir).find((n) => /^chunk_\d+\.sqlite$/.test(n));
    assert.ok(f, "a chunk file");
    const db = new Database(join(chunkDir, f), { readonly: true });
    try {
      const cols = db
        .prepare(
          "SELECT name FROM pragma_index_info((SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'Obj\\_%\\_subChunkId' ESCAPE '\\' LIMIT 1))",
        )
        .pluck()
        .all();
      assert.deepEqual(cols, ["subChunkId", "decl", "ra"]);
    } finally {
      db.close();
    }
  });
});
