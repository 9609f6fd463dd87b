/**
 * Equality and order of result values in their JSON form (src/common/jsonValue.ts): null,
 * numbers, integers beyond ±2^53 as decimal strings, text, blobs as upper-case hex.
 */
import type { JsonValue } from "../../src/common/jsonValue.js";

export type Row = readonly JsonValue[];

const REL = 1e-9;
const ABS = 1e-12;
const BIG_INT = /^-?\d{16,}$/;

/** The number a value stands for: numbers, and integers too big for a double sent as strings. */
function numeric(v: JsonValue): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "string" && BIG_INT.test(v)) return Number(v);
  return null;
}

/**
 * Equal as results: safe integers and strings exactly; otherwise numbers (a real and an integer
 * of equal value included) within a relative 1e-9, or an absolute 1e-12 near zero.
 */
export function sameValue(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a === "string" && typeof b === "string") return false;
  if (Number.isSafeInteger(a) && Number.isSafeInteger(b)) return false;
  const x = numeric(a);
  const y = numeric(b);
  if (x === null || y === null) return false;
  const d = Math.abs(x - y);
  return d <= ABS || d <= REL * Math.max(Math.abs(x), Math.abs(y));
}

export function sameRow(a: Row, b: Row): boolean {
  return a.length === b.length && a.every((v, i) => sameValue(v, b[i] as JsonValue));
}

function rank(v: JsonValue): number {
  return v === null ? 0 : numeric(v) !== null ? 1 : 2;
}

/** A total order: null < numbers < strings; numbers by value, then by text. */
export function compareValues(a: JsonValue, b: JsonValue): number {
  const r = rank(a) - rank(b);
  if (r !== 0) return r;
  if (a === null || b === null) return 0;
  const x = numeric(a);
  const y = numeric(b);
  if (x !== null && y !== null && x !== y) return x < y ? -1 : 1;
  const s = String(a);
  const t = String(b);
  return s < t ? -1 : s > t ? 1 : 0;
}

export function compareRows(a: Row, b: Row): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareValues(a[i] as JsonValue, b[i] as JsonValue);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/**
 * Matches two row multisets under `sameRow`: sorted and paired, then the leftovers paired
 * greedily (tolerance can put near-equal rows on either side of a sort boundary).
 */
export function unmatched(expected: readonly Row[], actual: readonly Row[]): { missing: Row[]; extra: Row[] } {
  const e = [...expected].sort(compareRows);
  const a = [...actual].sort(compareRows);
  let missing: Row[] = [];
  let extra: Row[] = [];
  let i = 0;
  let j = 0;
  while (i < e.length && j < a.length) {
    const x = e[i] as Row;
    const y = a[j] as Row;
    if (sameRow(x, y)) {
      i++;
      j++;
    } else if (compareRows(x, y) < 0) {
      missing.push(x);
      i++;
    } else {
      extra.push(y);
      j++;
    }
  }
  missing = missing.concat(e.slice(i));
  extra = extra.concat(a.slice(j));
  if (missing.length > 0 && extra.length > 0) {
    const left: Row[] = [];
    for (const m of missing) {
      const k = extra.findIndex((x) => sameRow(m, x));
      if (k >= 0) extra.splice(k, 1);
      else left.push(m);
    }
    missing = left;
  }
  return { missing, extra };
}

/** A row for a failure message, cut to `max` characters. */
export function showRow(r: Row, max = 160): string {
  const s = JSON.stringify(r);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
