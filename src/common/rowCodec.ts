/**
 * The binary row encoding of result batches (see proto/worker.proto, RowBatch): per value one tag
 * byte, then 8 bytes for numbers or a uint32 length and the bytes for text and blobs; little endian.
 * Integers travel as int64 and decode as bigint, so 64-bit ids stay exact and ints stay ints.
 */
export type Value = null | number | bigint | string | Uint8Array;

const NULL = 0;
const INT = 1;
const FLOAT = 2;
const TEXT = 3;
const BLOB = 4;

/**
 * Appends rows to a growing buffer; `take()` hands the bytes over and starts afresh. Buffers are
 * never from Node's shared pool, so their ArrayBuffer can be transferred to another thread.
 */
const EMPTY = Buffer.alloc(0);

export class RowEncoder {
  private buf: Buffer;
  private off = 0;
  rows = 0;

  /** `initialBytes`: the first buffer's size (allocated at the first row), doubled as needed. */
  constructor(private readonly initialBytes = 64 * 1024) {
    this.buf = EMPTY;
  }

  get bytes(): number {
    return this.off;
  }

  append(row: readonly unknown[]): void {
    for (const v of row) this.value(v);
    this.rows++;
  }

  /**
   * The bytes so far. A mostly empty buffer (a one-row answer in a 1 MiB buffer) is copied out
   * and kept for reuse, so that what travels on is no bigger than its rows; a full one is handed
   * over and the next is allocated when needed.
   */
  take(): Buffer {
    let out: Buffer;
    if (this.off * 4 < this.buf.length) {
      out = Buffer.allocUnsafeSlow(this.off);
      this.buf.copy(out, 0, 0, this.off);
    } else {
      out = this.buf.subarray(0, this.off);
      this.buf = EMPTY;
    }
    this.off = 0;
    this.rows = 0;
    return out;
  }

  private value(v: unknown): void {
    if (v === null || v === undefined) {
      this.ensure(1);
      this.buf[this.off++] = NULL;
    } else if (typeof v === "bigint") {
      this.ensure(9);
      this.buf[this.off] = INT;
      this.buf.writeBigInt64LE(v, this.off + 1);
      this.off += 9;
    } else if (typeof v === "number") {
      this.ensure(9);
      this.buf[this.off] = FLOAT;
      this.buf.writeDoubleLE(v, this.off + 1);
      this.off += 9;
    } else if (typeof v === "string") {
      this.ensure(5 + v.length * 3);
      this.buf[this.off] = TEXT;
      const n = this.buf.write(v, this.off + 5, "utf8");
      this.buf.writeUInt32LE(n, this.off + 1);
      this.off += 5 + n;
    } else if (v instanceof Uint8Array) {
      this.ensure(5 + v.length);
      this.buf[this.off] = BLOB;
      this.buf.writeUInt32LE(v.length, this.off + 1);
      this.buf.set(v, this.off + 5);
      this.off += 5 + v.length;
    } else if (typeof v === "boolean") {
      this.value(v ? 1n : 0n);
    } else {
      throw new TypeError(`cannot encode a value of type ${typeof v}`);
    }
  }

  private ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.initialBytes, this.off + n));
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }
}

/** Decodes `rowCount` rows of `columns` values each. */
export function decodeRows(data: Uint8Array, columns: number, rowCount: number): Value[][] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const rows: Value[][] = new Array(rowCount);
  let off = 0;
  for (let r = 0; r < rowCount; r++) {
    const row: Value[] = new Array(columns);
    for (let c = 0; c < columns; c++) {
      const tag = buf[off];
      switch (tag) {
        case NULL:
          row[c] = null;
          off += 1;
          break;
        case INT:
          row[c] = buf.readBigInt64LE(off + 1);
          off += 9;
          break;
        case FLOAT:
          row[c] = buf.readDoubleLE(off + 1);
          off += 9;
          break;
        case TEXT: {
          const n = buf.readUInt32LE(off + 1);
          row[c] = buf.toString("utf8", off + 5, off + 5 + n);
          off += 5 + n;
          break;
        }
        case BLOB: {
          const n = buf.readUInt32LE(off + 1);
          row[c] = Uint8Array.prototype.slice.call(buf, off + 5, off + 5 + n);
          off += 5 + n;
          break;
        }
        default:
          throw new RangeError(`bad value tag ${tag} at byte ${off} of a row batch`);
      }
    }
    rows[r] = row;
  }
  if (off !== buf.length) throw new RangeError(`row batch has ${buf.length - off} trailing bytes`);
  return rows;
}
