import { closeSync, openSync, writeSync } from "node:fs";
import { basename } from "node:path";
import { QservError } from "../common/errors.js";
import type { ColumnConfig } from "../common/ingestConfig.js";
import type { RecordEncoder } from "../common/rowBatch.js";
import { type BinaryOptions, readBinaryRows } from "./binaryRows.js";
import { openBinarySource } from "./binarySources.js";
import { type ColumnCheck, columnCheck, isNumericColumn, NUMBER, parseCoord } from "./columnChecks.js";
import { type Dialect, fieldValue } from "./dialect.js";
import { readRows } from "./inputFiles.js";
import { inputFormatOf } from "./inputFormat.js";
import type { RowScanner } from "./rowScanner.js";

const NEWLINE = Buffer.from("\n");

/** How input files present their columns. */
export interface HeaderOptions extends BinaryOptions {
  /** The input format (csv, tsv, parquet, fits) when neither the name nor the bytes should decide. */
  format?: string;
  /** Each file's first line names the columns: skip it. */
  header?: boolean;
  /** Map fields to the schema's columns by the header's names (implies `header`). */
  columnsFromHeader?: boolean;
}

/** A row of an input file, its fields in the schema's order, values checked against their types. */
export interface InputRow {
  /** The row's text (without its newline) is buf[start, end), fields in schema order. */
  buf: Buffer;
  start: number;
  end: number;
  /** The user's file (its name) and the line the row starts on (a binary file: the row's number, from 1). */
  file: string;
  line: number;
  /** Where the row is in a binary file, in words ("row group 2, row 17"); absent for text. */
  place?: string;
  /** Column i's value (null for NULL). */
  value(i: number): string | null;
  /** Appends the row's values to a binary row batch record (src/common/rowBatch.ts). */
  record(enc: RecordEncoder): void;
  /** Column i's value (not NULL) as a coordinate: NaN when it is not a plain decimal number. */
  coord(i: number): number;
}

/** A row refused: where, why, and its text as read. */
export type Reject = (where: RowPlace, reason: string, raw: string) => void;

/** A row's place: file and line, or in a binary file its row number and `place` in words. */
export interface RowPlace {
  file: string;
  line: number;
  place?: string;
}

/** `file:line` for text, `file: row group 2, row 17` for a binary file. */
export function placeText(w: RowPlace): string {
  return w.place === undefined ? `${w.file}:${w.line}` : `${w.file}: ${w.place}`;
}

/**
 * Reads one input file row by row: its header handled (skipped, or used to map fields to the
 * schema by name), each row's field count and values checked (NOT NULL, numbers within their
 * type's range) before `onRow` sees it; a bad row goes to `reject` with the user's file and line.
 * Without `header`, a first line that looks like one stops the read with a hint.
 */
export async function readInputRows(
  file: string,
  columns: ReadonlyArray<ColumnConfig>,
  dialect: Dialect,
  o: HeaderOptions,
  onRow: (row: InputRow) => void,
  reject: Reject,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  const format = inputFormatOf(file, o.format);
  if (format !== "text") {
    const source = await openBinarySource(file, format, o);
    return readBinaryRows(file, source, columns, dialect, o, onRow, reject, onBytes);
  }
  const name = basename(file);
  const checks: ColumnCheck[] = columns.map(columnCheck);
  const header = o.header === true || o.columnsFromHeader === true;
  /** Input field of each schema column, when the header reorders them. */
  let order: number[] | null = null;
  let fields = columns.length;
  let first = true;
  const sep = dialect.delimiter;
  const plain = plainField(dialect);
  await readRows(
    file,
    dialect,
    (sc: RowScanner, buf: Buffer, start: number, line: number) => {
      const raw = () => buf.toString("latin1", start, sc.rowEnd());
      if (first) {
        first = false;
        const names = Array.from({ length: sc.fieldCount }, (_, i) =>
          (fieldValue(sc.field(buf, i), dialect) ?? "").trim(),
        );
        if (header) {
          if (o.columnsFromHeader === true) {
            order = headerOrder(names, columns, `${name}:${line}`);
            fields = names.length;
          }
          return;
        }
        if (looksLikeHeader(names, columns)) {
          throw new QservError(
            "BAD_INPUT",
            `${name}:${line}: the first line looks like a header (${names.slice(0, 4).join(", ")}${names.length > 4 ? ", ..." : ""}): ` +
              "give --header to skip it, or --columns-from-header to map the columns by its names",
            { file: name, line },
          );
        }
      }
      if (sc.fieldCount !== fields) {
        return reject({ file: name, line }, `expected ${fields} fields, found ${sc.fieldCount}`, raw());
      }
      const map = order as number[] | null;
      const value = (i: number) => fieldValue(sc.field(buf, map === null ? i : (map[i] as number)), dialect);
      for (let i = 0; i < checks.length; i++) {
        const why = (checks[i] as ColumnCheck)(value(i));
        if (why !== null) return reject({ file: name, line }, why, raw());
      }
      const record = (enc: RecordEncoder) => {
        for (let i = 0; i < checks.length; i++) {
          const j = map === null ? i : (map[i] as number);
          const s = sc.bounds[2 * j] as number;
          const e = sc.bounds[2 * j + 1] as number;
          // A field without quotes, escapes or the NULL token is its value: its bytes go as they are.
          if (plain(buf, s, e)) {
            enc.fieldBytes(buf, s, e);
            continue;
          }
          const v = value(i);
          if (v === null) enc.null();
          else enc.field(v, "latin1");
        }
      };
      const coord = (i: number) => parseCoord(value(i) ?? "");
      if (map === null) return onRow({ buf, start, end: sc.rowEnd(), file: name, line, value, record, coord });
      // Fields reordered into the schema's order, each as written (quotes and escapes kept).
      const text = Buffer.from(map.map((j) => sc.field(buf, j)).join(sep), "latin1");
      onRow({ buf: text, start: 0, end: text.length, file: name, line, value, record, coord });
    },
    onBytes,
  );
}

