/**
 * The conformance comparison: value equality (tolerance, big integers as strings, blob hex),
 * multisets, ORDER BY ties, LIMIT choices, column checks; and the query-shape helpers.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { toJsonValue } from "../../src/common/jsonValue.js";
import { type CompareOptions, compareResults, type Result } from "./compare.js";
import { queryShape, stripComments, withoutLimit } from "./queryShape.js";
import { type Row, sameValue, unmatched } from "./values.js";

const UNORDERED: CompareOptions = { noheader: false, sortresult: false, orderBy: false, orderKeys: null, limit: false };
const res = (rows: Row[], columns = ["a", "b"]): Result => ({ columns, rows });

function fails(v: ReturnType<typeof compareResults>): string {
  assert.equal(v.ok, false, "expected a failure");
  return v.ok ? "" : v.reason;
}

describe("values", () => {
  test("reals: relative 1e-9, absolute 1e-12 near zero", () => {
    assert.ok(sameValue(1.0, 1.0 + 1e-12));
    assert.ok(sameValue(123456.789, 123456.789 * (1 + 5e-10)));
    assert.ok(!sameValue(123456.789, 123456.789 * (1 + 5e-9)));
    assert.ok(sameValue(0, 1e-13));
    assert.ok(sameValue(-0, 0));
    assert.ok(!sameValue(1e-10, 2e-10));
    assert.ok(!sameValue(1, 1.0000001));
  });

  test("an integer and a real of equal value are equal; distinct integers never are", () => {
    assert.ok(sameValue(3, 3.0));
    assert.ok(sameValue(3, 3 + 1e-14));
    assert.ok(!sameValue(430213989148129, 430213989148130));
    assert.ok(!sameValue(null, 0));
    assert.ok(!sameValue("3", 3));
  });

  test("integers beyond 2^53 come as exact strings: equal only when exact, or to a real of that value", () => {
    const big = toJsonValue(9223372036854775807n);
    assert.equal(big, "9223372036854775807");
    assert.ok(sameValue(big, "9223372036854775807"));
    assert.ok(!sameValue(big, toJsonValue(9223372036854775806n)));
    assert.ok(!sameValue(toJsonValue(9007199254740993n), toJsonValue(9007199254740992n)));
    assert.ok(sameValue(big, 2 ** 63)); // a SUM as a real
    assert.equal(toJsonValue(9007199254740991n), 9007199254740991);
  });

  test("blobs compare as upper-case hex", () => {
    const blob = toJsonValue(new Uint8Array([0xab, 0x01, 0x09, 0x5c]));
    assert.equal(blob, "AB01095C");
    assert.ok(sameValue(blob, "AB01095C"));
    assert.ok(!sameValue(blob, "ab01095c"));
  });

  test("multisets: counts matter; near-equal reals across a sort boundary still pair", () => {
    assert.deepEqual(unmatched([[1], [1], [2]], [[1], [2], [1]]), { missing: [], extra: [] });
    assert.deepEqual(unmatched([[1], [1], [2]], [[1], [2], [2]]), { missing: [[1]], extra: [[2]] });
    const e: Row[] = [
      [1.0000000000000002, "b"],
      [1.0, "a"],
    ];
    const a: Row[] = [
      [1.0, "b"],
      [1.0000000000000002, "a"],
    ];
    assert.deepEqual(unmatched(e, a), { missing: [], extra: [] });
  });
});

describe("compareResults", () => {
  test("columns: count, then names case-insensitively unless noheader", () => {
    assert.match(fails(compareResults(res([]), res([], ["a"]), UNORDERED)), /expected 2 columns \(a, b\), got 1/);
    assert.deepEqual(compareResults(res([[1, 2]]), res([[1, 2]], ["A", "B"]), UNORDERED), { ok: true });
    assert.match(fails(compareResults(res([]), res([], ["a", "c"]), UNORDERED)), /column names/);
    assert.deepEqual(compareResults(res([]), res([], ["x", "y"]), { ...UNORDERED, noheader: true }), { ok: true });
  });

  test("without ORDER BY, or with sortresult, rows are a multiset", () => {
    const e = res([
      [1, "x"],
      [2, "y"],
      [2, "y"],
    ]);
    const a = res([
      [2, "y"],
      [1, "x"],
      [2, "y"],
    ]);
    assert.deepEqual(compareResults(e, a, UNORDERED), { ok: true });
    const sorted = { ...UNORDERED, orderBy: true, orderKeys: [0], sortresult: true };
    assert.deepEqual(compareResults(e, a, sorted), { ok: true });
    const reason = fails(
      compareResults(
        e,
        res([
          [1, "x"],
          [2, "y"],
          [3, "z"],
        ]),
        UNORDERED,
      ),
    );
    assert.match(reason, /expected 3 rows, got 3; 1 missing: \[2,"y"\]; 1 unexpected: \[3,"z"\]/);
  });

  test("ORDER BY: ties may come in any order; other reorderings fail", () => {
    const ordered = { ...UNORDERED, orderBy: true, orderKeys: [0] };
    const e = res([
      [1, "a"],
      [2, "b"],
      [2, "c"],
      [3, "d"],
    ]);
    assert.deepEqual(compareResults(e, e, ordered), { ok: true });
    const tiesSwapped = res([
      [1, "a"],
      [2, "c"],
      [2, "b"],
      [3, "d"],
    ]);
    const v = compareResults(e, tiesSwapped, ordered);
    assert.ok(v.ok && /tied/.test(v.note ?? ""));
    const wrong = res([
      [2, "b"],
      [1, "a"],
      [2, "c"],
      [3, "d"],
    ]);
    assert.match(
      fails(compareResults(e, wrong, ordered)),
      /order differs \(same rows\): row 1: expected \[1,"a"\], got \[2,"b"\]/,
    );
    // Descending keys work the same way: the key sequence is compared as it comes.
    const desc = res([
      [3, "d"],
      [2, "c"],
      [2, "b"],
    ]);
    const descSwapped = res([
      [3, "d"],
      [2, "b"],
      [2, "c"],
    ]);
    assert.ok(compareResults(desc, descSwapped, ordered).ok);
  });

  test("ORDER BY on keys that are not selected: order not checked, and said so", () => {
    const opts = { ...UNORDERED, orderBy: true, orderKeys: null };
    const v = compareResults(
      res([
        [1, "a"],
        [2, "b"],
      ]),
      res([
        [2, "b"],
        [1, "a"],
      ]),
      opts,
    );
    assert.ok(v.ok && /not checked/.test(v.note ?? ""));
  });

  test("ORDER BY + LIMIT: another choice among rows tied at the cut passes, if they exist and the keys match", () => {
    const all: Row[] = [
      [1, "a"],
      [2, "b"],
      [2, "c"],
      [3, "d"],
    ];
    const opts = { ...UNORDERED, orderBy: true, orderKeys: [0], limit: true, candidates: () => all };
    const e = res([
      [1, "a"],
      [2, "b"],
    ]);
    const v = compareResults(
      e,
      res([
        [1, "a"],
        [2, "c"],
      ]),
      opts,
    );
    assert.ok(v.ok && /another valid choice/.test(v.note ?? ""));
    assert.equal(
      compareResults(
        e,
        res([
          [1, "a"],
          [3, "d"],
        ]),
        opts,
      ).ok,
      false,
    );
    assert.equal(
      compareResults(
        e,
        res([
          [1, "a"],
          [2, "z"],
        ]),
        opts,
      ).ok,
      false,
    );
    assert.equal(
      compareResults(
        e,
        res([
          [2, "c"],
          [1, "a"],
        ]),
        opts,
      ).ok,
      false,
    );
    assert.equal(
      compareResults(
        e,
        res([
          [1, "a"],
          [2, "b"],
          [2, "c"],
        ]),
        opts,
      ).ok,
      false,
    );
    // Unknown keys: not decidable; the failure says why it might be fine.
    const unknown = { ...opts, orderKeys: null };
    assert.match(
      fails(
        compareResults(
          e,
          res([
            [1, "a"],
            [2, "c"],
          ]),
          unknown,
        ),
      ),
      /ties at the cut may explain it/,
    );
  });

  test("LIMIT without ORDER BY: any rows of the unlimited answer, as many as expected", () => {
    const all: Row[] = [[1], [2], [3], [4]];
    const opts = { ...UNORDERED, limit: true, candidates: () => all };
    const e = res([[1], [2]], ["a"]);
    assert.ok(compareResults(e, res([[4], [3]], ["a"]), opts).ok);
    assert.equal(compareResults(e, res([[4]], ["a"]), opts).ok, false);
    assert.equal(compareResults(e, res([[4], [4]], ["a"]), opts).ok, false);
    assert.equal(compareResults(e, res([[4], [5]], ["a"]), opts).ok, false);
  });

  test("a row of the wrong width fails plainly", () => {
    assert.match(fails(compareResults(res([[1, 2]]), res([[1]]), UNORDERED)), /row 1 has 1 values, not 2/);
  });
});

describe("query shape", () => {
  test("ORDER BY keys map to result columns: alias, name, position, selected expression", () => {
    const cols = ["objectId", "ra", "AVG(x)"];
    const sql = "SELECT objectId, o.ra_PS AS ra, AVG(x) FROM Object o GROUP BY objectId";
    assert.deepEqual(queryShape(`${sql} ORDER BY ra`, cols).orderKeys, [1]);
    assert.deepEqual(queryShape(`${sql} ORDER BY objectId DESC, 3`, cols).orderKeys, [0, 2]);
    assert.deepEqual(queryShape(`${sql} ORDER BY AVG(x)`, cols).orderKeys, [2]);
    assert.deepEqual(queryShape(`${sql} ORDER BY o.ra_PS`, cols).orderKeys, [1]);
    assert.equal(queryShape(`${sql} ORDER BY decl`, cols).orderKeys, null);
    assert.equal(queryShape(`${sql} ORDER BY o.decl`, cols).orderKeys, null);
    const none = queryShape(sql, cols);
    assert.deepEqual([none.orderBy, none.limit, none.unlimited], [false, false, null]);
  });

  test("SELECT *: keys by unique result column name", () => {
    const s = queryShape("SELECT * FROM Filter ORDER BY filterName LIMIT 3", ["filterId", "filterName"]);
    assert.deepEqual(s.orderKeys, [1]);
    assert.equal(s.unlimited, "SELECT * FROM Filter ORDER BY filterName");
  });

  test("withoutLimit cuts the final LIMIT in its three spellings, comments and `;` aside", () => {
    assert.equal(withoutLimit("SELECT a FROM t LIMIT 10"), "SELECT a FROM t");
    assert.equal(withoutLimit("SELECT a FROM t\nLIMIT 5, 10;"), "SELECT a FROM t");
    assert.equal(withoutLimit("SELECT a FROM t limit 10 OFFSET 2 -- done\n"), "SELECT a FROM t");
    assert.equal(withoutLimit("SELECT a FROM t WHERE b = 'LIMIT 3'"), null);
    assert.equal(stripComments("a -- x\nb /* y */ c # z\n'--' \"#\""), "a \nb   c \n'--' \"#\"");
  });
});
