import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * Appends rows to many files of one directory through one bounded in-memory arena: rows are
 * copied into the arena as they come, and when it is full they are grouped by file and each
 * file's rows written with one append, one file open at a time. Memory stays flat whatever the
 * number of files, and a file is opened once per flush rather than once per row.
 */
export class BufferedFiles {
  private arena: Buffer;
  private sorted: Buffer;
  private used = 0;
  private keys: Int32Array = new Int32Array(1 << 16);
  private offsets: Int32Array = new Int32Array(1 << 16);
  private records = 0;
  private readonly counts = new Map<number, number>();

  /** `nameOf(key)` names the file of a numeric key. */
  constructor(
    readonly dir: string,
    readonly nameOf: (key: number) => string,
    arenaBytes = 64 * 1024 * 1024,
  ) {
    this.arena = Buffer.allocUnsafe(arenaBytes);
    this.sorted = Buffer.allocUnsafe(arenaBytes);
  }

  /** Append `src[start, end)` followed by `suffix` (latin1) as one row; returns its 0-based ordinal in the file. */
  add(key: number, src: Buffer | null, start: number, end: number, suffix: string): number {
    this.reserve(key, end - start + suffix.length);
    if (src !== null) this.used += src.copy(this.arena, this.used, start, end);
    this.used += this.arena.write(suffix, this.used, "latin1");
    return this.next(key);
  }

  /** Append a binary row batch record (rowBatch.ts): its length, `body[0, bodyLen)`, `tail[0, tailLen)`; returns its ordinal. */
  addRecord(key: number, body: Buffer, bodyLen: number, tail: Buffer, tailLen: number): number {
    this.reserve(key, 4 + bodyLen + tailLen);
    this.arena.writeUInt32LE(bodyLen + tailLen, this.used);
    this.used += 4;
    this.used += body.copy(this.arena, this.used, 0, bodyLen);
    this.used += tail.copy(this.arena, this.used, 0, tailLen);
    return this.next(key);
  }

  /** Room for a row of `len` bytes of `key`'s file at `used`. */
  private reserve(key: number, len: number): void {
    if (this.used + len > this.arena.length) {
      this.flush();
      if (len > this.arena.length) this.grow(len);
    }
    if (this.records === this.keys.length) {
      this.keys = grown(this.keys);
      this.offsets = grown(this.offsets);
    }
    this.keys[this.records] = key;
    this.offsets[this.records] = this.used;
    this.records++;
  }

  /** The ordinal of the row just added to `key`'s file. */
  private next(key: number): number {
    const ordinal = this.counts.get(key) ?? 0;
    this.counts.set(key, ordinal + 1);
    return ordinal;
  }

  /** Append a whole latin1 string as one row. */
  addText(key: number, text: string): number {
    return this.add(key, null, 0, 0, text);
  }

  /** Rows added to a key's file so far. */
  count(key: number): number {
    return this.counts.get(key) ?? 0;
  }

  keysWritten(): IterableIterator<number> {
    return this.counts.keys();
  }

  flush(): void {
    if (this.records === 0) return;
    const n = this.records;
    const ends = (i: number) => (i + 1 < n ? (this.offsets[i + 1] as number) : this.used);
    // Group rows by key, keeping their order: a counting sort into the second arena.
    const bytes = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const k = this.keys[i] as number;
      bytes.set(k, (bytes.get(k) ?? 0) + ends(i) - (this.offsets[i] as number));
    }
    const start = new Map<number, number>();
    let pos = 0;
    for (const [k, b] of bytes) {
      start.set(k, pos);
      pos += b;
    }
    const cursor = new Map(start);
    for (let i = 0; i < n; i++) {
      const k = this.keys[i] as number;
      const at = cursor.get(k) as number;
      cursor.set(k, at + this.arena.copy(this.sorted, at, this.offsets[i] as number, ends(i)));
    }
    for (const [k, s] of start) {
      const fd = openSync(join(this.dir, this.nameOf(k)), "a");
      try {
        writeSync(fd, this.sorted, s, bytes.get(k) as number);
      } finally {
        closeSync(fd);
      }
    }
    this.records = 0;
    this.used = 0;
  }

  private grow(len: number): void {
    this.arena = Buffer.allocUnsafe(len);
    this.sorted = Buffer.allocUnsafe(len);
  }
}

function grown(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
