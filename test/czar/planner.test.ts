/**
 * Planner and merger, in process: a fake catalog and "workers" that are in-memory SQLite chunk
 * databases. Every answer is checked against one SQLite database holding all the rows.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import { prng } from "../../bench/generate.js";
import type { DatabaseConfig, TableConfig } from "../../src/common/ingestConfig.js";
import type { Value } from "../../src/common/rowCodec.js";
import type { CzarCatalog, Key, TableMeta } from "../../src/czar/catalog.js";
import { Czar } from "../../src/czar/czar.js";
import type { WorkerDirectory } from "../../src/czar/exec/dispatch.js";
import { planSelect } from "../../src/czar/plan/planner.js";
import type { Select } from "../../src/czar/sql/ast.js";
import { parseStatement } from "../../src/czar/sql/parser.js";
import { printMysql } from "../../src/czar/sql/printer.js";
import { Chunker } from "../../src/sphere/chunker.js";
import { BoxRegion, CircleRegion } from "../../src/sphere/regions.js";
import { registerMysqlCompat } from "../../src/sqlite/mysqlCompat.js";
import { registerScisql } from "../../src/sqlite/scisql.js";
import { rowSet } from "../support/rows.js";

const DB: DatabaseConfig = { database: "sky", numStripes: 18, numSubStripes: 4, overlap: 0.5 };
const chunker = new Chunker({ numStripes: 18, numSubStripesPerStripe: 4, overlap: 0.5 });

const objectCfg: TableConfig = {
  database: "sky",
  table: "Object",
  isPartitioned: true,
  directorTable: "",
  directorKey: "objectId",
  longitudeKey: "ra",
  latitudeKey: "decl",
  schema: [
    { name: "objectId", type: "BIGINT NOT NULL" },
    { name: "ra", type: "DOUBLE" },
    { name: "decl", type: "DOUBLE" },
    { name: "mag", type: "DOUBLE" },
    { name: "band", type: "CHAR(1)" },
    { name: "chunkId", type: "INT" },
    { name: "subChunkId", type: "INT" },
  ],
};

interface Row {
  objectId: bigint;
  ra: number;
  decl: number;
  mag: number | null;
  band: string;
  chunkId: number;
  subChunkId: number;
}

/** Objects around a few spots, so that several chunks hold rows. */
function makeRows(n: number): Row[] {
  const rnd = prng(7);
  const out: Row[] = [];
  for (let i = 0; i < n; i++) {
    const ra = (10 + rnd() * 40) % 360;
    const decl = -20 + rnd() * 40;
    const { chunkId, subChunkId } = chunker.locate(ra, decl);
    out.push({
      objectId: 1_000_000_000_000n + BigInt(i) * 3n,
      ra,
      decl,
      mag: i % 17 === 0 ? null : 15 + rnd() * 10,
      band: "ugriz"[i % 5]!,
      chunkId,
      subChunkId,
    });
  }
  return out;
}

const ROWS = makeRows(3000);
const COLS = objectCfg.schema.map((c) => c.name);

function insert(db: Database.Database, table: string, rows: Row[]): void {
  db.exec(
    `CREATE TABLE "${table}" (objectId INTEGER, ra REAL, decl REAL, mag REAL, band TEXT, chunkId INTEGER, subChunkId INTEGER)`,
  );
  const ins = db.prepare(`INSERT INTO "${table}" VALUES (${COLS.map(() => "?").join(",")})`);
  db.transaction(() => {
    for (const r of rows) ins.run(r.objectId, r.ra, r.decl, r.mag, r.band, r.chunkId, r.subChunkId);
  })();
}

const byChunk = new Map<number, Row[]>();
for (const r of ROWS) {
  const l = byChunk.get(r.chunkId) ?? [];
  l.push(r);
  byChunk.set(r.chunkId, l);
}
const CHUNKS = [...byChunk.keys()].sort((a, b) => a - b);

