import { basename } from "node:path";
import { QservError } from "../common/errors.js";
import type { ColumnConfig } from "../common/ingestConfig.js";
import type { BatchValue, RecordEncoder } from "../common/rowBatch.js";
import { type ColumnCheck, columnCheck, parseCoord } from "./columnChecks.js";
import type { Dialect } from "./dialect.js";
import type { InputRow, Reject } from "./inputRows.js";
import { Refusal } from "./valueText.js";

/** How a binary file (Parquet, FITS) is matched to the table and read. */
export interface BinaryOptions {
  /** Columns of the file that the table lacks are left out (else they stop the run). */
  dropExtraColumns?: boolean;
  /** NaN and infinities load as NULL (else such a row is refused). */
  nanAsNull?: boolean;
}

/** A column a binary file declares. */
export interface FileColumn {
  name: string;
  /** The file's type, where every value of it is a valid value of the same kind of MySQL type. */
  kind?: "double" | "float" | "int32" | "int64" | "bool";
}

/** The MySQL types that hold every value of a file type (signed, unscaled). */
const HOLDS: Record<string, ReadonlyArray<string>> = {
  DOUBLE: ["double", "float", "int32"],
  REAL: ["double", "float", "int32"],
  FLOAT: ["float"],
  BIGINT: ["int64", "int32", "bool"],
  INT: ["int32", "bool"],
  INTEGER: ["int32", "bool"],
};

/** Whether every value of the file's type is a valid value of the column's: then only NOT NULL is checked. */
function holds(c: ColumnConfig, kind: FileColumn["kind"]): boolean {
  const t = c.type.trim().toUpperCase();
  const base = /^[A-Z]+/.exec(t)?.[0] ?? "";
  return kind !== undefined && !/\bUNSIGNED\b/.test(t) && HOLDS[base]?.includes(kind) === true;
}

/**
 * A binary file opened for reading: its columns, and its rows, each handed over as a getter of
 * the value (valueText.ts: typed, its text String(value); null for NULL; a Refusal thrown for a
 * value no row can carry) of the k-th
 * of the `wanted` file columns, with the row's number in the file (from 1) and its place in
 * words for errors ("row group 2, row 17"), made only when asked for.
 */
export interface BinarySource {
  readonly columns: ReadonlyArray<FileColumn>;
  read(
    wanted: ReadonlyArray<number>,
    row: (get: (k: number) => BatchValue, n: number, place: () => string) => void,
    onBytes?: (bytes: number) => void,
  ): Promise<void>;
}

/**
 * The file column of each schema column by name (case-insensitive), -1 for a column the file
 * lacks (NULL where the schema allows it). Columns the table lacks stop the run unless dropped.
 */
export function matchColumns(
  file: ReadonlyArray<FileColumn>,
  schema: ReadonlyArray<ColumnConfig>,
  o: BinaryOptions,
  name: string,
): number[] {
  const at = new Map<string, number>();
  const twice: string[] = [];
  file.forEach((c, i) => {
    const k = c.name.toLowerCase();
    if (at.has(k)) twice.push(c.name);
    at.set(k, i);
  });
  const known = new Set(schema.map((c) => c.name.toLowerCase()));
  const extra = file.filter((c) => !known.has(c.name.toLowerCase())).map((c) => c.name);
  const missing = schema
    .filter((c) => !at.has(c.name.toLowerCase()) && columnCheck(c)(null) !== null)
    .map((c) => c.name);
  const parts = [
    extra.length > 0 && o.dropExtraColumns !== true
      ? `not columns of the table: ${extra.join(", ")} (give --drop-extra-columns to leave them out)`
      : "",
    missing.length > 0 ? `missing from the file and declared NOT NULL: ${missing.join(", ")}` : "",
    twice.length > 0 ? `named twice: ${twice.join(", ")}` : "",
  ].filter((p) => p !== "");
  if (parts.length > 0) {
    throw new QservError("BAD_INPUT", `${name}: the file's columns do not match the table's (${parts.join("; ")})`, {
      file: name,
    });
  }
  return schema.map((c) => at.get(c.name.toLowerCase()) ?? -1);
}

