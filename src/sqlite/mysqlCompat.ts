/**
 * SQLite functions that give MySQL's meaning where SQLite has no equivalent; the czar's SQLite
 * printer (src/czar/sql/sqlitePrinter.ts) emits calls to them. All are deterministic and NULL
 * in → NULL out. `exact` arguments (0/1) say the MySQL operand was an exact (DECIMAL/integer)
 * value rather than a DOUBLE, which changes how halves round.
 */
import type Database from "better-sqlite3";
import { QservError } from "../common/errors.js";
import { registerMysqlAggregates } from "./mysqlAggregates.js";
import { registerMysqlCollation } from "./mysqlCollation.js";
import { registerMysqlDates } from "./mysqlDates.js";
import { registerMysqlExact } from "./mysqlExact.js";
import {
  type Arg,
  clampToI64,
  decimalMod,
  decimalOf,
  decimalToNumber,
  halfAway,
  I64_MAX,
  I64_MIN,
  type NonNull,
  rint,
  roundDecimal,
  roundDouble,
  roundInteger,
  strToDouble,
  text,
  toDouble,
  toSmallInt,
  U64,
  unsignedResult,
} from "./mysqlNumbers.js";
import { registerMysqlStrings, str } from "./mysqlStrings.js";

/** A bit operand as MySQL's BIGINT UNSIGNED: integers wrap, doubles round, strings parse. */
function toU64(op: string, v: NonNull): bigint {
  if (typeof v === "bigint") return BigInt.asUintN(64, v);
  if (typeof v === "string" && /^\d{1,20}$/.test(v)) return BigInt.asUintN(64, BigInt(v)); // an unsigned result
  if (Buffer.isBuffer(v)) throw new QservError("UNSUPPORTED", `MySQL's ${op} on binary strings is not supported`);
  const x = rint(toDouble(v));
  if (x >= 2 ** 64) return U64;
  return BigInt.asUintN(64, x >= 2 ** 63 ? BigInt(x) : clampToI64(x));
}

function bitOp(op: string, f: (a: bigint, b: bigint) => bigint) {
  return (a: Arg, b: Arg): bigint | string | null => {
    if (a === null || b === null) return null;
    return unsignedResult(f(toU64(op, a), toU64(op, b)));
  };
}

/** Characters (code points) of a text, bytes of a BLOB. */
function units(v: NonNull): { parts: string[] | Buffer; join: (p: string[] | Buffer) => string | Buffer } {
  if (Buffer.isBuffer(v)) return { parts: v, join: (p) => p as Buffer };
  return { parts: Array.from(str(v)), join: (p) => (p as string[]).join("") };
}

