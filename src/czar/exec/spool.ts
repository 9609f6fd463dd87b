/**
 * A query's rows on their way to a client that reads at its own pace: taken at once from the
 * workers (so they are released as soon as their chunks are done), held in memory up to a bound,
 * then in a file on the czar (bounded disk: past it the query fails with TOO_LARGE), handed to
 * the client in arrival order; the file is removed when the query ends.
 */
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { QservError } from "../../common/errors.js";
import { decodeRows, RowEncoder, type Value } from "../../common/rowCodec.js";

/**
 * What a row costs on the JS heap, roughly (V8: the array and its backing store, a heap number
 * or BigInt per value, string headers): the memory bound is of the heap, not of the encoded rows.
 */
function heapBytes(r: readonly Value[]): number {
  let n = 48 + 8 * r.length;
  for (const v of r) {
    if (v === null) continue;
    if (typeof v === "string") n += 24 + v.length;
    else if (v instanceof Uint8Array) n += 96 + v.length;
    else n += typeof v === "bigint" ? 32 : 16;
  }
  return n;
}

/** Disk shared by every spool and scratch database of a czar (files under `dir`). */
export class SpoolBudget {
  used = 0;
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /** Takes `bytes` of the disk for `what` (plural); past the limit, TOO_LARGE. */
  reserve(bytes: number, what: string): void {
    if (this.used + bytes > this.maxBytes) {
      throw new QservError(
        "TOO_LARGE",
        `${what} exceed the czar's spool limit of ${Math.round(this.maxBytes / 2 ** 20)} MiB`,
      );
    }
    this.used += bytes;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }
}

type Entry = { rows: Value[][]; bytes: number } | { at: number; length: number; count: number; ncols: number };

let nextFile = 0;

export class Spool {
  private readonly entries: Entry[] = [];
  private memory = 0;
  private fd: number | null = null;
  private file = "";
  private fileBytes = 0;
  private ended = false;
  private endError: unknown;
  private failure: unknown = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly memoryBytes: number,
    private readonly budget: SpoolBudget,
    private readonly name: string,
  ) {}

  /** Rows in; written to the file once memory holds `memoryBytes` (or once anything is there, to keep the order). */
  push(rows: Value[][]): void {
    if (rows.length === 0) return;
    let bytes = 0;
    for (const r of rows) bytes += heapBytes(r);
    if (this.fd === null && this.memory + bytes <= this.memoryBytes) {
      this.entries.push({ rows, bytes });
      this.memory += bytes;
    } else {
      this.entries.push(this.spill(rows));
    }
    this.signal();
  }

  /** No more rows will come; with `error`, the reader throws it once it has read the rows before. */
  end(error?: unknown): void {
    this.ended = true;
    this.endError = error;
    this.signal();
  }

  /** The query failed: the reader stops with this error. */
  fail(e: unknown): void {
    this.failure ??= e;
    this.signal();
  }

  /** Batches in arrival order until end(); throws what fail() was given. */
  async *batches(): AsyncGenerator<Value[][]> {
    for (;;) {
      if (this.failure !== null) throw this.failure;
      const e = this.entries.shift();
      if (e === undefined) {
        if (this.ended) {
          if (this.endError !== undefined) throw this.endError;
          return;
        }
        this.close(); // all read: the file's disk goes back, later rows start in memory again
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        continue;
      }
      if ("rows" in e) {
        this.memory -= e.bytes;
        yield e.rows;
      } else {
        yield this.read(e);
      }
    }
  }

  /** Removes the file and gives its disk back. */
  close(): void {
    this.entries.length = 0;
    this.memory = 0;
    if (this.fd !== null) {
      closeSync(this.fd);
      rmSync(this.file, { force: true });
      this.budget.release(this.fileBytes);
      this.fd = null;
      this.fileBytes = 0;
    }
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private spill(rows: Value[][]): Entry {
    const enc = new RowEncoder();
    for (const r of rows) enc.append(r);
    const data = enc.take();
    this.budget.reserve(data.length, "the rows a slow client has not read yet");
    if (this.fd === null) {
      mkdirSync(this.budget.dir, { recursive: true });
      this.file = join(this.budget.dir, `${this.name}-${process.pid}-${nextFile++}.rows`);
      this.fd = openSync(this.file, "w+");
    }
    const at = this.fileBytes;
    writeSync(this.fd, data, 0, data.length, at);
    this.fileBytes += data.length;
    return { at, length: data.length, count: rows.length, ncols: rows[0]?.length ?? 0 };
  }

  private read(e: Extract<Entry, { at: number }>): Value[][] {
    const buf = Buffer.allocUnsafe(e.length);
    readSync(this.fd as number, buf, 0, e.length, e.at);
    return decodeRows(buf, e.ncols, e.count);
  }
}