const meta: TableMeta = { database: "sky", name: "Object", kind: "director", config: objectCfg, rows: ROWS.length };
const catalog: CzarCatalog = {
  database: (n) => (n === "sky" ? DB : null),
  databases: () => [DB],
  table: (db, n) => (db === "sky" && n === "Object" ? meta : null),
  tables: () => [meta],
  chunks: () => CHUNKS,
  tableChunks: () => CHUNKS,
  lookupKeys: (_db, _t, keys: ReadonlyArray<Key>) => {
    const want = new Set(keys.map((k) => String(k)));
    return [...new Set(ROWS.filter((r) => want.has(String(r.objectId))).map((r) => r.chunkId))];
  },
  keyChunks: (_db, _t, keys: ReadonlyArray<Key>) =>
    keys.map((k) => [...new Set(ROWS.filter((r) => String(r.objectId) === String(k)).map((r) => r.chunkId))]),
  lookupRange: (_db, _t, lo, loInc, hi, hiInc) => {
    const ok = (k: bigint) =>
      (lo === null || (loInc ? k >= BigInt(lo) : k > BigInt(lo))) &&
      (hi === null || (hiInc ? k <= BigInt(hi) : k < BigInt(hi)));
    return [...new Set(ROWS.filter((r) => ok(r.objectId)).map((r) => r.chunkId))];
  },
};

/** One in-memory database per chunk, answering like a worker, batches too (no sub-chunk support needed here). */
const chunkDbs = new Map<number, Database.Database>();
for (const [id, rows] of byChunk) {
  const db = new Database(":memory:");
  registerScisql(db);
  registerMysqlCompat(db);
  insert(db, `Object_${id}`, rows);
  chunkDbs.set(id, db);
}
const directory: WorkerDirectory = {
  replicas: () => ["local"],
  client: () => ({
    async *query(spec) {
      const batched = (spec.chunks?.length ?? 0) > 0;
      const parts = batched ? spec.chunks! : [spec];
      for (const [i, part] of parts.entries()) {
        const stmt = chunkDbs.get(part.chunkId)!.prepare(part.sql).raw(true).safeIntegers(true);
        if (i === 0)
          yield { kind: "header", columns: stmt.columns().map((c) => ({ name: c.name, declType: c.type ?? "" })) };
        const rows = stmt.all() as Value[][];
        yield { kind: "rows", rows };
        if (batched) yield { kind: "chunkDone", chunkId: part.chunkId, rows: rows.length };
      }
      yield { kind: "summary", summary: { rowCount: 0, bytes: 0, queuedMs: 0, execMs: 0, elapsedMs: 0 } };
    },
  }),
};

const reference = new Database(":memory:");
registerScisql(reference);
registerMysqlCompat(reference);
insert(reference, "Object", ROWS);

const czar = new Czar({ catalog, directory, concurrency: 3 });

const plan = (sql: string) => planSelect(parseStatement(sql) as Select, "sky", catalog);

async function check(sql: string, referenceSql = sql, ordered = /ORDER BY/i.test(sql)): Promise<number> {
  const got = await czar.execute(sql, { database: "sky" });
  const want = reference.prepare(referenceSql).raw(true).safeIntegers(true).all() as Value[][];
  assert.deepEqual(rowSet(got.rows, ordered, 12), rowSet(want, ordered, 12), sql);
  return got.rows.length;
}

