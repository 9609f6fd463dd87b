import type { Value } from "./rowCodec.js";

/** A result value as the HTTP API carries it. */
export type JsonValue = null | number | string;

/**
 * The JSON form of a result value: integers within ±2^53 and reals as numbers, integers beyond
 * that as decimal strings (exact; JSON parsers turn big numbers into doubles), text as is, blobs
 * as upper-case hex. Non-finite reals (SQLite never returns them) become null.
 */
export function toJsonValue(v: Value): JsonValue {
  if (v === null || typeof v === "string") return v;
  if (typeof v === "bigint") {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex").toUpperCase();
}

/** The column type names of the HTTP API, from SQLite's storage classes. */
export type ColumnType = "INTEGER" | "REAL" | "TEXT" | "BLOB" | "NULL";

/** The storage class of a decoded value (integers decode as bigint, reals as number). */
export function valueType(v: Value): ColumnType {
  if (v === null) return "NULL";
  if (typeof v === "bigint") return "INTEGER";
  if (typeof v === "number") return "REAL";
  if (typeof v === "string") return "TEXT";
  return "BLOB";
}
