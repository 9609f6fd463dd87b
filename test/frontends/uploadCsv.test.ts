/** CSV uploads: types from the header or inferred, RFC 4180 quoting, NULLs, errors with line numbers. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCsv } from "../../src/frontends/tap/uploadCsv.js";

const parse = (text: string, max = 100) => parseCsv(text, "t", max);

test("types inferred from values: long, double, char; an empty field is NULL", () => {
  const { fields, rows } = parse("id,ra,name,flag\n1,10.5,a,\n9223372036854775807,-3e-2,,x\n");
  assert.deepEqual(
    fields.map((f) => [f.name, f.datatype]),
    [
      ["id", "long"],
      ["ra", "double"],
      ["name", "char"],
      ["flag", "char"],
    ],
  );
  assert.deepEqual(rows, [
    [1n, 10.5, "a", null],
    [9223372036854775807n, -0.03, null, "x"],
  ]);
});

test("types from the header (name:type) win over the values; booleans are 0/1", () => {
  const { fields, rows } = parse("id:double, code:text ,ok:boolean\r\n1,007,true\r\n2,8,F\r\n");
  assert.deepEqual(
    fields.map((f) => [f.name, f.datatype]),
    [
      ["id", "double"],
      ["code", "char"],
      ["ok", "short"],
    ],
  );
  assert.deepEqual(rows, [
    [1, "007", 1n],
    [2, "8", 0n],
  ]);
});

test("quoted fields hold commas, quotes and line breaks; a blank line is skipped; a BOM is dropped", () => {
  const { fields, rows } = parse('\uFEFFid,label\n1,"a, ""b"""\n\n2,"two\nlines"\n');
  assert.equal(fields[0]!.name, "id");
  assert.deepEqual(rows, [
    [1n, 'a, "b"'],
    [2n, "two\nlines"],
  ]);
});

test("errors say the line: field counts, bad values of a typed column, quotes, header faults, size", () => {
  const cases: Array<[string, RegExp]> = [
    ["", /the CSV has no header line/],
    ["a,b\n1,2\n3\n", /line 3: 1 fields, the header names 2/],
    ["id:long\n1\n2\nx\n", /line 4: 'x' is not a long \(column id\)/],
    ["id:double\n1\n\nabc\n", /line 4: 'abc' is not a double/],
    ['a\n"open\n\n', /line 2: a quoted field is not closed/],
    ['a\n"x"y\n', /line 2: text after a closing quote/],
    ['a\nx"y\n', /line 2: a quote inside an unquoted field/],
    ["a,,b\n", /line 1: column 2 has no name/],
    ["a,A\n", /line 1: column A named twice/],
    ["a:complex\n", /line 1: column a: type 'complex' is not one of/],
  ];
  for (const [text, message] of cases) assert.throws(() => parse(text), message, JSON.stringify(text));
  assert.throws(() => parse("a\n1\n2\n3\n", 2), /more than 2 rows/);
});
