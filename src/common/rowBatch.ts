/**
 * Binary row batches: the internal wire format of rows from the czar's partitioner to a worker's
 * loader (load header `row_format: "batch"`), in place of delimited text. Users never see it: the
 * chunk files of `mini-qserv partition` stay text.
 *
 * A batch is a sequence of records, cut anywhere into load messages. A record:
 *
 *     u32 LE   length of the rest of the record, in bytes
 *     then one value per column of the load header, in its order, each a tag byte and its bytes:
 *       0 NULL
 *       1 INT64   8 bytes, little-endian two's complement (exact 64-bit integers)
 *       2 DOUBLE  8 bytes, little-endian IEEE 754; finite, never -0 (NaN and infinities are
 *                 refused, or NULL under --nan-as-null, before they get here)
 *       3 FIELD   u32 LE length, then the bytes of a field as a delimited text load reads it
 *                 (escapes and quotes resolved): the worker converts it for its column exactly
 *                 as it converts a text field (a number column takes its digits, TEXT its UTF-8)
 *
 * Values are stored as a text load of the same values stores them: a DOUBLE or INT64 goes into a
 * TEXT column as its shortest round-trip digits (JavaScript's String), into a number column as
 * the number (SQLite's column affinity applies as it does to the text).
 */
import { QservError } from "./errors.js";

export const NULL_TAG = 0;
export const INT64_TAG = 1;
export const DOUBLE_TAG = 2;
export const FIELD_TAG = 3;

/** A value of a record: a field's text (bytes as read), a double, an exact integer, or NULL. */
export type BatchValue = string | number | bigint | null;

/** Builds one record's values (without its length prefix) in a growing buffer. */
export class RecordEncoder {
  buf: Buffer = Buffer.allocUnsafe(1024);
  length = 0;

  reset(): void {
    this.length = 0;
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(b, 0, 0, this.length);
    this.buf = b;
  }

  null(): void {
    this.room(1);
    this.buf[this.length++] = NULL_TAG;
  }

  int64(v: bigint): void {
    this.room(9);
    this.buf[this.length] = INT64_TAG;
    this.buf.writeBigInt64LE(v, this.length + 1);
    this.length += 9;
  }

  /** A safe integer as INT64. */
  int(n: number): void {
    this.room(9);
    this.buf[this.length] = INT64_TAG;
    this.buf.writeUInt32LE(n >>> 0, this.length + 1);
    this.buf.writeInt32LE(Math.floor(n / 2 ** 32), this.length + 5);
    this.length += 9;
  }

  double(x: number): void {
    if (!Number.isFinite(x)) throw new QservError("INTERNAL", `row batch: ${x} is not a finite double`);
    this.room(9);
    this.buf[this.length] = DOUBLE_TAG;
    this.buf.writeDoubleLE(x === 0 ? 0 : x, this.length + 1);
    this.length += 9;
  }

  /** A field's text: `latin1` for bytes read from a text file (one char a byte), `utf8` for strings of a binary file. */
  field(s: string, encoding: "latin1" | "utf8"): void {
    const max = encoding === "latin1" ? s.length : s.length * 3;
    this.room(5 + max);
    this.buf[this.length] = FIELD_TAG;
    const n = this.buf.write(s, this.length + 5, encoding);
    this.buf.writeUInt32LE(n, this.length + 1);
    this.length += 5 + n;
  }

  /** A field's bytes as they are, `src[start, end)`. */
  fieldBytes(src: Buffer, start: number, end: number): void {
    this.room(5 + end - start);
    this.buf[this.length] = FIELD_TAG;
    this.buf.writeUInt32LE(end - start, this.length + 1);
    this.length += 5 + src.copy(this.buf, this.length + 5, start, end);
  }

  /** A value as binary sources give it: text (UTF-8), a double, an exact integer (beyond 64 bits: its digits), or NULL. */
  value(v: BatchValue): void {
    if (v === null) this.null();
    else if (typeof v === "string") this.field(v, "utf8");
    else if (typeof v === "number") this.double(v);
    else if (v >= -(1n << 63n) && v < 1n << 63n) this.int64(v);
    else this.field(String(v), "latin1");
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Reads records from pieces cut anywhere: `onRecord(buf, start, end)` sees each whole record's
 * values (after its length prefix); `values` decodes them.
 */
export class RecordReader {
  private carry: Buffer | null = null;

  feed(data: Buffer, final: boolean, onRecord: (buf: Buffer, start: number, end: number) => void): void {
    let buf = data;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, data]);
      this.carry = null;
    }
    let at = 0;
    while (buf.length - at >= 4) {
      const end = at + 4 + buf.readUInt32LE(at);
      if (end > buf.length) break;
      onRecord(buf, at + 4, end);
      at = end;
    }
    if (at < buf.length) {
      if (final) throw new QservError("BAD_INPUT", "row batch: the data ends inside a record");
      this.carry = Buffer.from(buf.subarray(at));
    }
  }
}

/**
 * The record's values in `out` (strings of FIELD values as latin1: one char a byte, as a text
 * load reads them; INT64 within ±2^53 as numbers); returns how many there were.
 */
export function decodeRecord(buf: Buffer, start: number, end: number, out: BatchValue[]): number {
  let n = 0;
  let at = start;
  while (at < end) {
    const tag = buf[at++];
    if (tag === NULL_TAG) out[n++] = null;
    else if (tag === DOUBLE_TAG) {
      out[n++] = buf.readDoubleLE(at);
      at += 8;
    } else if (tag === INT64_TAG) {
      const v = buf.readBigInt64LE(at);
      out[n++] = v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
      at += 8;
    } else if (tag === FIELD_TAG) {
      const len = buf.readUInt32LE(at);
      out[n++] = buf.toString("latin1", at + 4, at + 4 + len);
      at += 4 + len;
    } else throw new QservError("BAD_INPUT", `row batch: unknown value tag ${tag}`);
    if (at > end) throw new QservError("BAD_INPUT", "row batch: a value runs past its record");
  }
  return n;
}
