/**
 * The native near-neighbour join (zone keys, unit vectors, the exact scisql_angSep only within a
 * hair of the distance) over two worker processes equals one SQLite database's answers: pairs in
 * a crowd across a chunk corner and its sub-chunk borders, across ra 0/360 and near a pole (where
 * the bands stay), with an areaspec on both sides; and a cross-match of a second director table
 * (Hsc: shifted positions of a subsample of the rows, in the same partitioning) at the same places.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type Database from "better-sqlite3";
import { parseTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import type { Value } from "../../src/common/rowCodec.js";
import { Czar } from "../../src/czar/czar.js";
import { ingestTable } from "../../src/czar/ingest.js";
import { planSelect } from "../../src/czar/plan/planner.js";
import type { Select } from "../../src/czar/sql/ast.js";
import { parseStatement } from "../../src/czar/sql/parser.js";
import { Chunker } from "../../src/sphere/chunker.js";
import { startCluster, type TestCluster } from "../support/cluster.js";
import { tempDir } from "../support/fs.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { jsonRowSet } from "../support/rows.js";
import { SYN_DATABASE_JSON, SYN_TABLE_JSON, synDatabase, synTable } from "../support/synthetic.js";

const R = 0.015;
const SEP = `scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < ${R}`;
/** Cross-match radius: 1″; Hsc positions are up to 1.8″ a coordinate from their object's. */
const XR = 1 / 3600;
const XSEP = `scisql_angSep(o.ra, o.decl, h.ra, h.decl) < ${XR}`;

const HSC_JSON = {
  ...SYN_TABLE_JSON,
  table: "Hsc",
  director_key: "hscId",
  schema: SYN_TABLE_JSON.schema.map((c) => (c.name === "objectId" ? { ...c, name: "hscId" } : c)),
};

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** A chunk corner of the test database's partitioning (ra, dec): a crowd around it spans chunks and sub-chunks. */
function chunkCorner(): [number, number] {
  const c = synDatabase();
  const chunker = new Chunker({
    numStripes: c.numStripes,
    numSubStripesPerStripe: c.numSubStripes,
    overlap: c.overlap,
  });
  const box = chunker.chunkBounds(chunker.locate(100, 30).chunkId);
  return [box.raMin, box.decMin];
}

/** Obj rows: a crowd around a chunk corner, a band across ra 0/360 at dec 20, a cap near dec 88. Hsc: 40% of them, shifted. */
function catalogs(): { obj: string; hsc: string } {
  const rnd = seeded(4242);
  const [ra0, dec0] = chunkCorner();
  const obj: string[] = [];
  const hsc: string[] = [];
  const norm = (ra: number) => (((ra % 360) + 360) % 360).toFixed(6);
  const add = (ra: number, dec: number) => {
    obj.push(`${obj.length + 1},${norm(ra)},${dec.toFixed(6)},${(rnd() * 100).toFixed(3)}\n`);
    if (rnd() < 0.4) {
      // Up to 1.8″ a coordinate: about a quarter within 1″, some near it.
      const s = (rnd() - 0.5) * 1e-3;
      const t = (rnd() - 0.5) * 1e-3;
      const cosd = Math.cos((dec * Math.PI) / 180);
      hsc.push(`${hsc.length + 1},${norm(ra + s / cosd)},${(dec + t).toFixed(6)},${(rnd() * 100).toFixed(3)}\n`);
    }
  };
  for (let i = 0; i < 900; i++) add(ra0 - 0.2 + rnd() * 0.4, dec0 - 0.2 + rnd() * 0.4);
  for (let i = 0; i < 400; i++) add(-0.15 + rnd() * 0.3, 20 + rnd() * 0.3);
  for (let i = 0; i < 150; i++) add(-0.0005 + rnd() * 0.001, 20 + rnd() * 0.3);
  for (let i = 0; i < 250; i++) add(rnd() * 360, 87.7 + rnd() * 0.3);
  return { obj: obj.join(""), hsc: hsc.join("") };
}

