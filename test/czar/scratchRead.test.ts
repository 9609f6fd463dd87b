/**
 * Scratch.read: a scratch file of many rows is read by a thread of its own, and gives exactly the
 * rows the same SELECT gives inline (bigints past 2^53, blobs as Buffers, text, NULL, the MySQL
 * functions the merges use); the result limit stops it with TOO_LARGE; the file is removed at close.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { test } from "node:test";
import type { Value } from "../../src/common/rowCodec.js";
import { SizeGuard } from "../../src/czar/exec/resultLimit.js";
import {
  createScratchTable,
  OFF_LOOP_ROWS,
  readRows,
  rowInserter,
  Scratch,
  scratchDb,
} from "../../src/czar/exec/scratch.js";
import { SpoolBudget } from "../../src/czar/exec/spool.js";
import { makeTempDir } from "../support/fs.js";

const N = OFF_LOOP_ROWS + 5000;
const rows: Value[][] = Array.from({ length: N }, (_, i) => [
  BigInt(2 ** 53) + BigInt(i * 7919),
  i % 5 === 0 ? null : `name-${i % 977}`,
  Buffer.from([i & 255, (i >> 8) & 255]),
  i / 7,
]);
const SQL = [
  "SELECT c0 % 1000 AS g, COUNT(*), SUM(c0), MIN(c1), mysql_ci(MAX(c1)), MAX(c2), ROUND(AVG(c3), 6)",
  "FROM t GROUP BY g ORDER BY g DESC",
].join(" ");

function fill(s: Scratch | ReturnType<typeof scratchDb>): void {
  const db = s instanceof Scratch ? s.db : s;
  createScratchTable(db, "t", ["c0", "c1", "c2", "c3"]);
  if (s instanceof Scratch) s.hold(rows);
  rowInserter(db, "t", 4)(rows);
}

test("a large scratch read in a thread gives the rows an inline read gives", async () => {
  const inline = scratchDb();
  fill(inline);
  const expected = await readRows(inline, SQL, new SizeGuard(1 << 30));
  inline.close();
  const dir = makeTempDir();
  const scratch = new Scratch(new SpoolBudget(dir, 1 << 30));
  fill(scratch);
  const got = await scratch.read(SQL, new SizeGuard(1 << 30));
  scratch.close();
  assert.equal(got.length, 1000);
  assert.deepEqual(got, expected);
  assert.ok(Buffer.isBuffer(got[0]![5]));
  assert.deepEqual(readdirSync(dir), []);
});

test("the result limit stops a thread's read with TOO_LARGE; the file is removed", async () => {
  const dir = makeTempDir();
  const scratch = new Scratch(new SpoolBudget(dir, 1 << 30));
  fill(scratch);
  await assert.rejects(scratch.read("SELECT * FROM t", new SizeGuard(100_000)), { code: "TOO_LARGE" });
  scratch.close();
  assert.ok(existsSync(dir));
  assert.deepEqual(readdirSync(dir), []);
});
