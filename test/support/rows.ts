import { toJsonValue } from "../../src/common/jsonValue.js";
import type { Value } from "../../src/common/rowCodec.js";

/** A value as a string that keeps its type: bigint, float, text and blob never compare equal. */
function key(v: unknown, digits: number): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "bigint") return `i${v}`;
  if (typeof v === "number") return `f${digits > 0 ? Number(v.toPrecision(digits)) : v}`;
  if (typeof v === "string") return `s${JSON.stringify(v)}`;
  if (v instanceof Uint8Array) return `b${Buffer.from(v).toString("hex")}`;
  return `?${String(v)}`;
}

/**
 * Rows as strings, sorted unless `ordered`: compare two results as (unordered) multisets, types
 * included; `digits` > 0 rounds reals to that many significant digits (sums merged per chunk
 * differ from a single database's in the last bits).
 */
export function rowSet(rows: ReadonlyArray<ReadonlyArray<Value | unknown>>, ordered = false, digits = 0): string[] {
  const out = rows.map((r) => r.map((v) => key(v, digits)).join("|"));
  return ordered ? out : out.sort();
}

/** Rows as the HTTP API's JSON gives them (integers past 2^53 as text), as `rowSet` of them. */
export function jsonRowSet(rows: ReadonlyArray<ReadonlyArray<Value>>): string[] {
  return rowSet(rows.map((r) => r.map((v) => toJsonValue(v) as Value)));
}