describe("native near-neighbour join and cross-match", () => {
  const dir = tempDir();
  const database = synDatabase();
  const objTable = synTable();
  const hscTable = parseTableConfig(HSC_JSON);
  let cluster: TestCluster;
  let czar: Czar;
  let ref: Database.Database;

  const query = async (sql: string): Promise<string[]> =>
    jsonRowSet((await czar.execute(sql, { database: "qsyn" })).rows);
  const reference = (sql: string): string[] =>
    jsonRowSet(ref.prepare(sql).raw(true).safeIntegers(true).all() as Value[][]);
  /** The one number a COUNT(*) answers. */
  const count = async (sql: string): Promise<number> => Number((await query(sql))[0]?.slice(1));
  const plan = (sql: string) => planSelect(parseStatement(sql) as Select, "qsyn", cluster.ctx.meta);

  before(async () => {
    const { obj, hsc } = catalogs();
    const [objCsv, hscCsv] = [join(dir, "obj.csv"), join(dir, "hsc.csv")];
    writeFileSync(objCsv, obj);
    writeFileSync(hscCsv, hsc);
    cluster = await startCluster(dir, 2, 1);
    // Both workers answering first (the ingest's own probe gives a worker 2 s; a loaded machine's
    // fresh worker can take longer).
    await Promise.all(["w1", "w2"].map((id) => cluster.client(id).status({ timeoutMs: 300_000 })));
    await ingestTable(cluster.ctx, { database, table: objTable, files: [objCsv] });
    await ingestTable(cluster.ctx, { database, table: hscTable, files: [hscCsv] });
    const meta = cluster.ctx.meta;
    czar = new Czar({
      catalog: meta,
      directory: { replicas: (db, c) => meta.replicas(db, c), client: (id) => cluster.client(id) },
    });
    ref = referenceDb();
    const stripes = { numStripes: SYN_DATABASE_JSON.num_stripes, numSubStripes: SYN_DATABASE_JSON.num_sub_stripes };
    loadReference(ref, objCsv, objTable, tableDialect(objTable, objCsv), stripes);
    loadReference(ref, hscCsv, hscTable, tableDialect(hscTable, hscCsv), stripes);
    ref.exec("CREATE INDEX obj_decl ON Obj (decl)");
  });
  after(async () => {
    ref?.close();
    await cluster?.stop();
  });

  test("self-join pairs at a chunk corner, across ra 0/360 and near the pole equal SQLite's", async () => {
    const got = await query(
      `SELECT o1.objectId, o2.objectId FROM Obj o1, Obj o2 WHERE ${SEP} AND o1.objectId <> o2.objectId`,
    );
    const want = reference(
      `SELECT o1.objectId, o2.objectId FROM Obj o1, Obj o2 WHERE o2.decl BETWEEN o1.decl - ${R} AND o1.decl + ${R} AND ${SEP} AND o1.objectId <> o2.objectId`,
    );
    assert.ok(want.length > 5000, `${want.length} pairs`);
    assert.deepEqual(got, want);
    // Pairs across ra 0 and near the pole are among them.
    const pairs = (where: string) =>
      count(`SELECT COUNT(*) FROM Obj o1, Obj o2 WHERE ${SEP} AND o1.objectId <> o2.objectId AND ${where}`);
    assert.ok((await pairs("o1.ra < 1 AND o2.ra > 359")) > 0);
    assert.ok((await pairs("o1.decl > 87.5")) > 0);
  });

  test("an areaspec on both sides, counts and sums, the separation written the other way round", async () => {
    const [ra0, dec0] = chunkCorner();
    const [r0, d0, r1, d1] = [ra0 - 0.12, dec0 - 0.1, ra0 + 0.15, dec0 + 0.13];
    const inBox = (p: string) => `${p}.ra BETWEEN ${r0} AND ${r1} AND ${p}.decl BETWEEN ${d0} AND ${d1}`;
    assert.deepEqual(
      await query(
        `SELECT COUNT(*), SUM(o2.objectId), MIN(o1.objectId) FROM Obj o1, Obj o2 WHERE qserv_areaspec_box(${r0}, ${d0}, ${r1}, ${d1}) AND ${R} >= scisql_angSep(o2.ra, o2.decl, o1.ra, o1.decl) AND o1.objectId <> o2.objectId`,
      ),
      reference(
        `SELECT COUNT(*), SUM(o2.objectId), MIN(o1.objectId) FROM Obj o1, Obj o2 WHERE ${inBox("o1")} AND ${inBox("o2")} AND scisql_angSep(o2.ra, o2.decl, o1.ra, o1.decl) <= ${R} AND o1.objectId <> o2.objectId`,
      ),
    );
  });

  test("a cross-match of Hsc to Obj within 1″ equals SQLite's, at the same places", async () => {
    const got = await query(`SELECT o.objectId, h.hscId FROM Obj o, Hsc h WHERE ${XSEP}`);
    const want = reference(
      `SELECT o.objectId, h.hscId FROM Obj o, Hsc h WHERE o.decl BETWEEN h.decl - ${XR} AND h.decl + ${XR} AND ${XSEP}`,
    );
    const unmatched = ref
      .prepare(`SELECT COUNT(*) FROM Hsc h WHERE NOT EXISTS (SELECT 1 FROM Obj o WHERE ${XSEP})`)
      .pluck()
      .get() as number;
    assert.ok(want.length > 100 && unmatched > 0, `${want.length} matches, ${unmatched} Hsc rows farther than 1″`);
    assert.deepEqual(got, want);
    // Matches across ra 0 (a side each) and near the pole are among them.
    const matches = (where: string) => count(`SELECT COUNT(*) FROM Hsc h, Obj o WHERE ${XSEP} AND ${where}`);
    assert.ok((await matches("((o.ra < 0.001 AND h.ra > 359.999) OR (o.ra > 359.999 AND h.ra < 0.001))")) > 0);
    assert.ok((await matches("h.decl > 87.5")) > 0);
  });

  test("per chunk: the zone join away from ra 0/360 and the poles, the bands there", () => {
    const jobs = plan(`SELECT COUNT(*) FROM Obj o, Hsc h WHERE ${XSEP}`).jobs;
    const zoned = jobs.filter((j) => j.sql.includes("_mq_nn_key"));
    assert.ok(zoned.length > 0 && zoned.length < jobs.length, `${zoned.length} of ${jobs.length}`);
    for (const j of zoned) assert.match(j.sql, /scisql_angSep/, "the exact test stays, within the hair");
    for (const j of jobs.filter((x) => !x.sql.includes("_mq_nn_key")))
      assert.match(j.sql, /"?h"?\."?decl"?\s+BETWEEN/i, "the bands where the zones are not used");
    // A join of the two tables that is not a cross-match within the overlap is still gathered.
    assert.equal(plan("SELECT COUNT(*) FROM Obj o, Hsc h WHERE o.flux = h.flux").shape, "gather");
  });
});