/** MySQL's SUBSTRING(s, pos[, len]): pos 0 or outside the string gives '', negative counts from the end. */
function substring(s: Arg, pos: Arg, len: Arg | undefined): string | Buffer | null {
  if (s === null || pos === null || len === null) return null;
  const { parts, join } = units(s);
  const p = toSmallInt(pos);
  const start = p > 0 ? p - 1 : parts.length + p;
  if (p === 0 || start < 0 || start >= parts.length) return join(parts.slice(0, 0));
  const n = len === undefined ? parts.length : toSmallInt(len);
  return join(parts.slice(start, n <= 0 ? start : start + n));
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** MySQL's LOCATE(sub, s, pos), case-insensitive as the default collation (ASCII letters). */
function locate(sub: Arg, s: Arg, pos: Arg): bigint | null {
  if (sub === null || s === null || pos === null) return null;
  const hay = Array.from(asciiLower(str(s)));
  const needle = Array.from(asciiLower(str(sub)));
  const start = toSmallInt(pos) - 1;
  if (start < 0 || start > hay.length) return 0n;
  for (let i = start; i + needle.length <= hay.length; i++) {
    if (needle.every((c, j) => hay[i + j] === c)) return BigInt(i + 1);
  }
  return 0n;
}

/** MySQL's ROUND / TRUNCATE: integers stay integers, DOUBLEs use rint(), exact values halves away. */
function rounder(truncate: boolean) {
  const what = truncate ? "TRUNCATE" : "ROUND";
  return (x: Arg, d: Arg, exact: Arg): number | bigint | null => {
    if (x === null || d === null) return null;
    const scale = Math.max(-400, Math.min(400, toSmallInt(d)));
    if (typeof x === "bigint") return roundInteger(x, scale, truncate, what);
    if (exact === 1n && typeof x === "number") return decimalToNumber(roundDecimal(decimalOf(x), scale, truncate));
    return roundDouble(toDouble(x), scale, truncate);
  };
}

/** The integer MySQL's CAST makes of `x`, unclamped: doubles round, strings keep their integer prefix. */
function castInteger(x: NonNull, exact: Arg): bigint {
  if (typeof x === "bigint") return x;
  if (typeof x === "number") {
    const r = exact === 1n ? halfAway(x) : rint(x);
    return Number.isFinite(r) ? BigInt(r) : r > 0 ? U64 : -U64; // beyond any cast's range
  }
  const m = /^\s*([+-]?\d+)/.exec(text(x));
  return m === null ? 0n : BigInt(m[1]!);
}

/** MySQL's CAST(x AS DECIMAL(m, d)): rounded half away from zero, clamped to m digits. */
function castDecimal(x: Arg, m: Arg, d: Arg): number | bigint | null {
  if (x === null || m === null || d === null) return null;
  const digits = Number(m);
  const scale = Number(d);
  const v = typeof x === "bigint" || typeof x === "number" ? x : String(strToDouble(text(x)));
  const r = roundDecimal(decimalOf(v), scale, false);
  let mant = r.m * 10n ** BigInt(r.e + scale); // at scale `scale`
  const max = 10n ** BigInt(digits) - 1n;
  if (mant > max) mant = max;
  if (mant < -max) mant = -max;
  if (scale === 0 && mant <= I64_MAX && mant >= -I64_MAX) return mant;
  return decimalToNumber({ m: mant, e: -scale });
}

function hex(x: Arg): string | null {
  if (x === null) return null;
  if (typeof x === "bigint") return BigInt.asUintN(64, x).toString(16).toUpperCase();
  if (typeof x === "number") {
    if (x <= -(2 ** 63) || x >= 2 ** 64) return "FFFFFFFFFFFFFFFF";
    return BigInt.asUintN(64, BigInt(Math.trunc(x + (x > 0 ? 0.5 : -0.5))))
      .toString(16)
      .toUpperCase();
  }
  return (Buffer.isBuffer(x) ? x : Buffer.from(x, "utf8")).toString("hex").toUpperCase();
}

function unhex(x: Arg): Buffer | null {
  if (x === null) return null;
  const s = Buffer.isBuffer(x) ? x.toString("latin1") : String(x);
  if (!/^[0-9A-Fa-f]*$/.test(s)) return null;
  return Buffer.from(s.length % 2 === 0 ? s : `0${s}`, "hex");
}

/** Registers the MySQL compatibility functions (names `mysql_*`) on a connection. */
export function registerMysqlCompat(db: Database.Database): void {
  registerMysqlCollation(db);
  registerMysqlExact(db);
  const opts = { deterministic: true, safeIntegers: true } as const;
  db.function("mysql_mod", opts, (a: Arg, b: Arg, exact: Arg) => {
    if (a === null || b === null) return null;
    if (typeof a === "bigint" && typeof b === "bigint") return b === 0n ? null : a % b;
    if (exact === 1n && typeof a !== "string" && typeof b !== "string" && !Buffer.isBuffer(a) && !Buffer.isBuffer(b)) {
      const r = decimalMod(decimalOf(a), decimalOf(b));
      return r === null ? null : decimalToNumber(r);
    }
    const y = toDouble(b);
    return y === 0 ? null : toDouble(a) % y || 0;
  });
  db.function(
    "mysql_bitand",
    opts,
    bitOp("&", (a, b) => a & b),
  );
  db.function(
    "mysql_bitor",
    opts,
    bitOp("|", (a, b) => a | b),
  );
  db.function(
    "mysql_bitxor",
    opts,
    bitOp("^", (a, b) => a ^ b),
  );
  db.function(
    "mysql_shl",
    opts,
    bitOp("<<", (a, b) => (b >= 64n ? 0n : (a << b) & U64)),
  );
  db.function(
    "mysql_shr",
    opts,
    bitOp(">>", (a, b) => (b >= 64n ? 0n : a >> b)),
  );
  db.function("mysql_bitnot", opts, (a: Arg) => (a === null ? null : unsignedResult(~toU64("~", a) & U64)));
  db.function("mysql_round", opts, rounder(false));
  db.function("mysql_truncate", opts, rounder(true));
  db.function("mysql_signed", opts, (x: Arg, exact: Arg) => {
    if (x === null) return null;
    const v = castInteger(x, exact);
    // biome-ignore lint/complexity/useMathMinMax: bigint operands (Math.max takes numbers)
    return v > I64_MAX ? I64_MAX : v < I64_MIN ? I64_MIN : v;
  });
  db.function("mysql_unsigned", opts, (x: Arg, exact: Arg) => {
    if (x === null) return null;
    const v = castInteger(x, exact);
    // biome-ignore lint/complexity/useMathMinMax: bigint operands (Math.max takes numbers)
    return unsignedResult(v < 0n ? BigInt.asUintN(64, v < I64_MIN ? I64_MIN : v) : v > U64 ? U64 : v);
  });
  db.function("mysql_decimal", opts, castDecimal);
  db.function("mysql_float", opts, (x: Arg) => (x === null ? null : Math.fround(toDouble(x))));
  db.function("mysql_substr", { ...opts, varargs: true }, (s: Arg, pos: Arg, ...len: Arg[]) =>
    substring(s, pos, len.length === 0 ? undefined : (len[0] as Arg)),
  );
  db.function("mysql_left", opts, (s: Arg, n: Arg) =>
    n === null ? null : substring(s, 1n, typeof n === "bigint" ? n : BigInt(toSmallInt(n))),
  );
  db.function("mysql_right", opts, (s: Arg, n: Arg) => {
    if (s === null || n === null) return null;
    const k = toSmallInt(n);
    if (k <= 0) return substring(s, 1n, 0n);
    const len = Buffer.isBuffer(s) ? s.length : Array.from(typeof s === "string" ? s : String(s)).length;
    return substring(s, BigInt(Math.max(1, len - k + 1)), undefined);
  });
  db.function("mysql_locate", opts, locate);
  db.function("mysql_hex", opts, hex);
  db.function("mysql_unhex", opts, unhex);
  registerMysqlStrings(db);
  registerMysqlAggregates(db);
  registerMysqlDates(db);
}