/** A field as the dialect writes it: escaped (or quoted) so that the row scanner reads the value back. */
function fieldWriter(d: Dialect, column: string): (v: string | null) => string {
  const { delimiter: sep, quote, escape: esc, nullToken } = d;
  const special = new RegExp(
    `[${[sep, "\n", "\r", "\0", ...(esc === null ? [] : [esc]), ...(quote === null ? [] : [quote])]
      .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
      .join("")}]`,
  );
  const names: Record<string, string> = { "\n": "n", "\r": "r", "\0": "0" };
  return (v) => {
    if (v === null) return nullToken;
    if (v === nullToken) throw new Refusal(`column ${column}: the value ${JSON.stringify(v)} is the NULL token`);
    if (!special.test(v)) return v;
    if (esc !== null) {
      let out = "";
      for (const c of v) {
        const named = names[c];
        out += named !== undefined ? esc + named : c === sep || c === esc || c === quote ? esc + c : c;
      }
      return out;
    }
    if (quote !== null) return `${quote}${v.replaceAll(quote, quote + quote)}${quote}`;
    throw new Refusal(
      `column ${column}: ${JSON.stringify(v)} holds the delimiter or a newline, and the format has no escape`,
    );
  };
}

/**
 * Reads a binary source as the partitioner's rows: the schema's columns in order, checked
 * against their declared types like text input; a bad row goes to `reject` with the user's file
 * and row. A row's text (in the dialect of the run, so that chunk files are alike whatever the
 * input) is made only when asked for; its record (rowBatch.ts) takes the typed values.
 */
export async function readBinaryRows(
  file: string,
  source: BinarySource,
  columns: ReadonlyArray<ColumnConfig>,
  dialect: Dialect,
  o: BinaryOptions,
  onRow: (row: InputRow) => void,
  reject: Reject,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  const name = basename(file);
  const map = matchColumns(source.columns, columns, o, name);
  const wanted = [...new Set(map.filter((j) => j >= 0))];
  const slot = map.map((j) => (j < 0 ? -1 : wanted.indexOf(j)));
  const checks: ColumnCheck[] = columns.map(columnCheck);
  const nullOnly = columns.map((c, i) =>
    holds(c, (map[i] as number) < 0 ? undefined : source.columns[map[i] as number]?.kind),
  );
  const writers = columns.map((c) => fieldWriter(dialect, c.name));
  const typed: BatchValue[] = new Array(columns.length).fill(null);
  const texts: (string | null | undefined)[] = new Array(columns.length).fill(undefined);
  /** Column i's value as text (the file's strings as they are). */
  const textOf = (i: number): string | null => {
    let t = texts[i];
    if (t === undefined) {
      const v = typed[i] as BatchValue;
      t = v === null ? null : String(v);
      texts[i] = t;
    }
    return t;
  };
  /** The row in the dialect; `partial`: up to a value it cannot write (else a Refusal). */
  const line = (partial = false): string => {
    let text = "";
    try {
      for (let i = 0; i < columns.length; i++) {
        text += (i === 0 ? "" : dialect.delimiter) + (writers[i] as (v: string | null) => string)(textOf(i));
      }
    } catch (e) {
      if (!partial || !(e instanceof Refusal)) throw e;
    }
    return text;
  };
  // value(i) as the text reader gives it: the field's bytes read as latin1.
  const value = (i: number): string | null => {
    const v = textOf(i);
    return v === null || !/[^ -~\t]/.test(v) ? v : Buffer.from(v, "utf8").toString("latin1");
  };
  const coord = (i: number): number => {
    const v = typed[i] as BatchValue;
    return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : parseCoord(v ?? "");
  };
  const record = (enc: RecordEncoder): void => {
    for (let i = 0; i < typed.length; i++) enc.value(typed[i] as BatchValue);
  };
  await source.read(
    wanted,
    (get, n, place) => {
      let refused: string | null = null;
      try {
        for (let i = 0; i < slot.length; i++) {
          const s = slot[i] as number;
          const v = s < 0 ? null : get(s);
          typed[i] = v;
          texts[i] = undefined;
          // Strings are checked as the dialect writes them (the NULL token, a delimiter without escape).
          if (typeof v === "string") (writers[i] as (v: string | null) => string)(v);
        }
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        refused = e.message;
      }
      if (refused === null) {
        for (let i = 0; i < checks.length && refused === null; i++) {
          if (nullOnly[i] && typed[i] !== null) continue;
          refused = (checks[i] as ColumnCheck)(nullOnly[i] ? null : textOf(i));
        }
      }
      if (refused !== null) {
        return reject({ file: name, line: n, place: place() }, refused, line(true));
      }
      let buf: Buffer | null = null;
      const text = () => {
        buf ??= Buffer.from(line(), "utf8");
        return buf;
      };
      onRow({
        get buf() {
          return text();
        },
        start: 0,
        get end() {
          return text().length;
        },
        file: name,
        line: n,
        get place() {
          return place();
        },
        value,
        record,
        coord,
      });
    },
    onBytes,
  );
}
