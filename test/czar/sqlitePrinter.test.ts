/**
 * Tests of the SQLite printer: each MySQL rule is parsed, printed for SQLite, run in a real
 * better-sqlite3 database (with the scisql and MySQL-compatibility functions) and compared with
 * the value MySQL documents. Integers come back as bigint, so `7n` vs `7` checks the type too.
 * Then every supported Qserv itest query (withQserv form, its qserv_areaspec_* restrictors
 * removed from WHERE) prints and prepares against empty tables made from the ingest configs.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import { isQservError } from "../../src/common/errors.js";
import { loadTableConfig } from "../../src/common/ingestConfig.js";
import type { ColumnRef, Expr, Select } from "../../src/czar/sql/ast.js";
import { parseExpression, parseStatement } from "../../src/czar/sql/parser.js";
import { declaredType } from "../../src/czar/sql/resultTypes.js";
import { isAggregate, isKnownFunction } from "../../src/czar/sql/sqliteFunctions.js";
import { printSqlite, printSqliteExpr, type SqlitePrintOptions } from "../../src/czar/sql/sqlitePrinter.js";
import { registerMysqlCompat } from "../../src/sqlite/mysqlCompat.js";
import { registerScisql, SCISQL_FUNCTIONS } from "../../src/sqlite/scisql.js";
import { quoteIdent, sqliteType } from "../../src/sqlite/types.js";
import { queryFiles } from "../support/itest.js";
import { ITEST, SKIP_ITEST } from "../support/paths.js";

function newDb(): Database.Database {
  const db = new Database(":memory:");
  registerScisql(db);
  registerMysqlCompat(db);
  return db;
}

const db = newDb();
db.exec(`
  CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, name TEXT, "true" INTEGER);
  INSERT INTO t VALUES (1, 7, 5.5, 'abc', 0), (2, -7, -7.5, 'ABC', 0), (3, NULL, NULL, NULL, 0),
    (4, 10, 2.0, 'b', 0), (5, 3, 0.5, '5.0', 0);
  CREATE TABLE u (id INTEGER, tag TEXT);
  INSERT INTO u VALUES (1, 'one'), (4, 'four'), (9, 'nine');
  CREATE INDEX u_id ON u (id);
`);

const TEXT_COLUMNS = new Set(["name", "tag"]);
const opts: SqlitePrintOptions = { isText: (c: ColumnRef) => TEXT_COLUMNS.has(c.name) };

type Value = bigint | number | string | Buffer | null;

/** The value of a MySQL expression, printed for SQLite and evaluated (in row `id` of t when given). */
function val(mysql: string, id?: number): Value {
  const sql = printSqliteExpr(parseExpression(mysql), opts);
  const from = id === undefined ? "" : ` FROM t WHERE id = ${id}`;
  const st = db.prepare(`SELECT ${sql}${from}`).safeIntegers(true).pluck();
  return st.get() as Value;
}

/** Asserts each MySQL expression's value, as `[mysql, expected]` pairs. */
function values(cases: [string, Value][]): void {
  for (const [mysql, want] of cases) {
    const got = val(mysql);
    if (typeof want === "number" && typeof got === "number" && !Number.isInteger(want)) {
      assert.ok(Math.abs(got - want) < 1e-12, `${mysql}: got ${got}, want ${want}`);
    } else {
      assert.deepEqual(got, want, `${mysql} → ${printSqliteExpr(parseExpression(mysql), opts)}`);
    }
  }
}

function rows(mysql: string, o: SqlitePrintOptions = opts): unknown[][] {
  const stmt = parseStatement(mysql);
  assert.equal(stmt.kind, "select");
  return db
    .prepare(printSqlite(stmt as Select, o))
    .raw()
    .all() as unknown[][];
}

/** The QservError thrown by `fn`, with its code and position. */
function failure(fn: () => unknown): { code: string; message: string; line: unknown; column: unknown } {
  try {
    fn();
  } catch (e) {
    assert.ok(isQservError(e), `expected a QservError, got ${String(e)}`);
    return { code: e.code, message: e.message, line: e.details.line, column: e.details.column };
  }
  return assert.fail("expected an error");
}

