/**
 * MySQL's numeric conversions and rounding, for the compatibility functions of mysqlCompat.ts.
 * Values are those SQLite hands to a function registered with safeIntegers: INTEGER as bigint,
 * REAL as number, TEXT as string, BLOB as Buffer.
 */
import { QservError } from "../common/errors.js";

export type Arg = number | bigint | string | Buffer | null;
export type NonNull = Exclude<Arg, null>;

export const I64_MIN = -(1n << 63n);
export const I64_MAX = (1n << 63n) - 1n;
export const U64 = (1n << 64n) - 1n;

const NUMBER_PREFIX = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i;

/** MySQL's string → DOUBLE: the longest numeric prefix after leading spaces; none is 0. */
export function strToDouble(s: string): number {
  const m = NUMBER_PREFIX.exec(s);
  return m === null ? 0 : Number(m[0]);
}

/** A string argument's text (a BLOB's bytes read as UTF-8). */
export function text(v: string | Buffer): string {
  return typeof v === "string" ? v : v.toString("utf8");
}

/** The value as a double, as MySQL converts it in a numeric context. */
export function toDouble(v: Exclude<Arg, null>): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return strToDouble(text(v));
}

/** C's rint(): to the nearest integer, halves to even (MySQL's rounding of DOUBLE values). */
export function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Halves away from zero (MySQL's rounding of exact DECIMAL values). */
export function halfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** An integral double clamped to BIGINT's range. */
export function clampToI64(x: number): bigint {
  if (Number.isNaN(x)) return 0n;
  if (x >= 2 ** 63) return I64_MAX;
  if (x < -(2 ** 63)) return I64_MIN;
  return BigInt(x);
}

/** A small integer argument (a count or a position): rounded, clamped to ±2^31. */
export function toSmallInt(v: Exclude<Arg, null>): number {
  const x = typeof v === "bigint" ? Number(v) : halfAway(toDouble(v));
  return Math.max(-(2 ** 31), Math.min(2 ** 31, x));
}

/** An exact decimal m × 10^e. */
export interface Decimal {
  m: bigint;
  e: number;
}

const DECIMAL_TEXT = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?/i;

/** The decimal a numeric text denotes (a number's shortest round-trip form, for a number). */
export function decimalOf(v: number | bigint | string): Decimal {
  if (typeof v === "bigint") return { m: v, e: 0 };
  const m = DECIMAL_TEXT.exec(typeof v === "number" ? String(v) : v);
  const [, sign = "", int = "", frac = "", exp = "0"] = m ?? [];
  const digits = int + frac;
  if (digits === "") return { m: 0n, e: 0 };
  return { m: BigInt(`${sign}${digits}`), e: Number(exp) - frac.length };
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** `d` rounded (half away from zero) or truncated to `scale` digits after the point. */
export function roundDecimal(d: Decimal, scale: number, truncate: boolean): Decimal {
  const shift = -scale - d.e;
  if (shift <= 0) return d;
  const p = pow10(shift);
  let q = d.m / p;
  const r = d.m % p;
  if (!truncate && 2n * (r < 0n ? -r : r) >= p) q += d.m < 0n ? -1n : 1n;
  return { m: q, e: -scale };
}

/** The decimal as the nearest double (0 rather than -0). */
export function decimalToNumber(d: Decimal): number {
  return Number(`${d.m}e${d.e}`) || 0;
}

/** The exact remainder a - b × trunc(a / b); null when b is 0. */
export function decimalMod(a: Decimal, b: Decimal): Decimal | null {
  if (b.m === 0n) return null;
  const e = Math.min(a.e, b.e);
  return { m: (a.m * pow10(a.e - e)) % (b.m * pow10(b.e - e)), e };
}

/** MySQL's my_double_round(): DOUBLE values are scaled, rint()ed (or truncated) and scaled back. */
export function roundDouble(v: number, scale: number, truncate: boolean): number {
  const tmp = Number(`1e${Math.abs(scale)}`);
  const mul = v * tmp;
  const div = v / tmp;
  if (scale < 0 && !Number.isFinite(tmp)) return 0;
  if (scale >= 0 && !Number.isFinite(mul)) return v;
  const f = truncate ? (v >= 0 ? Math.floor : Math.ceil) : rint;
  return (scale < 0 ? f(div) * tmp : f(mul) / tmp) || 0;
}

/** An integer rounded (half away from zero) or truncated to 10^-scale, scale < 0. */
export function roundInteger(v: bigint, scale: number, truncate: boolean, what: string): bigint {
  if (scale >= 0) return v;
  const r = roundDecimal({ m: v, e: 0 }, scale, truncate);
  return checkI64(r.m * pow10(r.e), what);
}

/**
 * A MySQL unsigned 64-bit result (bit operations): an integer when SQLite's signed integers hold
 * it, else its digits as text (exact; SQLite orders any text above every number, as the value is).
 */
export function unsignedResult(v: bigint): bigint | string {
  return v > I64_MAX ? v.toString() : v;
}

/** `v` if SQLite can hold it; else an UNSUPPORTED error naming the MySQL operation. */
export function checkI64(v: bigint, what: string): bigint {
  if (v < I64_MIN || v > I64_MAX) {
    throw new QservError("UNSUPPORTED", `${what} gives ${v}, outside SQLite's 64-bit signed integers`);
  }
  return v;
}
