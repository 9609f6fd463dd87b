import { createReadStream, statSync } from "node:fs";
import { createGunzip } from "node:zlib";
import { QservError } from "../common/errors.js";
import type { Dialect } from "./dialect.js";
import { RowScanner } from "./rowScanner.js";

/** Total on-disk size of the inputs (for progress and ETA). */
export function totalBytes(files: ReadonlyArray<string>): number {
  let n = 0;
  for (const f of files) {
    try {
      n += statSync(f).size;
    } catch (e) {
      throw new QservError("IO", `${f}: cannot read: ${(e as Error).message}`);
    }
  }
  return n;
}

/** The error for a failed read of an input file: a bad gzip stream (zlib's Z_* codes) is BAD_INPUT, the rest IO. */
export function readError(file: string, e: unknown): QservError {
  if (e instanceof QservError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? "";
  if (/\.gz$/i.test(file) && code.startsWith("Z_")) {
    return new QservError("BAD_INPUT", `${file}: not a valid gzip file: ${(e as Error).message}`);
  }
  return new QservError("IO", `${file}: ${(e as Error).message}`);
}

/**
 * Stream the rows of one CSV/TSV file (gzip when named *.gz) as bytes. `onRow` sees the scanner
 * describing the row; `onBytes` the number of file bytes consumed so far.
 */
export async function readRows(
  file: string,
  dialect: Dialect,
  onRow: (scanner: RowScanner, buf: Buffer, start: number, line: number) => void,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  const scanner = new RowScanner(dialect);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const gz = /\.gz$/i.test(file);
  const stream = gz ? raw.pipe(createGunzip()) : raw;
  raw.on("error", (e) => stream.destroy(e));
  try {
    const emit = (buf: Buffer, start: number, line: number) => onRow(scanner, buf, start, line);
    for await (const piece of stream as AsyncIterable<Buffer>) {
      scanner.feed(piece, false, emit);
      onBytes?.(raw.bytesRead);
    }
    scanner.feed(Buffer.alloc(0), true, emit);
  } catch (e) {
    throw readError(file, e);
  } finally {
    raw.destroy();
  }
}
