/**
 * Uploaded tables joined with a partitioned one, planned per chunk: each chunk's query carries
 * exactly the uploaded rows whose match circle meets the chunk (position match) or whose key the
 * director index places there (key match), and only such chunks are asked.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { prng } from "../../bench/generate.js";
import type { DatabaseConfig } from "../../src/common/ingestConfig.js";
import type { Value } from "../../src/common/rowCodec.js";
import type { CzarCatalog, Key } from "../../src/czar/catalog.js";
import { type Plan, planSelect } from "../../src/czar/plan/planner.js";
import { MAX_SENT_ROWS, type UploadTable } from "../../src/czar/plan/uploads.js";
import type { Select } from "../../src/czar/sql/ast.js";
import { parseStatement } from "../../src/czar/sql/parser.js";
import { Chunker } from "../../src/sphere/chunker.js";
import { CircleRegion } from "../../src/sphere/regions.js";
import { table } from "../support/tableConfigs.js";

const DB: DatabaseConfig = { database: "sky", numStripes: 18, numSubStripes: 6, overlap: 0.01667 };
const chunker = new Chunker({ numStripes: 18, numSubStripesPerStripe: 6, overlap: 0.01667 });
const object = table("Object", { database: "sky" });
const ALL = chunker.allChunks();
/** The director index: key k lives in chunk ALL[k mod |ALL|] (keys ≥ 10⁶: nowhere). */
const home = (k: Key) => (Number(k) >= 1e6 ? [] : [ALL[Number(k) % ALL.length]!]);
const catalog: CzarCatalog = {
  database: (n) => (n === "sky" ? DB : null),
  databases: () => [DB],
  table: (_d, n) =>
    n === "Object" ? { database: "sky", name: "Object", kind: "director", config: object, rows: 0 } : null,
  tables: () => [],
  chunks: () => ALL,
  tableChunks: () => ALL,
  lookupKeys: (_d, _t, keys) => [...new Set(keys.flatMap(home))].sort((a, b) => a - b),
  keyChunks: (_d, _t, keys) => keys.map(home),
  lookupRange: () => ALL,
};

const rnd = prng(3);
const targets: UploadTable = {
  name: "targets",
  columns: [
    { name: "id", type: "BIGINT" },
    { name: "ra", type: "DOUBLE" },
    { name: "dec", type: "DOUBLE" },
  ],
  rows: Array.from({ length: 3000 }, (_, i): Value[] => [
    BigInt(i),
    i % 10 === 0 ? 359.9 + rnd() * 0.2 : rnd() * 360, // a tenth across RA 0/360
    (Math.asin(2 * rnd() - 1) * 180) / Math.PI,
  ]),
};

const select = (sql: string) => parseStatement(sql, "mysql") as Select;
const plan = (sql: string) => planSelect(select(sql), "sky", catalog, [targets]);

/** The uploaded ids each job carries, by chunk. */
function idsByChunk(p: Plan): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const j of p.jobs) {
    const values = /FROM \(VALUES (.*?)\)\) AS/s.exec(j.sql)?.[1] ?? "";
    const ids = [...values.matchAll(/\((-?\d+), /g)].map((m) => Number(m[1]));
    assert.ok(!out.has(j.chunkId), `chunk ${j.chunkId} asked once`);
    out.set(
      j.chunkId,
      ids.sort((a, b) => a - b),
    );
  }
  return out;
}

test("position match: each chunk gets exactly the targets whose circle meets it", () => {
  for (const [sql, r] of [
    [
      "SELECT t.id, o.id FROM TAP_UPLOAD.targets AS t JOIN Object AS o ON scisql_s2PtInCircle(o.ra, o.decl, t.ra, t.dec, 0.5) = 1",
      0.5,
    ],
    [
      "SELECT t.id, COUNT(*) FROM TAP_UPLOAD.targets t, Object o WHERE scisql_angSep(t.ra, t.dec, o.ra, o.decl) < 2/3600. GROUP BY t.id",
      2 / 3600,
    ],
  ] as const) {
    const got = idsByChunk(plan(sql));
    const want = new Map<number, number[]>();
    for (const row of targets.rows) {
      const circle = new CircleRegion(row[1] as number, row[2] as number, r);
      for (const id of ALL) {
        if (!circle.intersectsBox(chunker.chunkBounds(id))) continue;
        want.set(id, [...(want.get(id) ?? []), Number(row[0])]);
      }
    }
    assert.deepEqual(new Map([...got].sort((a, b) => a[0] - b[0])), new Map([...want].sort((a, b) => a[0] - b[0])));
    const sent = [...got.values()].reduce((n, ids) => n + ids.length, 0);
    assert.ok(sent < targets.rows.length * (r > 0.1 ? 2 : 1.05), `${sent} rows sent for ${targets.rows.length}`);
    // Targets across RA 0/360 reach chunks on both sides.
    const across = targets.rows.filter((row) => (row[1] as number) > 359.9).map((row) => Number(row[0]));
    const sides = new Set(
      [...got]
        .filter(([, ids]) => ids.some((i) => across.includes(i)))
        .map(([c]) => chunker.chunkBounds(c).raMin === 0),
    );
    if (r > 0.1) assert.deepEqual(sides, new Set([true, false]));
  }
});

test("key match: each chunk gets the targets the director index places there; unknown keys go nowhere", () => {
  const ids = { ...targets, name: "ids", rows: [...targets.rows.slice(0, 500), [2_000_000n, 1, 1]] };
  const p = planSelect(
    select("SELECT o.id FROM Object AS o JOIN TAP_UPLOAD.ids AS t ON o.id = t.id WHERE o.ra > 0"),
    "sky",
    catalog,
    [ids],
  );
  const got = idsByChunk(p);
  const want = new Map<number, number[]>();
  for (let i = 0; i < 500; i++) want.set(home(i)[0]!, [...(want.get(home(i)[0]!) ?? []), i]);
  assert.deepEqual(new Map([...got].sort((a, b) => a[0] - b[0])), new Map([...want].sort((a, b) => a[0] - b[0])));
});

test("refused: an outer join, no match term, a near-neighbour join, an unknown uploaded table", () => {
  const refusals: Array<[string, RegExp]> = [
    [
      "SELECT * FROM TAP_UPLOAD.targets t LEFT JOIN Object o ON o.id = t.id",
      /not supported: an outer join in a query joining an uploaded table/,
    ],
    [
      "SELECT * FROM TAP_UPLOAD.targets t, Object o WHERE o.ra > t.ra",
      /not supported: a join of uploaded table t with a partitioned table without a position match/,
    ],
    [
      "SELECT * FROM TAP_UPLOAD.targets t, Object a, Object b WHERE scisql_angSep(a.ra, a.decl, b.ra, b.decl) < 0.01 AND a.id = t.id",
      /not supported: an uploaded table \(t\) in a near-neighbour join/,
    ],
    ["SELECT * FROM TAP_UPLOAD.nope t, Object o WHERE o.id = t.id", /no uploaded table TAP_UPLOAD.nope/],
  ];
  for (const [sql, message] of refusals) assert.throws(() => plan(sql), message, sql);
  // A radius that sends every row to every chunk: more than the bound.
  assert.ok(targets.rows.length * ALL.length > MAX_SENT_ROWS);
  assert.throws(
    () => plan("SELECT t.id FROM TAP_UPLOAD.targets t, Object o WHERE scisql_angSep(o.ra, o.decl, t.ra, t.dec) <= 180"),
    /its 3000 rows would go to the chunks \d+ times \(at most 1000000\)/,
  );
});
