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
    if (e instanceof QservError) throw e;
    // zlib's errors (Z_DATA_ERROR, a cut file) are the input's fault: BAD_INPUT; the rest is I/O.
    const code = (e as NodeJS.ErrnoException).code ?? "";
    const bad = gz && (code.startsWith("Z_") || /unexpected end of file/i.test((e as Error).message));
    throw new QservError(
      bad ? "BAD_INPUT" : "IO",
      `${file}: ${bad ? "not a valid gzip file: " : ""}${(e as Error).message}`,
    );
  } finally {
    raw.destroy();
  }
}
