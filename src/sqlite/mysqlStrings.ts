/**
 * MySQL's string and radix functions that SQLite lacks (SUBSTRING_INDEX, LPAD/RPAD, REVERSE,
 * CONV/BIN, BIT_COUNT, FORMAT, MD5/SHA1/SHA2), registered as `mysql_*` by registerMysqlCompat.
 * NULL in → NULL out, as in MySQL.
 */
import { createHash } from "node:crypto";
import type Database from "better-sqlite3";
import { QservError } from "../common/errors.js";
import { formatDouble } from "../common/mysqlFormat.js";
import { collationKey, foldText } from "./mysqlCollation.js";
import {
  type Arg,
  decimalOf,
  halfAway,
  I64_MAX,
  I64_MIN,
  type NonNull,
  rint,
  roundDecimal,
  roundDouble,
  text,
  toDouble,
  toSmallInt,
  U64,
} from "./mysqlNumbers.js";

/** A string argument's text; numbers as MySQL prints them. */
export function str(v: NonNull): string {
  if (typeof v === "bigint") return String(v);
  return typeof v === "number" ? formatDouble(v) : text(v);
}

/** MySQL's SUBSTRING_INDEX(s, delim, n): before the n-th delimiter (n < 0: after the n-th from the end). */
function substringIndex(s: Arg, delim: Arg, count: Arg): string | null {
  if (s === null || delim === null || count === null) return null;
  const hay = str(s);
  const d = str(delim);
  const n = typeof count === "bigint" ? count : BigInt(halfAway(toDouble(count)));
  if (d === "" || n === 0n) return "";
  const parts = hay.split(d);
  if (n > 0n) return n >= BigInt(parts.length) ? hay : parts.slice(0, Number(n)).join(d);
  return -n >= BigInt(parts.length) ? hay : parts.slice(parts.length + Number(n)).join(d);
}

/** MySQL's LPAD / RPAD: padded or cut to `len` characters; NULL for a negative length or empty pad. */
function pad(left: boolean) {
  return (s: Arg, len: Arg, padding: Arg): string | null => {
    if (s === null || len === null || padding === null) return null;
    const n = toSmallInt(len);
    if (n < 0) return null;
    const chars = Array.from(str(s));
    if (chars.length >= n) return chars.slice(0, n).join("");
    const p = Array.from(str(padding));
    if (p.length === 0) return null;
    const fill: string[] = [];
    for (let i = 0; fill.length < n - chars.length; i++) fill.push(p[i % p.length]!);
    return left ? fill.join("") + chars.join("") : chars.join("") + fill.join("");
  };
}

function reverse(s: Arg): string | Buffer | null {
  if (s === null) return null;
  if (Buffer.isBuffer(s)) return Buffer.from(s).reverse();
  return Array.from(str(s)).reverse().join("");
}

const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz";

/**
 * MySQL's CONV(n, from, to): `n` read as text in base |from| (its longest valid prefix; a leading
 * '-' negates), the value wrapped or clamped to 64 bits (signed when from < 0), written in base
 * |to| (signed when to < 0, else as unsigned), upper case. NULL for a base outside 2..36 or ''.
 */
function conv(n: Arg, from: Arg, to: Arg): string | null {
  if (n === null || from === null || to === null) return null;
  const fb = Number(toSmallInt(from));
  const tb = Number(toSmallInt(to));
  if (Math.abs(fb) < 2 || Math.abs(fb) > 36 || Math.abs(tb) < 2 || Math.abs(tb) > 36) return null;
  const s = str(n).trimStart();
  if (s === "") return null;
  const neg = s[0] === "-";
  let i = neg || s[0] === "+" ? 1 : 0;
  let v = 0n;
  let overflow = false;
  for (; i < s.length; i++) {
    const d = DIGITS.indexOf(s[i]!.toLowerCase());
    if (d < 0 || d >= Math.abs(fb)) break;
    v = v * BigInt(Math.abs(fb)) + BigInt(d);
    if (v > U64) overflow = true;
  }
  let value: bigint; // signed when fb < 0, else unsigned 64-bit
  if (fb < 0) {
    const signed = neg ? -v : v;
    // biome-ignore lint/complexity/useMathMinMax: bigint operands (Math.max takes numbers)
    value = overflow || signed > I64_MAX ? (neg ? I64_MIN : I64_MAX) : signed < I64_MIN ? I64_MIN : signed;
  } else {
    value = overflow ? U64 : BigInt.asUintN(64, neg ? -v : v);
  }
  if (tb < 0) return BigInt.asIntN(64, value).toString(-tb).toUpperCase();
  return BigInt.asUintN(64, value).toString(tb).toUpperCase();
}

