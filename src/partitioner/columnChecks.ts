import type { ColumnConfig } from "../common/ingestConfig.js";

/** A plain decimal number, as LOAD DATA takes one (no spaces, no hex). */
export const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Checks one field's value (null: the NULL token) against its declared MySQL type: the reason it
 * would be refused, or null when it loads. An empty numeric field loads as NULL.
 */
export type ColumnCheck = (v: string | null) => string | null;

const INT_BITS: Record<string, number> = { TINYINT: 8, BOOL: 8, BOOLEAN: 8, SMALLINT: 16, MEDIUMINT: 24, INT: 32 };
INT_BITS.INTEGER = 32;
INT_BITS.BIGINT = 64;
INT_BITS.SERIAL = 64;

/** FLT_MAX: the largest value a MySQL FLOAT holds. */
const FLOAT_MAX = 3.402823466e38;

/** The check of a column of an ingest config, from its type ("bigint(20) unsigned NOT NULL", ...). */
export function columnCheck(c: ColumnConfig): ColumnCheck {
  const t = c.type.trim().toUpperCase();
  const notNull = /\bNOT\s+NULL\b/.test(t) || /^SERIAL\b/.test(t);
  const unsigned = /\bUNSIGNED\b/.test(t) || /^SERIAL\b/.test(t);
  const base = /^[A-Z]+/.exec(t)?.[0] ?? "";
  const range = numericRange(base, t, unsigned);
  const name = c.name;
  const missing = `column ${name} cannot be NULL (declared NOT NULL)`;
  if (range === null) return notNull ? (v) => (v === null ? missing : null) : () => null;
  const typeName = `${base.toLowerCase()}${unsigned ? " unsigned" : ""}`;
  return (v) => {
    if (v === null || v === "") return notNull ? missing : null;
    if (!NUMBER.test(v)) return `${name} ${JSON.stringify(v)} is not a number`;
    const why = range(v);
    return why === null ? null : `column ${name}: ${v} ${why.replace("TYPE", typeName)}`;
  };
}

/** Whether the column holds numbers (checked as such). */
export function isNumericColumn(c: ColumnConfig): boolean {
  const t = c.type.trim().toUpperCase();
  return numericRange(/^[A-Z]+/.exec(t)?.[0] ?? "", t, false) !== null;
}

const OUT_OF_RANGE = "is out of range for TYPE";
const SHORT_INT = /^[+-]?\d{1,15}$/;
/** SQLite stores integers in 64 signed bits: a BIGINT UNSIGNED above that cannot be held exactly. */
const INT64_MAX = (1n << 63n) - 1n;

/**
 * Why a number's text does not fit the type (TYPE standing for the type's name), or null when it
 * does; the function is null for a type that is not checked as a number.
 */
function numericRange(base: string, t: string, unsigned: boolean): ((v: string) => string | null) | null {
  const bits = INT_BITS[base];
  if (bits !== undefined) {
    const lo = unsigned ? 0n : -(1n << BigInt(bits - 1));
    const hi = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
    const [loN, hiN] = [Number(lo), Number(hi)];
    return (v) => {
      // Up to 15 digits a double is exact: no BigInt needed (the common case, row after row).
      if (SHORT_INT.test(v)) {
        const x = Number(v);
        return x < loN || x > hiN ? OUT_OF_RANGE : null;
      }
      const n = integerOf(v);
      if (n === null) return "is not an integer (TYPE)";
      if (n < lo || n > hi) return OUT_OF_RANGE;
      return n > INT64_MAX ? `is not supported: TYPE values above ${INT64_MAX} (stored in 64 signed bits)` : null;
    };
  }
  if (base === "FLOAT" || base === "DOUBLE" || base === "REAL") {
    const max = base === "FLOAT" ? FLOAT_MAX : Number.MAX_VALUE;
    return (v) => {
      const n = Number(v);
      return Math.abs(n) <= max && !(unsigned && n < 0) ? null : OUT_OF_RANGE;
    };
  }
  if (base === "DECIMAL" || base === "DEC" || base === "NUMERIC" || base === "FIXED") {
    const m = /^[A-Z]+\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)/.exec(t);
    const p = m === null ? 10 : Number(m[1]);
    const s = m?.[2] === undefined ? 0 : Number(m[2]);
    // Extra fraction digits are rounded away (as MySQL does); the integer part must fit in p - s digits.
    const limit = 10 ** (p - s);
    return (v) => {
      const n = Number(v);
      return Math.abs(Number(n.toFixed(Math.min(s, 100)))) < limit && !(unsigned && n < 0) ? null : OUT_OF_RANGE;
    };
  }
  return null;
}

/** The exact integer a number's text denotes ("12", "-3", "1.0", "2e3"), or null when it has a fraction. */
function integerOf(v: string): bigint | null {
  if (/^[+-]?\d+$/.test(v)) return BigInt(v);
  const n = Number(v);
  if (!Number.isInteger(n)) return null;
  // Exponents and trailing ".0": exact when the digits say so.
  const m = /^([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(v);
  if (m === null) return null;
  const digits = `${m[2]}${m[3]}`.replace(/^0+/, "") || "0";
  const exp = Number(m[4] ?? 0) - (m[3] as string).length;
  if (exp >= 0) return exp > 40 ? null : BigInt(`${m[1]}${digits}${"0".repeat(exp)}`);
  const cut = digits.length + exp;
  if (!/^0*$/.test(digits.slice(Math.max(cut, 0)))) return null;
  return cut <= 0 ? 0n : BigInt(`${m[1]}${digits.slice(0, cut)}`);
}

/** A coordinate's value, NaN when the text is not a plain decimal number. */
export function parseCoord(s: string): number {
  const t = s.trim();
  if (t === "" || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number.NaN;
  return Number(t);
}
