import { closeSync, openSync, readSync } from "node:fs";
import { constants, gunzipSync } from "node:zlib";
import { QservError } from "../common/errors.js";

/** How an input file is read: delimited text (CSV/TSV), Parquet, or a FITS binary table. */
export type InputFormat = "text" | "parquet" | "fits";

/** The names `--format` takes. */
export const FORMAT_NAMES: Readonly<Record<string, InputFormat>> = {
  csv: "text",
  tsv: "text",
  text: "text",
  parquet: "parquet",
  fits: "fits",
};

/**
 * The one place an input file's format is chosen (partition, ingest, uploads and watched files
 * all come here): the override when given (`--format`), else the name's extension, else the
 * file's first bytes (`PAR1`; `SIMPLE  =`, also inside gzip); text otherwise.
 */
export function inputFormatOf(file: string, override?: string): InputFormat {
  if (override !== undefined && override !== "") {
    const f = FORMAT_NAMES[override.toLowerCase()];
    if (f === undefined) {
      throw new QservError(
        "BAD_ARGUMENT",
        `unknown input format ${JSON.stringify(override)} (one of ${Object.keys(FORMAT_NAMES).join(", ")})`,
      );
    }
    return f;
  }
  if (/\.(parquet|pq)$/i.test(file)) return "parquet";
  if (/\.(fits|fit|fts)(\.gz)?$/i.test(file)) return "fits";
  if (/\.(csv|tsv|txt)(\.gz)?$/i.test(file)) return "text";
  return sniff(file);
}

function sniff(file: string): InputFormat {
  let head = Buffer.alloc(0);
  try {
    const fd = openSync(file, "r");
    try {
      const buf = Buffer.alloc(64 << 10);
      head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return "text"; // unreadable: the text reader reports it with the file's name
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    try {
      head = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      return "text";
    }
  }
  if (head.toString("latin1", 0, 4) === "PAR1") return "parquet";
  if (head.toString("latin1", 0, 9) === "SIMPLE  =") return "fits";
  return "text";
}