describe("planner: chunk sets", () => {
  test("a box or circle visits exactly the data chunks the region meets", () => {
    const box = plan("SELECT objectId FROM Object WHERE qserv_areaspec_box(20, -5, 25, 5)");
    const region = BoxRegion.of(20, -5, 25, 5);
    const want = CHUNKS.filter((c) => region.intersectsBox(chunker.chunkBounds(c)));
    assert.ok(want.length > 0 && want.length < CHUNKS.length);
    assert.deepEqual(
      box.jobs.map((j) => j.chunkId),
      want,
    );
    const circle = plan("SELECT COUNT(*) FROM Object WHERE scisql_s2PtInCircle(ra, decl, 30, 0, 2) = 1");
    const c = new CircleRegion(30, 0, 2);
    assert.deepEqual(
      circle.jobs.map((j) => j.chunkId),
      CHUNKS.filter((id) => c.intersectsBox(chunker.chunkBounds(id))),
    );
  });

  test("director-key lookups visit the chunks of those keys only", () => {
    const r = ROWS[1234]!;
    const one = plan(`SELECT * FROM Object WHERE objectId = ${r.objectId}`);
    assert.deepEqual(
      one.jobs.map((j) => j.chunkId),
      [r.chunkId],
    );
    const keys = [ROWS[5]!, ROWS[2500]!, ROWS[2999]!];
    const inList = plan(`SELECT mag FROM Object WHERE objectId IN (${keys.map((k) => k.objectId).join(",")})`);
    assert.deepEqual(
      inList.jobs.map((j) => j.chunkId),
      [...new Set(keys.map((k) => k.chunkId))].sort((a, b) => a - b),
    );
    const none = plan("SELECT COUNT(*) FROM Object WHERE objectId = 42");
    assert.equal(none.jobs.length, 0);
    const both = plan(`SELECT * FROM Object WHERE objectId = ${r.objectId} AND qserv_areaspec_box(0, -89, 1, -88)`);
    assert.equal(both.jobs.length, 0, "key and region restrictors intersect");
  });

  test("a long key IN list reaches each chunk with that chunk's keys only, answers unchanged", async () => {
    // Every third row's key, and keys no row has, in one list.
    const picked = ROWS.filter((_, i) => i % 3 === 0);
    const list = [...picked.map((r) => String(r.objectId)), "-1", "999999999999"].join(",");
    const p = plan(`SELECT objectId, mag FROM Object WHERE objectId IN (${list}) AND mag > 0`);
    const keysOf = (sql: string) => new Set([...sql.matchAll(/\b\d{4,}\b/g)].map((m) => m[0]));
    let total = 0;
    for (const j of p.jobs) {
      const inChunk = picked.filter((r) => r.chunkId === j.chunkId).map((r) => String(r.objectId));
      const sent = [...keysOf(j.sql)].filter((k) => picked.some((r) => String(r.objectId) === k));
      assert.deepEqual(sent.sort(), inChunk.sort(), `chunk ${j.chunkId}`);
      total += sent.length;
    }
    assert.equal(total, picked.length, "each key goes to its own chunk once");
    await check(`SELECT objectId, mag FROM Object WHERE objectId IN (${list}) AND mag > 0`);
    await check(`SELECT COUNT(*), SUM(mag) FROM Object WHERE objectId IN (${list})`);
    await check(`SELECT objectId FROM Object WHERE objectId IN (${list}) OR mag < 0`);
    await check(`SELECT objectId FROM Object WHERE objectId NOT IN (${list})`);
  });

  test("no restrictor: every chunk; errors name the construct and position", () => {
    assert.equal(plan("SELECT AVG(mag) FROM Object").jobs.length, CHUNKS.length);
    assert.throws(
      () => plan("SELECT nosuch FROM Object"),
      (e: Error & { code?: string; details?: { line?: number } }) => {
        assert.equal(e.code, "BAD_QUERY");
        assert.match(e.message, /Unknown column 'nosuch'/);
        assert.equal(e.details?.line, 1);
        return true;
      },
    );
    assert.throws(() => plan("SELECT * FROM Nope"), /Table 'sky.Nope' doesn't exist/);
    assert.throws(
      () => plan("SELECT * FROM Object a, Object b"),
      (e: { code?: string }) => e.code === "UNSUPPORTED",
    );
    assert.throws(
      () => plan("SELECT * FROM Object a, Object b WHERE scisql_angSep(a.ra, a.decl, b.ra, b.decl) < 2"),
      /near-neighbour distance of 2/,
    );
  });
});

describe("merger: answers equal a single database's", () => {
  test("aggregates recombine: COUNT, SUM, AVG, MIN, MAX, COUNT(DISTINCT), with and without GROUP BY", async () => {
    await check("SELECT COUNT(*), COUNT(mag), SUM(mag), AVG(mag), MIN(mag), MAX(mag) FROM Object");
    await check("SELECT band, COUNT(*) AS n, AVG(mag) FROM Object GROUP BY band");
    await check("SELECT COUNT(DISTINCT band), COUNT(DISTINCT chunkId) FROM Object");
    await check("SELECT chunkId, MAX(mag) - MIN(mag) AS spread FROM Object GROUP BY chunkId HAVING spread > 9");
    await check("SELECT band, ROUND(AVG(mag), 3) FROM Object WHERE mag > 20 GROUP BY band ORDER BY 2 DESC");
    // No chunk at all: COUNT is 0, AVG NULL (one row, as MySQL gives).
    const n = await check("SELECT COUNT(*), AVG(mag) FROM Object WHERE objectId = 42");
    assert.equal(n, 1);
  });

  test("ORDER BY + LIMIT across chunks, DISTINCT, OFFSET, hidden sort columns", async () => {
    const got = await czar.execute("SELECT objectId, mag FROM Object ORDER BY mag DESC, objectId LIMIT 7", {
      database: "sky",
    });
    assert.equal(got.rows.length, 7);
    assert.ok(got.stats.chunks > 1);
    await check("SELECT objectId, mag FROM Object ORDER BY mag DESC, objectId LIMIT 7");
    await check("SELECT objectId FROM Object ORDER BY ra LIMIT 5 OFFSET 3");
    await check("SELECT DISTINCT band FROM Object ORDER BY band");
    await check("SELECT objectId AS id, mag FROM Object WHERE mag IS NOT NULL ORDER BY mag, id LIMIT 20");
  });

  test("LIMIT without ORDER BY stops early with the right count; a plain scan returns every row", async () => {
    const got = await czar.execute("SELECT objectId FROM Object LIMIT 10", { database: "sky" });
    assert.equal(got.rows.length, 10);
    assert.equal(await check("SELECT * FROM Object"), ROWS.length);
  });

  test("result column names follow MySQL: alias, column name, else the expression text", async () => {
    const got = await czar.execute(
      "SELECT o.objectId, mag AS m, COUNT(*), scisql_fluxToAbMag(mag) FROM Object o GROUP BY o.objectId LIMIT 1",
      {
        database: "sky",
      },
    );
    assert.deepEqual(
      got.columns.map((c) => c.name),
      ["objectId", "m", "COUNT(*)", "scisql_fluxToAbMag(mag)"],
    );
  });
});

describe("ADQL: regions ask the chunks qserv_areaspec_* asks; answers equal a single database's", () => {
  const adql = (q: string) => printMysql(parseStatement(q, "adql"));
  const chunksOf = (sql: string, dialect: "mysql" | "adql" = "mysql") =>
    planSelect(parseStatement(sql, dialect) as Select, "sky", catalog).jobs.map((j) => j.chunkId);

  test("CONTAINS / INTERSECTS with CIRCLE, BOX, POLYGON ask exactly the areaspec chunks", () => {
    const pairs: Array<[string, string]> = [
      ["CONTAINS(POINT('ICRS', ra, decl), CIRCLE('ICRS', 30, 0, 2)) = 1", "qserv_areaspec_circle(30, 0, 2)"],
      [
        "1 = INTERSECTS(CIRCLE('ICRS', POINT('ICRS', 30, 0), 2), POINT('ICRS', ra, decl))",
        "qserv_areaspec_circle(30, 0, 2)",
      ],
      ["CONTAINS(POINT('ICRS', ra, decl), BOX('ICRS', 22.5, 0, 5, 10)) = 1", "qserv_areaspec_box(20, -5, 25, 5)"],
      [
        "CONTAINS(POINT(ra, decl), POLYGON('ICRS', 20, -5, 25, -5, 25, 5)) = 1",
        "qserv_areaspec_poly(20, -5, 25, -5, 25, 5)",
      ],
    ];
    for (const [region, areaspec] of pairs) {
      const want = chunksOf(`SELECT objectId FROM Object WHERE ${areaspec}`);
      assert.ok(want.length > 0 && want.length < CHUNKS.length, areaspec);
      assert.deepEqual(chunksOf(`SELECT objectId FROM Object WHERE ${region}`, "adql"), want, region);
    }
  });

  test("cone search with TOP and ORDER BY, DISTANCE, COORD1/2, OFFSET, ||, ILIKE, TRUNCATE", async () => {
    const cone = "scisql_s2PtInCircle(ra, decl, 30, 0, 3) = 1";
    assert.ok(
      (await check(
        adql(
          `SELECT TOP 7 "objectId", DISTANCE(POINT('ICRS', ra, decl), POINT('ICRS', 30, 0)) AS d FROM Object
           WHERE CONTAINS(POINT('ICRS', ra, decl), CIRCLE('ICRS', 30, 0, 3)) = 1 ORDER BY d, objectId`,
        ),
        `SELECT objectId, scisql_angSep(ra, decl, 30, 0) AS d FROM Object WHERE ${cone} ORDER BY d, objectId LIMIT 7`,
      )) === 7,
    );
    await check(
      adql("SELECT objectId, COORD1(POINT('ICRS', ra, decl)) AS x FROM Object ORDER BY objectId OFFSET 2990"),
      "SELECT objectId, ra AS x FROM Object ORDER BY objectId LIMIT -1 OFFSET 2990",
    );
    await check(
      adql("SELECT COUNT(*) FROM Object WHERE band || 'x' = 'gx' AND band ILIKE 'G' AND TRUNCATE(mag) = 20"),
      "SELECT COUNT(*) FROM Object WHERE band = 'g' AND mag >= 20 AND mag < 21",
    );
    await check(
      adql(
        "SELECT TOP 3 objectId, LOG(mag) AS l, LOG10(mag) AS t, POWER(mag, 2) AS p, MOD(chunkId, 7) AS m FROM Object WHERE mag IS NOT NULL ORDER BY objectId",
      ),
      "SELECT objectId, ln(mag), log10(mag), mag * mag, chunkId % 7 FROM Object WHERE mag IS NOT NULL ORDER BY objectId LIMIT 3",
    );
  });

  test("ADQL that cannot be answered is refused with line, column and the construct", () => {
    const refused: Array<[string, RegExp]> = [
      [
        "SELECT ra FROM Object\n WHERE CONTAINS(POINT('GALACTIC', ra, decl), CIRCLE('ICRS', 1, 2, 3)) = 1",
        /coordinate system 'GALACTIC' is not supported at line 2, column 23/,
      ],
      ["SELECT AREA(CIRCLE('ICRS', 1, 2, 3)) FROM Object", /ADQL function AREA is not supported at line 1, column 8/],
      [
        "SELECT ra FROM Object WHERE CONTAINS(POINT('ICRS', ra, decl), BOX('ICRS', ra, 0, 1, 1)) = 1",
        /BOX with a parameter that is not a numeric literal is not supported at line 1, column 75/,
      ],
      ["SELECT ra FROM Object LIMIT 3", /LIMIT in ADQL \(use TOP\) is not supported at line 1, column 23/],
      [
        "SELECT ra FROM Object WHERE CONTAINS(CIRCLE('ICRS', 1, 2, 3), CIRCLE('ICRS', 1, 2, 3)) = 1",
        /geometry other than POINT/,
      ],
    ];
    for (const [q, re] of refused) assert.throws(() => parseStatement(q, "adql"), re, q);
    // In ADQL "x" is a column and || concatenates; in MySQL "x" is a string and || is OR.
    assert.equal(adql(`SELECT "ra" || 'a' FROM Object`), "SELECT CONCAT(ra, 'a') FROM Object");
  });
});