/** An integer argument as MySQL reads it for BIT_COUNT: doubles rounded, strings by their numeric prefix. */
function bitCount(x: Arg): bigint | null {
  if (x === null) return null;
  let v: bigint;
  if (typeof x === "bigint") v = x;
  else if (Buffer.isBuffer(x)) v = 0n;
  else {
    const d = typeof x === "number" ? rint(x) : halfAway(toDouble(x));
    v = !Number.isFinite(d) || Math.abs(d) >= 2 ** 63 ? (d > 0 ? I64_MAX : I64_MIN) : BigInt(d);
  }
  let u = BigInt.asUintN(64, v);
  let n = 0n;
  while (u > 0n) {
    n += u & 1n;
    u >>= 1n;
  }
  return n;
}

/** Digits of an integer part grouped by thousands. */
function grouped(int: string): string {
  return int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * MySQL's FORMAT(x, d) in the en_US locale: rounded to d decimals (0..38; halves away from zero
 * for exact values, as MySQL's ROUND), thousands separated by commas.
 */
function format(x: Arg, d: Arg, exact: Arg): string | null {
  if (x === null || d === null) return null;
  const scale = Math.max(0, Math.min(38, toSmallInt(d)));
  let dec: { m: bigint; e: number };
  if (typeof x === "bigint") dec = { m: x, e: 0 };
  else if (exact === 1n || typeof x !== "number") dec = roundDecimal(decimalOf(str(x)), scale, false);
  else dec = roundDecimal(decimalOf(roundDouble(x, scale, false)), scale, false);
  const neg = dec.m < 0n;
  const m = neg ? -dec.m : dec.m;
  // At exactly `scale` digits after the point.
  const scaled = dec.e >= -scale ? m * 10n ** BigInt(dec.e + scale) : m / 10n ** BigInt(-scale - dec.e);
  const digits = scaled.toString().padStart(scale + 1, "0");
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  const sign = neg && scaled !== 0n ? "-" : "";
  return `${sign}${grouped(int)}${scale > 0 ? `.${frac}` : ""}`;
}

function digest(algorithm: string) {
  return (s: Arg): string | null =>
    s === null
      ? null
      : createHash(algorithm)
          .update(Buffer.isBuffer(s) ? s : Buffer.from(str(s), "utf8"))
          .digest("hex");
}

/** MySQL's SHA2(s, bits): 224, 256 (or 0), 384, 512; NULL for any other length. */
function sha2(s: Arg, bits: Arg): string | null {
  if (s === null || bits === null) return null;
  const n = toSmallInt(bits);
  const alg = n === 0 ? "sha256" : [224, 256, 384, 512].includes(n) ? `sha${n}` : null;
  return alg === null ? null : digest(alg)(s);
}

/**
 * `s REGEXP pattern`: 1 when the pattern matches anywhere in s, case-insensitively as under
 * MySQL's default collation (JavaScript's regular expressions, close to MySQL's PCRE / ICU ones).
 */
function regexp(): (s: Arg, pattern: Arg) => bigint | null {
  let cached: { source: string; re: RegExp } | null = null;
  return (s, pattern) => {
    if (s === null || pattern === null) return null;
    const source = str(pattern);
    if (cached?.source !== source) {
      try {
        cached = { source, re: new RegExp(source, "iu") };
      } catch (e) {
        throw new QservError("BAD_QUERY", `Got error '${(e as Error).message}' from regexp`);
      }
    }
    return cached.re.test(str(s)) ? 1n : 0n;
  };
}

/** MySQL's FIELD(x, a, b, ...): the 1-based position of the first equal argument, else 0. */
function field(x: Arg, ...list: Arg[]): bigint {
  if (x === null) return 0n;
  const texts = typeof x === "string" && list.every((a) => a === null || typeof a === "string");
  const key = (v: NonNull) => (texts ? collationKey(str(v)) : toDouble(v));
  const k = key(x);
  const i = list.findIndex((a) => a !== null && key(a) === k);
  return BigInt(i + 1);
}

/** MySQL's FIND_IN_SET(s, 'a,b,c'): the 1-based position of s in the comma-separated list, else 0. */
function findInSet(s: Arg, list: Arg): bigint | null {
  if (s === null || list === null) return null;
  const needle = str(s);
  if (needle.includes(",")) return 0n;
  // Case-insensitive as the collation, but trailing spaces count (MySQL compares without padding here).
  const k = foldText(needle);
  return BigInt(
    str(list)
      .split(",")
      .findIndex((x) => foldText(x) === k) + 1,
  );
}

/** MySQL's INSERT(s, pos, len, new): `len` characters from `pos` replaced; s itself for pos out of range. */
function insert(s: Arg, pos: Arg, len: Arg, repl: Arg): string | null {
  if (s === null || pos === null || len === null || repl === null) return null;
  const chars = Array.from(str(s));
  const p = toSmallInt(pos);
  if (p < 1 || p > chars.length) return chars.join("");
  const n = toSmallInt(len);
  const end = n < 0 || p - 1 + n > chars.length ? chars.length : p - 1 + n;
  return chars.slice(0, p - 1).join("") + str(repl) + chars.slice(end).join("");
}

/**
 * A tuple of values as one comparable text (COUNT(DISTINCT a, b)): NULL when any value is NULL;
 * numbers equal in value give the same text (1 and 1.0), as MySQL compares them.
 */
function rowKey(...vs: Arg[]): string | null {
  const parts: string[] = [];
  for (const v of vs) {
    if (v === null) return null;
    if (typeof v === "bigint") parts.push(`n${v}`);
    else if (typeof v === "number")
      parts.push(Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? `n${BigInt(v)}` : `n${v}`);
    else if (typeof v === "string") parts.push(`s${v}`);
    else parts.push(`b${v.toString("hex")}`);
  }
  return parts.join("\u0000");
}

/** Registers the functions above on a connection. */
export function registerMysqlStrings(db: Database.Database): void {
  const opts = { deterministic: true, safeIntegers: true } as const;
  db.function("mysql_substring_index", opts, substringIndex);
  db.function("mysql_lpad", opts, pad(true));
  db.function("mysql_rpad", opts, pad(false));
  db.function("mysql_reverse", opts, reverse);
  db.function("mysql_conv", opts, conv);
  db.function("mysql_bit_count", opts, bitCount);
  db.function("mysql_format", opts, format);
  db.function("mysql_regexp", opts, regexp());
  db.function("mysql_repeat", opts, (s: Arg, n: Arg) =>
    s === null || n === null ? null : str(s).repeat(Math.max(0, Math.min(toSmallInt(n), 1 << 24))),
  );
  db.function("mysql_space", opts, (n: Arg) =>
    n === null ? null : " ".repeat(Math.max(0, Math.min(toSmallInt(n), 1 << 24))),
  );
  // ASCII: the first byte; ORD: the first character's bytes as a big-endian number.
  db.function("mysql_ascii", opts, (s: Arg) => (s === null ? null : BigInt(Buffer.from(str(s), "utf8")[0] ?? 0)));
  db.function("mysql_ord", opts, (s: Arg) => {
    if (s === null) return null;
    const first = Array.from(str(s))[0];
    if (first === undefined) return 0n;
    return BigInt(`0x${Buffer.from(first, "utf8").toString("hex")}`);
  });
  db.function("mysql_field", { ...opts, varargs: true }, field);
  db.function("mysql_elt", { ...opts, varargs: true }, (n: Arg, ...list: Arg[]) => {
    if (n === null) return null;
    const i = toSmallInt(n);
    return i < 1 || i > list.length ? null : (list[i - 1] ?? null);
  });
  db.function("mysql_find_in_set", opts, findInSet);
  db.function("mysql_insert", opts, insert);
  db.function("mysql_row_key", { ...opts, varargs: true }, rowKey);
  db.function("mysql_md5", opts, digest("md5"));
  db.function("mysql_sha1", opts, digest("sha1"));
  db.function("mysql_sha2", opts, sha2);
}
