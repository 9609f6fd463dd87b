/**
 * MySQL's exact arithmetic where SQLite's drifts into doubles or fails: BIGINT `+ - *` that give
 * MySQL's out-of-range error (1690) rather than a double, unsigned 64-bit results, and SUM / AVG
 * / `/` of exact values as DECIMALs (SUM of 64-bit ids without "integer overflow").
 * Values beyond SQLite's 64-bit integers travel as text digits (exact); they are printed as is.
 */
import type Database from "better-sqlite3";
import { QservError } from "../common/errors.js";
import { formatDecimal, formatDouble } from "../common/mysqlFormat.js";
import { type Arg, type Decimal, decimalOf, I64_MAX, I64_MIN, text } from "./mysqlNumbers.js";

const U64_MAX = (1n << 64n) - 1n;

/** MySQL's error 1690, with MySQL's wording (the czar maps it to that number). */
function outOfRange(unsigned: boolean, what: string): QservError {
  return new QservError("SQL_ERROR", `${unsigned ? "BIGINT UNSIGNED" : "BIGINT"} value is out of range in '${what}'`);
}

/** An integer operand: SQLite integers, and the text digits of an unsigned value above 2^63 - 1. */
function integerOf(v: Exclude<Arg, null>): bigint | null {
  if (typeof v === "bigint") return v;
  if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
  return null;
}

/** An integer result as SQLite can hold it: exact, text digits beyond 64-bit signed. */
function integerValue(v: bigint): bigint | string {
  return v > I64_MAX || v < I64_MIN ? v.toString() : v;
}

/** The exact sum of two decimals. */
function add(a: Decimal, b: Decimal): Decimal {
  const e = Math.min(a.e, b.e);
  return { m: a.m * 10n ** BigInt(a.e - e) + b.m * 10n ** BigInt(b.e - e), e };
}

/** A decimal operand (integers, doubles by their shortest digits, numeric text). */
function decimal(v: Exclude<Arg, null>): Decimal {
  return decimalOf(typeof v === "bigint" || typeof v === "number" ? v : text(v));
}

/** A decimal value for SQLite: an integer when integral and in range, a double when it holds it, else text. */
export function decimalValue(d: Decimal): bigint | number | string {
  if (d.e >= 0) return integerValue(d.m * 10n ** BigInt(d.e));
  const neg = d.m < 0n;
  const digits = (neg ? -d.m : d.m).toString().padStart(-d.e + 1, "0");
  const s = `${neg ? "-" : ""}${digits.slice(0, d.e)}.${digits.slice(d.e)}`;
  // Up to 15 significant digits a double gives back the same digits.
  return digits.replace(/^0+/, "").length <= 15 ? Number(s) : s;
}

/** a / b rounded half away from zero at `scale` digits; null when b is 0 (MySQL's NULL). */
function divide(a: Decimal, b: Decimal, scale: number): Decimal | null {
  if (b.m === 0n) return null;
  // a.m·10^a.e / (b.m·10^b.e) at 10^-scale: a.m·10^(a.e - b.e + scale) / b.m, rounded.
  const shift = a.e - b.e + scale;
  let num = a.m;
  let den = b.m;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  let q = num / den;
  const r = num % den;
  if (2n * (r < 0n ? -r : r) >= den) q += num < 0n ? -1n : 1n;
  return { m: q, e: -scale };
}

/**
 * An exact running sum: integers in `i` (the common case, kept cheap), others (doubles, as
 * DECIMAL columns are held, by their shortest digits; text digits) in `d`.
 */
interface Sum {
  i: bigint;
  d: Decimal;
  n: number;
}

function sumStep(s: Sum, v: Arg): void {
  if (v === null) return;
  s.n++;
  if (typeof v === "bigint") s.i += v;
  else s.d = add(s.d, decimal(v));
}

const freshSum = (): Sum => ({ i: 0n, d: { m: 0n, e: 0 }, n: 0 });
const total = (s: Sum): Decimal => (s.d.m === 0n ? { m: s.i, e: 0 } : add(s.d, { m: s.i, e: 0 }));

/** Registers mysql_add, mysql_sub, mysql_mul, mysql_decimal_op, mysql_div, mysql_cmp, mysql_sum, mysql_num and mysql_char. */
export function registerMysqlExact(db: Database.Database): void {
  const opts = { deterministic: true, safeIntegers: true } as const;
  // -1, 0 or 1 as a < b, a = b, a > b exactly (64-bit integers, digits in text, doubles by their digits).
  db.function("mysql_cmp", opts, (a: Arg, b: Arg) => {
    if (a === null || b === null) return null;
    const [x, y] = [decimal(a), decimal(b)];
    const e = Math.min(x.e, y.e);
    const d = x.m * 10n ** BigInt(x.e - e) - y.m * 10n ** BigInt(y.e - e);
    return d < 0n ? -1n : d > 0n ? 1n : 0n;
  });
  // Exact digits in text (a DECIMAL or unsigned value beyond SQLite's integers) as a number, to compare.
  db.function("mysql_num", opts, (x: Arg) => (typeof x === "string" && /^-?\d+(\.\d*)?$/.test(x) ? Number(x) : x));
  // A DOUBLE (decimals: fixed, or 31 for the shortest form) or a DECIMAL as MySQL prints it.
  db.function("mysql_char", opts, (x: Arg, decimals: Arg, isDecimal: Arg) => {
    if (x === null || Buffer.isBuffer(x)) return x;
    const d = Number(decimals);
    if (isDecimal === 1n) return formatDecimal(x, d);
    return typeof x === "string" ? x : formatDouble(Number(x), d);
  });
  /** Integer arithmetic checked against BIGINT's range (unsigned: 0..2^64 - 1). */
  const checked =
    (f: (a: bigint, b: bigint) => bigint) =>
    (a: Arg, b: Arg, unsigned: Arg, what: Arg): bigint | string | number | null => {
      if (a === null || b === null) return null;
      const x = integerOf(a);
      const y = integerOf(b);
      if (x === null || y === null) return null; // not called on non-integers (the printer's choice)
      const r = f(x, y);
      const u = unsigned === 1n;
      if (u ? r < 0n || r > U64_MAX : r < I64_MIN || r > I64_MAX) throw outOfRange(u, String(what));
      return integerValue(r);
    };
  db.function(
    "mysql_add",
    opts,
    checked((a, b) => a + b),
  );
  db.function(
    "mysql_sub",
    opts,
    checked((a, b) => a - b),
  );
  db.function(
    "mysql_mul",
    opts,
    checked((a, b) => a * b),
  );
  db.function("mysql_decimal_op", opts, (a: Arg, b: Arg, op: Arg) => {
    if (a === null || b === null) return null;
    const [x, y] = [decimal(a), decimal(b)];
    if (op === "*") return decimalValue({ m: x.m * y.m, e: x.e + y.e });
    return decimalValue(add(x, op === "-" ? { m: -y.m, e: y.e } : y));
  });
  db.function("mysql_div", opts, (a: Arg, b: Arg, scale: Arg) => {
    if (a === null || b === null || scale === null) return null;
    const q = divide(decimal(a), decimal(b), Number(scale));
    return q === null ? null : decimalValue(q);
  });
  db.aggregate("mysql_sum", {
    start: freshSum,
    step: sumStep,
    result: (s: Sum) => (s.n === 0 ? null : decimalValue(total(s))),
    deterministic: true,
    safeIntegers: true,
  } as Database.AggregateOptions);
}
