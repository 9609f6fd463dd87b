/**
 * `npm run bench:nn -- [--rows 48000] [--width 1]`: the near-neighbour pass of one dense sub-chunk
 * on one SQLite connection, as the czar wrote it before (a declination band from the
 * (subChunkId, decl, ra) index, a longitude band, the JavaScript scisql_angSep per candidate) and
 * as it writes it now (the planner's zone join, chord test, exact test in the hair): `rows` objects
 * uniform in a `width`° square at (100, 30), pairs within 1′; CPU milliseconds of each (this
 * process's user time, so other load on the machine inflates them less than wall time).
 */
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import type { CzarCatalog, TableMeta } from "../src/czar/catalog.js";
import { planSelect } from "../src/czar/plan/planner.js";
import type { Select } from "../src/czar/sql/ast.js";
import { parseStatement } from "../src/czar/sql/parser.js";
import { maxAlpha } from "../src/sphere/angles.js";
import { Chunker } from "../src/sphere/chunker.js";
import { registerMysqlCompat } from "../src/sqlite/mysqlCompat.js";
import { registerScisql } from "../src/sqlite/scisql.js";
import { prng } from "./generate.js";

const { values } = parseArgs({ options: { rows: { type: "string" }, width: { type: "string" } } });
const rows = Number(values.rows ?? 48_000);
const width = Number(values.width ?? 1);
const D = 0.0166;
const layout = { numStripes: 18, numSubStripesPerStripe: 6, overlap: 0.01667 };
const chunker = new Chunker(layout);
const chunkId = chunker.locate(100, 30).chunkId;

const config = {
  database: "b",
  table: "Object",
  isPartitioned: true,
  directorTable: "",
  directorKey: "objectId",
  longitudeKey: "ra",
  latitudeKey: "decl",
  schema: ["objectId BIGINT", "ra DOUBLE", "decl DOUBLE", "chunkId INT", "subChunkId INT"].map((c) => {
    const [name, type] = c.split(" ") as [string, string];
    return { name, type };
  }),
};
const meta: TableMeta = { database: "b", name: "Object", kind: "director", config, rows };
const db = { database: "b", numStripes: 18, numSubStripes: 6, overlap: 0.01667 };
const catalog: CzarCatalog = {
  database: (n) => (n === "b" ? db : null),
  databases: () => [db],
  table: (_d, n) => (n === "Object" ? meta : null),
  tables: () => [meta],
  chunks: () => [chunkId],
  tableChunks: () => [chunkId],
  lookupKeys: () => [],
  keyChunks: () => [],
  lookupRange: () => [],
};

const conn = new Database(":memory:");
registerScisql(conn);
registerMysqlCompat(conn);
conn.exec(`CREATE TABLE Object_${chunkId} (objectId INTEGER, ra REAL, decl REAL, chunkId INTEGER, subChunkId INTEGER)`);
conn.exec(`CREATE INDEX Object_${chunkId}_sc ON Object_${chunkId} (subChunkId, decl, ra)`);
const rnd = prng(5);
const ins = conn.prepare(`INSERT INTO Object_${chunkId} VALUES (?, ?, ?, ${chunkId}, 0)`);
conn.transaction(() => {
  for (let i = 1; i <= rows; i++) ins.run(i, 100 + rnd() * width, 30 + rnd() * width);
})();
conn.exec(`CREATE TEMP VIEW Object_${chunkId}_0 AS SELECT * FROM Object_${chunkId} WHERE subChunkId = 0`);

const query = `SELECT COUNT(*) FROM Object o1, Object o2 WHERE scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < ${D} AND o1.objectId <> o2.objectId`;
const after = planSelect(parseStatement(query) as Select, "b", catalog).jobs[0]!.sql.replaceAll("{SUBCHUNK}", "0");
const box = chunker.chunkBounds(chunkId);
const alpha = maxAlpha(D, Math.max(Math.abs(box.decMin), Math.abs(box.decMax)));
const t = `Object_${chunkId}_0`;
const before =
  `SELECT COUNT(*) FROM ${t} AS o1, ${t} AS o2 WHERE o2.decl BETWEEN o1.decl - ${D} AND o1.decl + ${D}` +
  ` AND o2.ra BETWEEN o1.ra - ${alpha} AND o1.ra + ${alpha}` +
  ` AND mysql_cmp(scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl), ${D}) < 0 AND o1.objectId <> o2.objectId`;

const cpu = (sql: string): [number, number] => {
  const stmt = conn.prepare(sql).pluck();
  const c0 = process.cpuUsage();
  const n = stmt.get() as number;
  return [n, process.cpuUsage(c0).user / 1000];
};
const [nBefore, msBefore] = cpu(before);
const [nAfter, msAfter] = cpu(after);
if (nBefore !== nAfter) throw new Error(`pairs differ: ${nBefore} before, ${nAfter} after`);
process.stdout.write(
  `${rows} rows in ${width}° × ${width}°, ${nAfter} pairs within 1′\n` +
    `before (bands, JavaScript test per candidate): ${msBefore.toFixed(0)} CPU ms\n` +
    `after (zone join, chord test):                 ${msAfter.toFixed(0)} CPU ms (${(msBefore / msAfter).toFixed(2)}× faster)\n`,
);