describe("arithmetic with MySQL's meaning", () => {
  test("/ is real division; x/0 is NULL", () => {
    values([
      ["7/2", 3.5],
      ["1/4", 0.25],
      ["-7/2", -3.5],
      ["7.5/2.5", 3],
      ["7/0", null],
      ["7.0/0", null],
      ["'7'/2", 3.5],
    ]);
    assert.equal(val("i / 2", 1), 3.5);
  });

  test("DIV truncates toward zero, also on reals; x DIV 0 is NULL", () => {
    values([
      ["7 DIV 2", 3n],
      ["-7 DIV 2", -3n],
      ["7.5 DIV 2", 3n],
      ["-7.5 DIV 2", -3n],
      ["7.5 DIV 0.4", 18n],
      ["7 DIV 0", null],
      ["NULL DIV 2", null],
    ]);
    assert.equal(val("r DIV 2", 1), 2n);
  });

  test("MOD and % keep fractions, the dividend's sign and integer types", () => {
    values([
      ["5.5 MOD 2", 1.5],
      ["-5.5 % 2", -1.5],
      ["5.3 MOD 2", 1.3],
      ["-7 MOD 3", -1n],
      ["7 MOD -3", 1n],
      ["7 MOD 3", 1n],
      ["7 % 3", 1n],
      ["MOD(7, 3)", 1n],
      ["7 MOD 0", null],
      ["7.5 MOD 0", null],
      ["NULL % 3", null],
      ["9223372036854775807 % 10", 7n],
    ]);
    // Columns: integers take SQLite's % (exact), reals the compatibility function.
    assert.equal(val("i % 3", 1), 1n);
    assert.equal(val("i % 3", 2), -1n);
    assert.equal(val("r % 2", 1), 1.5);
    assert.equal(val("r % 2", 2), -1.5);
    assert.equal(val("i % 3", 3), null);
    assert.equal(val("i MOD 0", 1), null);
  });

  test("+ - * and unary minus", () => {
    values([
      ["1 + 2 * 3", 7n],
      ["(1 + 2) * 3", 9n],
      ["2 - 3 - 4", -5n],
      ["2 - (3 - 4)", 3n],
      ["8 / 2 / 2", 2],
      ["8 / (2 / 2)", 8],
      ["- -1", 1n],
      ["-(-1)", 1n],
      ["1 - -1", 2n],
      ["+'abc'", "abc"],
      ["- 2 * 3", -6n],
    ]);
  });
});

describe("logic, comparison and bit operators", () => {
  test("<=> is null-safe equality", () => {
    values([
      ["NULL <=> NULL", 1n],
      ["1 <=> NULL", 0n],
      ["1 <=> 1", 1n],
      ["1 <=> 1.0", 1n],
      ["'a' <=> 'A'", 1n],
    ]);
    assert.equal(val("i <=> NULL", 3), 1n);
  });

  test("XOR is logical and NULL when either side is", () => {
    values([
      ["1 XOR 1", 0n],
      ["1 XOR 0", 1n],
      ["0 XOR 0", 0n],
      ["1 XOR NULL", null],
      ["NULL XOR 0", null],
      ["0.5 XOR 0", 1n],
      ["'abc' XOR 1", 1n],
      ["1 XOR 1 XOR 1", 1n],
    ]);
  });

  test("AND and OR (also written && and ||): || never reaches SQLite, where it concatenates", () => {
    values([
      ["1 || 0", 1n],
      ["0 || 0", 0n],
      ["1 && 0", 0n],
      ["NULL OR 1", 1n],
      ["NULL AND 0", 0n],
      ["NULL AND 1", null],
      ["1 = 1 AND 2 > 1 OR 0", 1n],
      ["NOT 1 = 2", 1n],
      ["NOT 0 + 1", 0n],
      ["!0 + 1", 2n],
    ]);
    assert.ok(!printSqliteExpr(parseExpression("a || b")).includes("||"));
  });

  test("comparisons chain as in MySQL, not by SQLite's precedence", () => {
    values([
      ["2 = 2 < 3", 1n], // (2 = 2) < 3
      ["1 < 2 = 1", 1n],
      ["3 > 2 > 1", 0n], // (3 > 2) > 1
    ]);
  });

  test("bitwise operators on 64-bit unsigned integers", () => {
    values([
      ["5 & 3", 1n],
      ["5 | 2", 7n],
      ["5 ^ 3", 6n],
      ["1 << 3", 8n],
      ["16 >> 2", 4n],
      ["1 << 64", 0n],
      ["-1 & 255", 255n],
      ["-8 >> 1", 9223372036854775804n], // a logical shift of 2^64 - 8
      ["~-1", 0n],
      ["~(-6)", 5n],
      ["5.7 | 0", 6n],
      ["'12' | 1", 13n],
      ["4 | 1 & 2", 4n],
      ["NULL & 1", null],
      ["1 << NULL", null],
    ]);
    assert.equal(val("i & 1", 1), 1n);
    assert.equal(val("i & 1", 2), 1n);
    assert.equal(val("2 & i", 4), 2n);
    assert.equal(val("r & 6", 1), 6n); // 5.5 rounds to 6
    assert.equal(val("i & 1", 3), null);
  });

  test("a bit result above SQLite's integers comes back exact as text digits, and comparisons still decide", () => {
    values([
      ["~0", "18446744073709551615"],
      ["1 << 63", "9223372036854775808"],
      ["-1 | 0", "18446744073709551615"],
      ["~0 & 255", 255n],
      ["(1 << 62) + (1 << 62) - 1", 9223372036854775807n],
    ]);
    values([
      ["(-1 << 1) = 2", 0n],
      ["(-1 ^ 3) <> 0", 1n],
      ["(-1 << 1) > 9223372036854775807", 1n],
    ]);
  });

  test("IS [NOT] TRUE / FALSE / UNKNOWN / NULL", () => {
    values([
      ["2 IS TRUE", 1n],
      ["0.5 IS TRUE", 1n],
      ["0 IS TRUE", 0n],
      ["NULL IS TRUE", 0n],
      ["NULL IS NOT TRUE", 1n],
      ["0 IS FALSE", 1n],
      ["NULL IS FALSE", 0n],
      ["NULL IS NOT FALSE", 1n],
      ["1 IS NOT FALSE", 1n],
      ["NULL IS UNKNOWN", 1n],
      ["1 IS NOT UNKNOWN", 1n],
      ["NULL IS NULL", 1n],
    ]);
    // t has a column named "true", which SQLite's own `IS TRUE` would compare with.
    assert.equal(val("i IS TRUE", 1), 1n);
  });

  test("BETWEEN, IN, LIKE and their negations, with NULLs", () => {
    values([
      ["2 BETWEEN 1 AND 3", 1n],
      ["2 NOT BETWEEN 1 AND 3", 0n],
      ["NULL BETWEEN 1 AND 3", null],
      ["2 IN (1, 2)", 1n],
      ["3 IN (1, NULL)", null],
      ["3 NOT IN (1, 2)", 1n],
      ["3 NOT IN (1, NULL)", null],
      ["'abc' LIKE 'a%'", 1n],
      ["'abc' LIKE 'A_C'", 1n],
      ["'abc' NOT LIKE 'b%'", 1n],
      ["NULL LIKE 'a'", null],
      ["123 LIKE '12%'", 1n],
      ["'a_c' LIKE 'a\\_c'", 1n], // MySQL's default escape is the backslash
      ["'abc' LIKE 'a\\_c'", 0n],
      ["'a%c' LIKE 'a|%c' ESCAPE '|'", 1n],
      ["'abc' LIKE 'a|%c' ESCAPE '|'", 0n],
      ["'a_c' LIKE 'a\\_c' ESCAPE ''", 1n],
    ]);
    assert.equal(val("name LIKE 'A%'", 1), 1n);
    assert.equal(val("name LIKE concat('a', '\\_c')", 1), 0n);
  });

  test("CASE, simple and searched", () => {
    values([
      ["CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' END", "b"],
      ["CASE WHEN 0 THEN 1 END", null],
      ["CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END", "two"],
      ["CASE 'a' WHEN 'A' THEN 1 ELSE 0 END", 1n],
      ["CASE 2 WHEN '2' THEN 1 ELSE 0 END", 1n],
      ["CASE '2' WHEN 2 THEN 1 WHEN 'x' THEN 2 ELSE 0 END", 1n],
      ["CASE NULL WHEN NULL THEN 1 ELSE 0 END", 0n],
    ]);
  });
});

