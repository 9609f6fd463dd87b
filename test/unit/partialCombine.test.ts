/**
 * The hash combination of partial aggregate rows (src/common/partialCombine.ts): the merge query
 * gives the same answer over the combined rows (and those refused) as over the rows themselves,
 * checked with SQLite and the czar's SQL functions.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { prng } from "../../bench/generate.js";
import { type CombineSpec, PartialCombiner } from "../../src/common/partialCombine.js";
import type { Value } from "../../src/common/rowCodec.js";
import { createScratchTable, insertRows, scratchDb, selectRows } from "../../src/czar/exec/scratch.js";
import { rowSet } from "../support/rows.js";

/** `merge` over `rows` in a fresh table t(c0..). */
function mergeOver(rows: Value[][], ncols: number, merge: string): Value[][] {
  const db = scratchDb();
  try {
    createScratchTable(
      db,
      "t",
      Array.from({ length: ncols }, (_, i) => `c${i}`),
    );
    insertRows(db, "t", ncols, rows);
    return selectRows(db, merge);
  } finally {
    db.close();
  }
}

/** Combined (and refused) rows merge as the rows do. */
function check(spec: CombineSpec, rows: Value[][], merge: string): Value[][] {
  const c = new PartialCombiner(spec);
  const refused = c.add(rows);
  const combined = [...c.rows(), ...refused];
  const want = mergeOver(rows, spec.ops.length, merge);
  assert.deepEqual(rowSet(mergeOver(combined, spec.ops.length, merge), false, 14), rowSet(want, false, 14));
  return combined;
}

describe("partial combination", () => {
  test("numeric and NULL keys, integer and real sums, MIN / MAX", () => {
    const rnd = prng(3);
    const rows: Value[][] = [];
    for (let i = 0; i < 2000; i++) {
      const k = Math.floor(rnd() * 6);
      // (A column holds one type; which spelling of a mixed group shows is SQLite's choice.)
      const key: Value = k === 5 ? null : k % 2 === 0 ? BigInt(k) : k + 0.5;
      const real = rnd() < 0.1 ? null : rnd() * 1e6 - 5e5;
      const mixed = rnd() < 0.5 ? BigInt(Math.floor(rnd() * 100)) : rnd() * 100;
      rows.push([key, BigInt(1 + Math.floor(rnd() * 50)), real, mixed, real, BigInt(i)]);
    }
    const spec: CombineSpec = { ops: ["key", "intSum", "sum", "sum", "min", "max"], orderColumn: -1 };
    const combined = check(
      spec,
      rows,
      "SELECT c0, mysql_sum(c1), sum(c2), sum(c3), min(c4), max(c5) FROM t GROUP BY c0",
    );
    assert.equal(combined.length, 6);
  });

  test("an integer sum past 64 bits: SQLite's sum() row refused (its overflow error stays), a DECIMAL sum exact", () => {
    const big = (1n << 62n) + 5n;
    const rows: Value[][] = [
      [1n, big, big],
      [1n, big, big],
      [1n, big, big],
    ];
    const c = new PartialCombiner({ ops: ["key", "sum", "intSum"], orderColumn: -1 });
    const refused = c.add(rows);
    assert.equal(refused.length, 2);
    assert.throws(() => mergeOver([...c.rows(), ...refused], 3, "SELECT sum(c1) FROM t"), /integer overflow/);
    const d = new PartialCombiner({ ops: ["key", "intSum"], orderColumn: -1 });
    assert.deepEqual(d.add(rows.map((r) => [r[0]!, r[2]!])), []);
    assert.deepEqual(d.rows(), [[1n, (3n * big).toString()]]);
    check(
      { ops: ["key", "intSum"], orderColumn: -1 },
      rows.map((r) => [r[0]!, r[2]!]),
      "SELECT c0, mysql_sum(c1) FROM t GROUP BY c0",
    );
  });

  test("text keys by the collation, spelled as the earliest row; picks follow the row order", () => {
    const rows: Value[][] = [
      ["a", "x", 5n, 1n],
      ["A ", "y", 2n, 1n],
      ["b", "z", null, 1n],
      ["a", "w", null, 1n],
      [null, "n", 9n, 1n],
      ["B", "v", 7n, 1n],
    ];
    const spec: CombineSpec = { ops: ["text", "pick", "min", "intSum"], orderColumn: 2 };
    const combined = check(
      spec,
      rows,
      "SELECT mysql_pick(c0, c2), mysql_pick(c1, c2), min(c2), mysql_sum(c3) FROM t GROUP BY mysql_ci(c0)",
    );
    assert.deepEqual(
      rowSet(combined),
      rowSet([
        ["A ", "y", 2n, 3n],
        ["B", "v", 7n, 2n],
        [null, "n", 9n, 1n],
      ]),
    );
  });

  test("an integer and a real of the same value are one group, as SQLite compares them", () => {
    const c = new PartialCombiner({ ops: ["key", "intSum"], orderColumn: -1 });
    c.add([
      [1n, 2n],
      [1, 3n],
      [-0, 1n],
      [0n, 1n],
      [1.5, 1n],
    ]);
    assert.deepEqual(
      c.rows().map((r) => r[1]),
      [5n, 2n, 1n],
    );
  });

  test("a text value under a numeric key, or a text sum, is refused", () => {
    const c = new PartialCombiner({ ops: ["key", "sum"], orderColumn: -1 });
    assert.equal(
      c.add([
        ["12", 1n],
        [1n, "3.5"],
        [1n, 2n],
      ]).length,
      2,
    );
    assert.deepEqual(c.rows(), [[1n, 2n]]);
  });
});
