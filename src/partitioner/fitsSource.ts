import { createReadStream } from "node:fs";
import { basename } from "node:path";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { QservError } from "../common/errors.js";
import type { BatchValue } from "../common/rowBatch.js";
import type { BinaryOptions, BinarySource } from "./binaryRows.js";
import {
  BLOCK,
  binTableColumns,
  dataBytes,
  type FitsColumn,
  Header,
  integerZero,
  isScaled,
  parseCards,
} from "./fitsHeader.js";
import { readError } from "./inputFiles.js";
import { doubleValue, floatValue, Refusal } from "./valueText.js";

/** Bytes of a stream taken in exact amounts, without holding more than one piece ahead. */
class ByteReader {
  private readonly it: AsyncIterator<Buffer>;
  private carry: Buffer = Buffer.alloc(0) as Buffer;
  /** Compressed or raw file bytes read so far (for progress). */
  constructor(
    private readonly stream: Readable,
    readonly raw: { bytesRead: number },
  ) {
    this.it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** Exactly n bytes, or fewer when the file ends first. */
  async take(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      if (this.carry.length === 0) {
        const r = await this.it.next();
        if (r.done) break;
        this.carry = r.value;
      }
      const k = Math.min(n - have, this.carry.length);
      parts.push(this.carry.subarray(0, k));
      this.carry = this.carry.subarray(k);
      have += k;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  async skip(n: number): Promise<void> {
    for (let left = n; left > 0; ) {
      const b = await this.take(Math.min(left, 1 << 20));
      if (b.length === 0) return;
      left -= b.length;
    }
  }

  close(): void {
    this.stream.destroy();
  }
}

/** Reads a header (blocks up to the one holding END); null at the end of the file. */
async function readHeader(r: ByteReader): Promise<Header | null> {
  let text = "";
  for (;;) {
    const b = await r.take(BLOCK);
    if (b.length === 0 && text === "") return null;
    if (b.length < BLOCK) throw new Error("the file ends inside a header");
    const block = b.toString("latin1");
    text += block;
    let end = false;
    for (let i = 0; i < BLOCK && !end; i += 80) end = block.startsWith("END     ", i);
    if (end) break;
  }
  return new Header(parseCards(text));
}

function open(path: string): ByteReader {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const gz = /\.gz$/i.test(path);
  const stream = gz ? raw.pipe(createGunzip()) : raw;
  raw.on("error", (e) => stream.destroy(e));
  return new ByteReader(stream, raw);
}

/** Finds the first BINTABLE HDU: its header, the reader positioned at its rows. */
async function findTable(path: string): Promise<{ r: ByteReader; h: Header }> {
  const r = open(path);
  const primary = await readHeader(r);
  if (primary === null || primary.str("SIMPLE") !== "true") {
    r.close();
    throw new Error("not a FITS file (no SIMPLE = T header)");
  }
  await r.skip(dataBytes(primary));
  for (;;) {
    const h = await readHeader(r);
    if (h === null) {
      r.close();
      throw new Error("no binary table (XTENSION = 'BINTABLE') in the file");
    }
    if (h.str("XTENSION") === "BINTABLE") return { r, h };
    await r.skip(dataBytes(h));
  }
}

/** The columns and row count of a FITS file's first binary table (for `describe`). */
export async function fitsTable(path: string): Promise<{ columns: FitsColumn[]; rows: number; comments: string }> {
  const { r, h } = await findTable(path).catch((e) => {
    throw fitsError(path, e);
  });
  r.close();
  try {
    return { columns: binTableColumns(h), rows: h.int("NAXIS2"), comments: h.comments() };
  } catch (e) {
    throw fitsError(path, e);
  }
}

function fitsError(path: string, e: unknown): QservError {
  if (e instanceof QservError) return e;
  if ((e as NodeJS.ErrnoException).code !== undefined) return readError(path, e);
  return new QservError("BAD_INPUT", `${basename(path)}: not a readable FITS binary table: ${(e as Error).message}`, {
    file: basename(path),
  });
}

type Decode = (row: Buffer, at: number) => BatchValue;

/** A column's value (see valueText.ts), chosen once from its TFORM, TNULL, TSCAL and TZERO. */
function decoder(c: FitsColumn, file: string, o: BinaryOptions): Decode {
  const refuse = (what: string) =>
    new QservError("UNSUPPORTED", `${file}: column ${c.name}: not supported: ${what}`, { file, column: c.name });
  if (c.code === "P" || c.code === "Q") throw refuse("a variable-length array column (TFORM P/Q)");
  if (c.code === "C" || c.code === "M") throw refuse("a complex column (TFORM C/M)");
  if (c.code === "X") throw refuse("a bit array column (TFORM X)");
  if (c.code !== "A" && c.repeat !== 1) throw refuse(`a vector column (${c.repeat} values a row)`);
  const nan = o.nanAsNull === true;
  const name = c.name;
  const { offset } = c;
  if (c.code === "A") {
    return (b, at) => {
      const s = b.subarray(at + offset, at + offset + c.repeat);
      const end = s.indexOf(0);
      return s.toString("latin1", 0, end < 0 ? s.length : end).replace(/ +$/, "");
    };
  }
  if (c.code === "L") {
    return (b, at) => {
      const v = b[at + offset];
      if (v === 0x54) return "1";
      if (v === 0x46) return "0";
      if (v === 0) return null;
      throw new Refusal(`column ${name}: logical byte ${v} is neither T, F nor 0`);
    };
  }
  const scal = c.tscal === undefined ? 1 : Number(c.tscal);
  const zero = c.tzero === undefined ? 0 : Number(c.tzero);
  // FITS floats: NaN is the standard's undefined value, so it loads as NULL.
  if (c.code === "E" || c.code === "D") {
    const read =
      c.code === "E" ? (b: Buffer, at: number) => b.readFloatBE(at) : (b: Buffer, at: number) => b.readDoubleBE(at);
    const text = c.code === "E" && scal === 1 && zero === 0 ? floatValue : doubleValue;
    return (b, at) => {
      const x = read(b, at + offset);
      return Number.isNaN(x) ? null : text(x * scal + zero, name, nan);
    };
  }
  const readInt: (b: Buffer, at: number) => bigint | number =
    c.code === "B"
      ? (b, at) => b.readUInt8(at)
      : c.code === "I"
        ? (b, at) => b.readInt16BE(at)
        : c.code === "J"
          ? (b, at) => b.readInt32BE(at)
          : (b, at) => b.readBigInt64BE(at);
  const tnull = c.tnull === undefined ? null : BigInt(c.tnull);
  const isNull = (v: bigint | number) => tnull !== null && BigInt(v) === tnull;
  if (isScaled(c)) {
    return (b, at) => {
      const v = readInt(b, at + offset);
      return isNull(v) ? null : doubleValue(Number(v) * scal + zero, name, nan);
    };
  }
  const z = integerZero(c) as bigint;
  // Exact: 64-bit values (and unsigned ones from TZERO = 2^63) through BigInt, the rest as doubles (< 2^53).
  if (c.code === "K") {
    return (b, at) => {
      const v = readInt(b, at + offset) as bigint;
      return isNull(v) ? null : v + z;
    };
  }
  const zn = Number(z);
  return (b, at) => {
    const v = readInt(b, at + offset) as number;
    return isNull(v) ? null : v + zn;
  };
}

/** A FITS file's first binary table, read a batch of rows at a time (`.fits.gz` through gunzip). */
export async function openFits(path: string, o: BinaryOptions): Promise<BinarySource> {
  const file = basename(path);
  const { columns, rows } = await fitsTable(path);
  return {
    columns,
    async read(wanted, row, onBytes) {
      const decode = wanted.map((j) => decoder(columns[j] as FitsColumn, file, o));
      const { r, h } = await findTable(path).catch((e) => {
        throw fitsError(path, e);
      });
      const rowBytes = h.int("NAXIS1");
      const batch = Math.max(1, Math.floor((1 << 20) / Math.max(rowBytes, 1)));
      try {
        let buf: Buffer = Buffer.alloc(0);
        let at = 0;
        const get = (k: number) => (decode[k] as Decode)(buf, at);
        for (let n = 0; n < rows; ) {
          const k = Math.min(batch, rows - n);
          buf = await r.take(k * rowBytes);
          if (buf.length < k * rowBytes) {
            throw new QservError(
              "BAD_INPUT",
              `${file}: the file ends at row ${n + Math.floor(buf.length / rowBytes) + 1} of ${rows}`,
              {
                file,
              },
            );
          }
          for (let i = 0; i < k; i++, n++) {
            at = i * rowBytes;
            const rowNo = n + 1;
            row(get, rowNo, () => `row ${rowNo}`);
          }
          onBytes?.(r.raw.bytesRead);
        }
      } catch (e) {
        throw fitsError(path, e);
      } finally {
        r.close();
      }
    },
  };
}