describe("text compares case-insensitively, and as a number against a number", () => {
  test("literals", () => {
    values([
      ["'a' = 'A'", 1n],
      ["'a' <> 'A'", 0n],
      ["'a' < 'B'", 1n],
      ["'B' >= 'a'", 1n],
      ["'abc' IN ('x', 'ABC')", 1n],
      ["'b' BETWEEN 'A' AND 'C'", 1n],
      ["2 = '2'", 1n],
      ["'2abc' = 2", 1n],
      ["2 IN ('2', 3)", 1n],
      ["'2' IN (2, 'x')", 1n],
      ["10 > '9'", 1n],
      ["'10' > '9'", 0n],
      ["'5' BETWEEN 1 AND 10", 1n],
      ["'x' BETWEEN 1 AND 'z'", 0n], // all three compared as numbers: 0 BETWEEN 1 AND 0
      ["NULLIF('a', 'A')", null],
      ["NULLIF('a', 'b')", "a"],
      ["GREATEST('b', 'A', 'c')", "c"],
      ["LEAST('b', 'A', 'c')", "A"],
      ["GREATEST(10, '9')", 10n],
    ]);
  });

  test("text columns", () => {
    assert.equal(val("name = 'ABC'", 1), 1n);
    assert.equal(val("name IN ('x', 'aBc')", 2), 1n);
    assert.equal(val("name BETWEEN 'AAA' AND 'ABD'", 2), 1n);
    assert.equal(val("name = 5", 5), 1n); // '5.0' read as a number
    assert.deepEqual(rows("SELECT id FROM t WHERE name = 'abc' ORDER BY id"), [[1], [2]]);
  });

  test("no COLLATE where neither side is text, so integer keys keep their index", () => {
    for (const e of ["id = 5", "id IN (1, 2)", "id BETWEEN 1 AND 3", "id <=> 4", "t.id = u.id"]) {
      assert.ok(!printSqliteExpr(parseExpression(e), opts).includes("COLLATE"), e);
    }
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN ${printSqlite(parseStatement("SELECT tag FROM u WHERE id IN (1, 4)") as Select, opts)}`,
      )
      .all() as { detail: string }[];
    assert.ok(
      plan.some((p) => /USING INDEX u_id/.test(p.detail)),
      JSON.stringify(plan),
    );
  });
});

describe("utf8mb4_general_ci and exact integers", () => {
  const stars = newDb();
  stars.exec(`
    CREATE TABLE s (id INTEGER PRIMARY KEY, sp TEXT, big INTEGER);
    INSERT INTO s VALUES (5, 'sd', 9223372036854775000), (3, 'SD', 9223372036854775000), (4, 'Sd ', 1),
      (1, 'Véga', 2), (2, 'VEGA', 3), (6, 'ß', 4), (7, 's', 5);
  `);
  const sOpts: SqlitePrintOptions = {
    isText: (c) => c.name === "sp",
    rowOrder: parseExpression("id"),
    columnType: (c) => declaredType(c.name === "sp" ? "varchar(8)" : "bigint"),
  };
  const query = (mysql: string) =>
    stars
      .prepare(printSqlite(parseStatement(mysql) as Select, sOpts))
      .raw()
      .safeIntegers(true)
      .all() as unknown[][];

  test("accents and case fold, trailing spaces are ignored (not in LIKE), UPPER/LOWER map non-ASCII", () => {
    values([
      ["'Véga' = 'VEGA'", 1n],
      ["'ß' = 's'", 1n],
      ["'Vega   ' = 'Vega'", 1n],
      ["'Vega ' LIKE 'Vega'", 0n],
      ["'Véga' LIKE 've%'", 1n],
      ["'é' < 'F'", 1n],
      ["UPPER('éßa')", "ÉßA"],
      ["LOWER('ÅNGSTRÖM')", "ångström"],
    ]);
  });

  test("groups, DISTINCT, MIN/MAX and ORDER BY follow the collation; a group shows its first row's spelling", () => {
    assert.deepEqual(query("SELECT sp, COUNT(*) FROM s GROUP BY sp ORDER BY sp"), [
      ["ß", 2n],
      ["SD", 3n],
      ["Véga", 2n],
    ]);
    assert.deepEqual(query("SELECT DISTINCT sp FROM s ORDER BY sp"), [["ß"], ["SD"], ["Véga"]]);
    assert.deepEqual(query("SELECT COUNT(DISTINCT sp), MIN(sp), MAX(sp) FROM s"), [[3n, "ß", "Véga"]]);
    assert.deepEqual(query("SELECT id FROM s ORDER BY sp DESC, id"), [[1n], [2n], [3n], [4n], [5n], [6n], [7n]]);
  });

  test("SUM of 64-bit integers is exact beyond SQLite's integers; BIGINT overflow is MySQL's error", () => {
    assert.deepEqual(query("SELECT SUM(big), AVG(big) FROM s WHERE big > 100"), [
      ["18446744073709550000", "9223372036854775000.0000"],
    ]);
    assert.deepEqual(query("SELECT SUM(big) > 18446744073709549999 FROM s"), [[1n]]);
    assert.throws(() => query("SELECT big * 10 FROM s"), /BIGINT value is out of range in 'big \* 10'/);
    assert.deepEqual(query("SELECT big + 0.5 FROM s WHERE id = 3"), [["9223372036854775000.5"]]);
  });

  test("a long checked chain prints in linear size (its error text cut short), still MySQL's error", () => {
    const chain = (n: number) => `SELECT big${" * 1".repeat(n)} * 10 FROM s`;
    const size = (n: number) => printSqlite(parseStatement(chain(n)) as Select, sOpts).length;
    // Each level once carried the whole chain's text: 900 levels printed 1.8 MB.
    assert.ok(size(900) < 12 * size(100), `${size(100)} → ${size(900)}`);
    assert.throws(() => query(chain(100)), /BIGINT value is out of range in '\(\.\.\. \* 10\)'|'\.\.\. \* 10'/);
    assert.throws(() => query(chain(3)), /BIGINT value is out of range in 'big \* 1 \* 1 \* 1 \* 10'/);
  });
});

describe("literals", () => {
  test("numbers, strings, booleans, NULL, hexadecimal", () => {
    values([
      ["TRUE", 1n],
      ["FALSE", 0n],
      ["TRUE + TRUE", 2n],
      ["NULL", null],
      ["'it''s'", "it's"],
      ["'it\\'s'", "it's"],
      ['"dq"', "dq"],
      ["'a\\nb'", "a\nb"],
      ["1.", 1],
      [".5", 0.5],
      ["1e3", 1000],
      ["18446744073709551615 > 1", 1n],
      ["0x41", 65n], // numeric meaning
      ["X'41'", 65n],
      ["0x41 + 1", 66n],
      ["HEX(0x0041)", "0041"],
    ]);
  });

  test("where a hexadecimal literal would be a string, or is too large, it is refused", () => {
    for (const [e, msg] of [
      ["0x41 = 'A'", "a hexadecimal literal compared with a string"],
      ["name = X'41'", "a hexadecimal literal compared with a string"],
      ["CONCAT('a', 0x41)", "a hexadecimal literal as a string argument of CONCAT"],
      ["0x41 LIKE 'A'", "a hexadecimal literal in LIKE"],
      ["0xFFFFFFFFFFFFFFFF", "the hexadecimal literal 0xFFFFFFFFFFFFFFFF (above 2^63 - 1)"],
    ] as const) {
      const f = failure(() => printSqliteExpr(parseExpression(e), opts));
      assert.equal(f.code, "UNSUPPORTED");
      assert.match(f.message, new RegExp(`^${msg.replace(/[()^]/g, "\\$&")} is not supported at line 1, column \\d+$`));
    }
  });

  test("a NUL character in a string is refused", () => {
    assert.equal(failure(() => val("'a\\0b'")).code, "UNSUPPORTED");
  });
});

describe("functions", () => {
  test("math", () => {
    values([
      ["POW(2, 10)", 1024],
      ["POWER(2, 0.5)", Math.SQRT2],
      ["SQRT(16)", 4],
      ["SQRT(-1)", null],
      ["EXP(0)", 1],
      ["LN(EXP(2))", 2],
      ["LN(0)", null],
      ["LOG(EXP(3))", 3], // one argument: natural logarithm
      ["LOG(2, 8)", 3],
      ["LOG(1, 8)", null],
      ["LOG10(1000)", 3],
      ["LOG2(8)", 3],
      ["SIN(0)", 0],
      ["COS(0)", 1],
      ["TAN(0)", 0],
      ["ASIN(1)", Math.PI / 2],
      ["ACOS(1)", 0],
      ["ATAN(1)", Math.PI / 4],
      ["ATAN(1, 1)", Math.PI / 4],
      ["ATAN2(1, 1)", Math.PI / 4],
      ["COT(1)", 1 / Math.tan(1)],
      ["PI()", Math.PI],
      ["DEGREES(PI())", 180],
      ["RADIANS(180)", Math.PI],
      ["ABS(-3)", 3n],
      ["ABS(-2.5)", 2.5],
      ["SIGN(-3)", -1n],
      ["SIGN('abc')", 0n],
      ["FLOOR(2.5)", 2],
      ["FLOOR(-2.5)", -3],
      ["FLOOR(7)", 7n],
      ["CEIL(2.1)", 3],
      ["CEILING(-2.1)", -2],
    ]);
  });

  test("ROUND and TRUNCATE: integers stay integers, exact values round halves away, doubles to even", () => {
    values([
      ["ROUND(2.5)", 3],
      ["ROUND(-2.5)", -3],
      ["ROUND(2.5e0)", 2], // a DOUBLE: rint()
      ["ROUND(3.5e0)", 4],
      ["ROUND(1.005, 2)", 1.01],
      ["ROUND(1234.5, -2)", 1200],
      ["ROUND(7)", 7n],
      ["ROUND(15, -1)", 20n],
      ["ROUND(-15, -1)", -20n],
      ["ROUND(NULL)", null],
      ["ROUND(1.5, NULL)", null],
      ["TRUNCATE(1.999, 1)", 1.9],
      ["TRUNCATE(-1.999, 1)", -1.9],
      ["TRUNCATE(1234, -2)", 1200n],
      ["TRUNCATE(1234.5e0, -2)", 1200],
    ]);
    assert.equal(val("ROUND(r)", 1), 6); // 5.5 is a DOUBLE column value: to even
    assert.equal(val("ROUND(r)", 2), -8);
  });

  test("GREATEST, LEAST, IFNULL, NULLIF, COALESCE, IF", () => {
    values([
      ["GREATEST(1, 5, 3)", 5n],
      ["LEAST(1, 5, 3)", 1n],
      ["GREATEST(1, NULL)", null],
      ["IFNULL(NULL, 2)", 2n],
      ["IFNULL(1, 2)", 1n],
      ["NULLIF(1, 1)", null],
      ["NULLIF(1, 2)", 1n],
      ["COALESCE(NULL, NULL, 3)", 3n],
      ["COALESCE(NULL)", null],
      ["IF(1 > 2, 'y', 'n')", "n"],
      ["IF(NULL, 'y', 'n')", "n"],
    ]);
  });

  test("strings", () => {
    values([
      ["CONCAT('a', 'b', 'c')", "abc"],
      ["CONCAT('a', NULL)", null],
      ["CONCAT('a', 1, 2.5)", "a12.5"],
      ["CONCAT(1)", "1"],
      ["CONCAT_WS(',', 'a', NULL, 'b')", "a,b"],
      ["CONCAT_WS(NULL, 'a')", null],
      ["LENGTH('é')", 2n], // bytes
      ["OCTET_LENGTH('ab')", 2n],
      ["CHAR_LENGTH('é')", 1n],
      ["CHARACTER_LENGTH('abc')", 3n],
      ["UPPER('aBc')", "ABC"],
      ["UCASE('a')", "A"],
      ["LOWER('AbC')", "abc"],
      ["LCASE('A')", "a"],
      ["SUBSTRING('hello', 2)", "ello"],
      ["SUBSTRING('hello', 2, 3)", "ell"],
      ["SUBSTRING('hello', 0)", ""],
      ["SUBSTRING('hello', -3)", "llo"],
      ["SUBSTRING('hello', -3, 2)", "ll"],
      ["SUBSTRING('hello', -10)", ""],
      ["SUBSTRING('hello', 2, -1)", ""],
      ["SUBSTR('hello', 10)", ""],
      ["MID('hello', 2, 2)", "el"],
      ["SUBSTRING(NULL, 1)", null],
      ["TRIM('  a  ')", "a"],
      ["LTRIM('  a  ')", "a  "],
      ["RTRIM('  a  ')", "  a"],
      ["REPLACE('aXbx', 'x', 'y')", "aXby"],
      ["HEX(255)", "FF"],
      ["HEX(-1)", "FFFFFFFFFFFFFFFF"],
      ["HEX(2.5)", "3"],
      ["HEX('abc')", "616263"],
      ["HEX(NULL)", null],
      ["UNHEX('4142')", Buffer.from("AB")],
      ["UNHEX('F')", Buffer.from([15])],
      ["UNHEX('zz')", null],
      ["INSTR('Hello', 'LL')", 3n],
      ["INSTR('abc', 'x')", 0n],
      ["LOCATE('L', 'hello')", 3n],
      ["LOCATE('l', 'hello', 4)", 4n],
      ["LOCATE('l', 'hello', 0)", 0n],
      ["LOCATE('', 'abc', 2)", 2n],
      ["LEFT('hello', 2)", "he"],
      ["LEFT('hello', 0)", ""],
      ["LEFT('hello', -1)", ""],
      ["LEFT('hello', 10)", "hello"],
      ["RIGHT('hello', 2)", "lo"],
      ["RIGHT('hello', 0)", ""],
      ["RIGHT('hello', 10)", "hello"],
      ["RIGHT('hello', 2.4)", "lo"],
    ]);
  });

  test("CAST to MySQL's types", () => {
    values([
      ["CAST(5.5 AS SIGNED)", 6n],
      ["CAST(-5.5 AS SIGNED)", -6n],
      ["CAST(2.5e0 AS SIGNED)", 2n],
      ["CAST('5.9' AS SIGNED)", 5n],
      ["CAST('abc' AS SIGNED INTEGER)", 0n],
      ["CAST(7 AS UNSIGNED)", 7n],
      ["CAST(1.25 AS DECIMAL(5,1))", 1.3],
      ["CAST(1.5 AS DECIMAL)", 2n],
      ["CAST(12345 AS DECIMAL(3))", 999n],
      ["CAST(7 AS CHAR)", "7"],
      ["CAST('hello' AS CHAR(2))", "he"],
      ["CAST('7' AS DOUBLE)", 7],
      ["CAST('1.5x' AS REAL)", 1.5],
      ["CAST(0.1 AS FLOAT)", Math.fround(0.1)],
      ["CAST(NULL AS SIGNED)", null],
      ["CAST('a' AS BINARY) = 'A'", 0n], // a binary string compares byte by byte
      ["CAST('a' AS CHAR) = 'A'", 1n],
    ]);
    assert.equal(val("CAST(-1 AS UNSIGNED)"), "18446744073709551615", "beyond SQLite's integers: exact text digits");
    for (const e of ["CAST(1 AS DATE)", "CAST('a' AS BINARY(4))", "CAST(1 AS JSON)"]) {
      assert.equal(failure(() => printSqliteExpr(parseExpression(e))).code, "UNSUPPORTED", e);
    }
  });

  test("scisql functions, any case, print with scisql's spelling", () => {
    assert.equal(printSqliteExpr(parseExpression("SCISQL_ANGSEP(0, 0, 1, 0)")), "scisql_angSep(0, 0, 1, 0)");
    assert.equal(
      printSqliteExpr(parseExpression("scisql_s2ptincircle(1, 1, 0, 0, 2)")),
      "scisql_s2PtInCircle(1, 1, 0, 0, 2)",
    );
    values([
      ["scisql_angsep(0, 0, 1, 0)", 1],
      ["SCISQL_S2PTINBOX(1, 1, 0, 0, 2, 2)", 1],
      ["scisql_fluxToAbMag(NULL)", null],
    ]);
    for (const name of SCISQL_FUNCTIONS) {
      assert.ok(isKnownFunction(name.toLowerCase()), name);
      const registered = db.prepare("SELECT 1 FROM pragma_function_list WHERE name = ? COLLATE NOCASE").get(name);
      assert.ok(registered !== undefined, `${name} is not registered`);
    }
  });

  test("the exported table", () => {
    for (const n of ["count", "SUM", "Avg", "min", "MAX"]) assert.ok(isAggregate(n), n);
    for (const n of ["abs", "CONCAT", "scisql_angSep"]) assert.ok(isKnownFunction(n) && !isAggregate(n), n);
    assert.ok(!isKnownFunction("qserv_areaspec_box") && !isKnownFunction("GROUP_CONCAT"));
  });

  test("an unknown function, a system variable and a wrong argument count are positioned errors", () => {
    let f = failure(() => printSqliteExpr(parseExpression("1 +\n  FOO(1)")));
    assert.deepEqual(f, {
      code: "UNSUPPORTED",
      message: "function FOO is not supported at line 2, column 3",
      line: 2,
      column: 3,
    });
    f = failure(() => printSqliteExpr(parseExpression("@@version")));
    assert.equal(f.code, "UNSUPPORTED");
    assert.match(f.message, /@@version/);
    f = failure(() => printSqliteExpr(parseExpression("qserv_areaspec_box(0, 0, 1, 1)")));
    assert.equal(f.message, "function qserv_areaspec_box is not supported at line 1, column 1");
    f = failure(() => printSqliteExpr(parseExpression("ABS(1, 2)")));
    assert.equal(f.code, "BAD_QUERY");
    assert.equal(f.message, "wrong number of arguments to ABS at line 1, column 1");
    f = failure(() => printSqliteExpr(parseExpression("COUNT(a, b)")));
    assert.equal(f.code, "BAD_QUERY");
    assert.equal(printSqliteExpr(parseExpression("COUNT(DISTINCT a, b)")), `count(DISTINCT mysql_row_key("a", "b"))`);
  });
});

describe("SELECT", () => {
  test("aggregates, GROUP BY and HAVING; text groups case-insensitively", () => {
    assert.deepEqual(rows("SELECT COUNT(*), COUNT(i), COUNT(DISTINCT name), SUM(i), MIN(name), MAX(name) FROM t"), [
      [5, 4, 3, 13, "5.0", "b"],
    ]);
    assert.deepEqual(rows("SELECT AVG(i), SUM(DISTINCT i) FROM t WHERE id < 3"), [[0, 0]]);
    assert.deepEqual(rows("SELECT COUNT(*) AS n FROM t WHERE name IS NOT NULL GROUP BY name HAVING n > 1"), [[2]]);
    assert.deepEqual(rows("SELECT COUNT(*) FROM t WHERE name IS NOT NULL GROUP BY 1 + 0 ORDER BY 1"), [[4]]);
    assert.deepEqual(rows("SELECT lower(name) AS l, COUNT(*) FROM t GROUP BY l ORDER BY l"), [
      [null, 1],
      ["5.0", 1],
      ["abc", 2],
      ["b", 1],
    ]);
  });

  test("DISTINCT, ORDER BY (NULLs first ascending, text case-insensitive), LIMIT and OFFSET", () => {
    assert.deepEqual(rows("SELECT DISTINCT name FROM t WHERE name LIKE 'a%'"), [["abc"]]);
    assert.deepEqual(rows("SELECT i FROM t ORDER BY i"), [[null], [-7], [3], [7], [10]]);
    assert.deepEqual(rows("SELECT i FROM t ORDER BY i DESC LIMIT 2"), [[10], [7]]);
    assert.deepEqual(rows("SELECT i FROM t ORDER BY i LIMIT 1, 2"), [[-7], [3]]);
    assert.deepEqual(rows("SELECT i FROM t ORDER BY i LIMIT 2 OFFSET 3"), [[7], [10]]);
    assert.deepEqual(rows("SELECT id, name FROM t WHERE id IN (2, 4) ORDER BY 2 DESC"), [
      [4, "b"],
      [2, "ABC"],
    ]);
    assert.deepEqual(rows("SELECT id, name AS n FROM t WHERE id IN (2, 4) ORDER BY n"), [
      [2, "ABC"],
      [4, "b"],
    ]);
  });

  test("joins: INNER, CROSS, LEFT, RIGHT, NATURAL, USING, nested, and derived tables", () => {
    assert.deepEqual(rows("SELECT t.id, u.tag FROM t JOIN u ON t.id = u.id ORDER BY t.id"), [
      [1, "one"],
      [4, "four"],
    ]);
    assert.deepEqual(rows("SELECT COUNT(*) FROM t CROSS JOIN u"), [[15]]);
    assert.deepEqual(rows("SELECT COUNT(*) FROM t, u WHERE t.id = u.id"), [[2]]);
    assert.deepEqual(rows("SELECT t.id, u.tag FROM t LEFT JOIN u USING (id) WHERE t.id < 3 ORDER BY 1"), [
      [1, "one"],
      [2, null],
    ]);
    // RIGHT JOIN: the SQLite in node_modules has it (3.39+).
    assert.deepEqual(rows("SELECT t.id, u.id FROM t RIGHT JOIN u ON t.id = u.id ORDER BY u.id"), [
      [1, 1],
      [4, 4],
      [null, 9],
    ]);
    assert.deepEqual(rows("SELECT COUNT(*) FROM t NATURAL JOIN u"), [[2]]);
    assert.deepEqual(rows("SELECT COUNT(*) FROM t JOIN (u JOIN t AS t2 ON u.id = t2.id) ON t.id = u.id"), [[2]]);
    assert.deepEqual(rows("SELECT COUNT(*) FROM t AS a, t AS b JOIN u ON b.id = u.id"), [[10]]);
    assert.deepEqual(rows("SELECT d.x FROM (SELECT i * 2 AS x FROM t WHERE id = 1) AS d"), [[14]]);
  });

  test("identifiers are double-quoted, db qualifiers dropped, tables mapped by the option", () => {
    const s = parseStatement(
      'SELECT `o`.`a"b`, qcase01.Object.ra, x.* FROM qcase01.Object AS o, Filter x WHERE `select` = 1',
    ) as Select;
    assert.equal(
      printSqlite(s),
      'SELECT "o"."a""b", "Object"."ra", "x".* FROM "Object" AS "o", "Filter" AS "x" WHERE "select" = 1',
    );
    const mapped = printSqlite(s, {
      table: (t) => `${quoteIdent(`${t.name}_1234`)} AS ${quoteIdent(t.alias ?? t.name)}`,
    });
    assert.match(mapped, /FROM "Object_1234" AS "o", "Filter_1234" AS "x"/);
  });
});

