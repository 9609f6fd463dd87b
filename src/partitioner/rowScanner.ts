import type { Dialect } from "./dialect.js";

const LF = 10;
const CR = 13;

/**
 * Splits delimited bytes into rows and fields without copying: a row ends at a newline that is
 * neither escaped nor inside quotes. Bytes arrive in pieces of any size; a row cut between two
 * pieces is completed by the next one. Text is taken as latin1 (one byte, one char), so every
 * byte passes through unchanged.
 */
export class RowScanner {
  private readonly delim: number;
  private readonly quote: number;
  private readonly esc: number;
  /** Field i spans buf[bounds[2i], bounds[2i+1]) of the current row. */
  bounds = new Int32Array(512);
  fieldCount = 0;
  /** Newlines inside the current row (escaped or quoted). */
  innerNewlines = 0;
  private rest: Buffer | null = null;
  /** The line the next row starts on. */
  private line = 1;

  constructor(d: Dialect) {
    this.delim = d.delimiter.charCodeAt(0);
    this.quote = d.quote === null ? -1 : d.quote.charCodeAt(0);
    this.esc = d.escape === null ? -1 : d.escape.charCodeAt(0);
  }

  /**
   * Scan one row of `buf` from `start`: fills `bounds`/`fieldCount` and returns the index just
   * past the row's end (its newline), or -1 when the bytes end first and `final` is false.
   */
  scanRow(buf: Uint8Array, start: number, final: boolean): number {
    const n = buf.length;
    const { delim, quote, esc } = this;
    let nf = 0;
    let fs = start;
    let i = start;
    let inQuote = false;
    let inner = 0;
    while (i < n) {
      const c = buf[i] as number;
      if (c === esc) {
        if (i + 1 < n && buf[i + 1] === LF) inner++;
        i += 2;
        continue;
      }
      if (inQuote) {
        if (c === quote) {
          if (i + 1 < n && buf[i + 1] === quote) i++;
          else inQuote = false;
        } else if (c === LF) inner++;
        i++;
        continue;
      }
      if (c === delim) {
        nf = this.setField(nf, fs, i);
        fs = i + 1;
      } else if (c === LF) {
        const end = i > fs && buf[i - 1] === CR ? i - 1 : i;
        this.fieldCount = this.setField(nf, fs, end);
        this.innerNewlines = inner;
        return i + 1;
      } else if (c === quote && i === fs) {
        inQuote = true;
      }
      i++;
    }
    if (!final) return -1;
    this.fieldCount = this.setField(nf, fs, Math.min(i, n));
    this.innerNewlines = inner;
    return n;
  }

  private setField(nf: number, s: number, e: number): number {
    if (2 * nf + 2 > this.bounds.length) {
      const b = new Int32Array(this.bounds.length * 2);
      b.set(this.bounds);
      this.bounds = b;
    }
    this.bounds[2 * nf] = s;
    this.bounds[2 * nf + 1] = e;
    return nf + 1;
  }

  /** The end of the current row (without its newline or a CR before it). */
  rowEnd(): number {
    return this.bounds[2 * this.fieldCount - 1] as number;
  }

  /** Field i of the current row as raw latin1 text. */
  field(buf: Buffer, i: number): string {
    return buf.toString("latin1", this.bounds[2 * i] as number, this.bounds[2 * i + 1] as number);
  }

  /**
   * Feed the next piece; `onRow(buf, rowStart, line)` is called for every complete row while
   * the scanner's bounds describe it, with the 1-based line its row starts on. Blank lines are
   * skipped.
   */
  feed(piece: Buffer, final: boolean, onRow: (buf: Buffer, start: number, line: number) => void): void {
    const buf = this.rest === null ? piece : Buffer.concat([this.rest, piece]);
    let p = 0;
    const n = buf.length;
    while (p < n) {
      const c = buf[p];
      if (c === LF || (c === CR && p + 1 < n && buf[p + 1] === LF)) {
        this.line++;
        p += c === LF ? 1 : 2;
        continue;
      }
      const next = this.scanRow(buf, p, final);
      if (next < 0) break;
      onRow(buf, p, this.line);
      this.line += 1 + this.innerNewlines;
      p = next;
    }
    this.rest = p < n ? Buffer.from(buf.subarray(p)) : null;
  }
}
