/** The czar's result-size limit (`--max-result-mb`): bytes of rows one query may hold or send. */
import { QservError } from "../../common/errors.js";
import type { Value } from "../../common/rowCodec.js";

/** Approximate bytes of a row, for the result-size limit. */
export function rowBytes(r: readonly Value[]): number {
  let n = 16;
  for (const v of r) n += v === null ? 1 : typeof v === "string" || v instanceof Uint8Array ? v.length + 8 : 8;
  return n;
}

/** Counts rows against the limit; past it, TOO_LARGE. */
export class SizeGuard {
  private bytes = 0;
  constructor(private readonly max: number) {}
  add(rows: readonly Value[][]): void {
    for (const r of rows) this.addRow(r);
  }
  addRow(r: readonly Value[]): void {
    this.bytes += rowBytes(r);
    if (this.bytes > this.max) {
      throw new QservError(
        "TOO_LARGE",
        `the result exceeds the czar's limit of ${Math.round(this.max / 2 ** 20)} MiB; add a LIMIT or narrow the query`,
      );
    }
  }
}