// --- the Qserv itest queries ------------------------------------------------------------------

const isAreaspec = (e: Expr): boolean => e.kind === "call" && /^qserv_areaspec_/i.test(e.name);

/** `where` without its qserv_areaspec_* conjuncts (also `= 1`): the planner turns those into chunk lists. */
function dropAreaspec(e: Expr | null): Expr | null {
  if (e === null || isAreaspec(e)) return null;
  if (e.kind === "binary" && e.op === "=" && (isAreaspec(e.left) || isAreaspec(e.right))) return null;
  if (e.kind !== "binary" || e.op !== "AND") return e;
  const left = dropAreaspec(e.left);
  const right = dropAreaspec(e.right);
  if (left === null || right === null) return left ?? right;
  return { ...e, left, right };
}

/** Empty tables of one itest case, from its ingest configs, and which columns hold text. */
function caseDb(dir: string): { db: Database.Database; text: Set<string> } {
  const cdb = newDb();
  const text = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".json") && !/^(database|metadata)\.json$/.test(n))) {
    const t = loadTableConfig(join(dir, f));
    for (const c of t.schema) if (sqliteType(c.type) === "TEXT") text.add(c.name.toLowerCase());
    const cols = t.schema.map((c) => `${quoteIdent(c.name)} ${sqliteType(c.type)}`).join(", ");
    cdb.exec(`CREATE TABLE ${quoteIdent(t.table)} (${cols})`);
  }
  return { db: cdb, text };
}