/** Whether a field's bytes are its value: no quotes around it, no escape in it, not the NULL token. */
function plainField(d: Dialect): (buf: Buffer, start: number, end: number) => boolean {
  const quote = d.quote === null ? -1 : d.quote.charCodeAt(0);
  const esc = d.escape === null ? -1 : d.escape.charCodeAt(0);
  const nul = Buffer.from(d.nullToken, "latin1");
  return (buf, start, end) => {
    if (end > start && buf[start] === quote) return false;
    if (end - start === nul.length && buf.compare(nul, 0, nul.length, start, end) === 0) return false;
    if (esc >= 0) for (let i = start; i < end; i++) if (buf[i] === esc) return false;
    return true;
  };
}

/** The input field of each schema column, by the header's names (case-insensitive); every name must match. */
function headerOrder(names: string[], columns: ReadonlyArray<ColumnConfig>, where: string): number[] {
  const at = new Map(names.map((n, i) => [n.toLowerCase(), i]));
  const known = new Set(columns.map((c) => c.name.toLowerCase()));
  const unknown = names.filter((n) => !known.has(n.toLowerCase()));
  const missing = columns.filter((c) => !at.has(c.name.toLowerCase())).map((c) => c.name);
  const dup = names.filter((n, i) => at.get(n.toLowerCase()) !== i);
  if (unknown.length + missing.length + dup.length > 0) {
    const parts = [
      unknown.length > 0 ? `not columns of the table: ${unknown.join(", ")}` : "",
      missing.length > 0 ? `missing from the header: ${missing.join(", ")}` : "",
      dup.length > 0 ? `named twice: ${dup.join(", ")}` : "",
    ].filter((p) => p !== "");
    throw new QservError("BAD_INPUT", `${where}: the header does not match the table's columns (${parts.join("; ")})`);
  }
  return columns.map((c) => at.get(c.name.toLowerCase()) as number);
}

/**
 * A first line looks like a header when half or more of its fields are column names, or when
 * every field is a bare word and a numeric column's field is not a number.
 */
function looksLikeHeader(names: string[], columns: ReadonlyArray<ColumnConfig>): boolean {
  const known = new Set(columns.map((c) => c.name.toLowerCase()));
  const matches = names.filter((n) => known.has(n.toLowerCase())).length;
  if (matches > 0 && 2 * matches >= names.length) return true;
  if (!names.every((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n))) return false;
  return columns.some((c, i) => isNumericColumn(c) && !NUMBER.test(names[i] ?? "0"));
}

/**
 * Writes the rows of `files` into `out`, checked and in the schema's column order (headers
 * dropped): the input of a table loaded whole. Returns the rows written.
 */
export async function copyInputRows(
  files: ReadonlyArray<string>,
  columns: ReadonlyArray<ColumnConfig>,
  dialect: Dialect,
  o: HeaderOptions,
  out: string,
  reject: Reject,
): Promise<number> {
  const fd = openSync(out, "w");
  let rows = 0;
  let pending: Buffer[] = [];
  let bytes = 0;
  const flush = () => {
    writeSync(fd, Buffer.concat(pending));
    pending = [];
    bytes = 0;
  };
  try {
    for (const file of files) {
      await readInputRows(
        file,
        columns,
        dialect,
        o,
        (r) => {
          rows++;
          // A copy: the row's bytes belong to the read buffer.
          pending.push(Buffer.from(r.buf.subarray(r.start, r.end)), NEWLINE);
          bytes += r.end - r.start + 1;
          if (bytes >= 1 << 20) flush();
        },
        reject,
      );
      flush();
    }
  } finally {
    closeSync(fd);
  }
  return rows;
}

/** Where bad rows go: with a rejects file, a line each (`file:line: reason<TAB>row`); without, the first stops the run. */
export class Rejects {
  private readonly fd: number | null;
  count = 0;

  constructor(path: string | undefined) {
    this.fd = path === undefined ? null : openSync(path, "w");
  }

  readonly reject: Reject = (where, reason, raw) => {
    if (this.fd === null) throw new QservError("BAD_INPUT", `${placeText(where)}: ${reason}`, { ...where, reason });
    this.count++;
    writeSync(this.fd, `${placeText(where)}: ${reason}\t${raw}\n`, null, "latin1");
  };

  /** Whether bad rows are kept (in a file) rather than stopping the run. */
  get kept(): boolean {
    return this.fd !== null;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
  }
}
