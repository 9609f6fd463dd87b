import type { Value } from "../../src/common/rowCodec.js";

/** A value as a string that keeps its type: bigint, float, text and blob never compare equal. */
function key(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "bigint") return `i${v}`;
  if (typeof v === "number") return `f${v}`;
  if (typeof v === "string") return `s${JSON.stringify(v)}`;
  if (v instanceof Uint8Array) return `b${Buffer.from(v).toString("hex")}`;
  return `?${String(v)}`;
}

/** Rows as sorted strings: compare two results as unordered multisets, types included. */
export function rowSet(rows: ReadonlyArray<ReadonlyArray<Value | unknown>>): string[] {
  return rows.map((r) => r.map(key).join("|")).sort();
}