describe("Qserv itest queries", { skip: SKIP_ITEST }, () => {
  test("every supported query (withQserv form, without qserv_areaspec_*) prints and prepares in SQLite", (t) => {
    const dbs = new Map<string, ReturnType<typeof caseDb>>();
    let n = 0;
    for (const f of queryFiles().filter((x) => !x.unsupported)) {
      const c = f.rel.split("/")[0]!;
      if (!dbs.has(c)) dbs.set(c, caseDb(join(ITEST, c, "data", "ingest")));
      const { db: cdb, text } = dbs.get(c)!;
      const stmt = parseStatement(f.qserv);
      if (stmt.kind !== "select") continue; // SHOW and friends are answered by the czar
      const s = { ...stmt, where: dropAreaspec(stmt.where) };
      let sql: string;
      try {
        sql = printSqlite(s, { isText: (col) => text.has(col.name.toLowerCase()) });
      } catch (e) {
        assert.fail(`${f.rel}: ${(e as Error).message}`);
      }
      try {
        cdb.prepare(sql);
      } catch (e) {
        assert.fail(`${f.rel}: ${(e as Error).message}\n${sql}`);
      }
      n++;
    }
    t.diagnostic(`${n} itest queries printed and prepared`);
    assert.ok(n >= 170, `only ${n} queries`);
  });
});
