import { basename } from "node:path";
import type { SchemaElement, SchemaTree } from "hyparquet";
import { asyncBufferFromFile, parquetMetadataAsync, parquetSchema } from "hyparquet";
import { QservError } from "../common/errors.js";
import { arrowFieldMeta } from "./arrowSchema.js";
import { astropyColumns, type ColumnMeta } from "./astropyMeta.js";
import { dialectFor, fieldValue } from "./dialect.js";
import { type FitsColumn, integerZero, isScaled } from "./fitsHeader.js";
import { fitsTable } from "./fitsSource.js";
import { readRows } from "./inputFiles.js";
import { inputFormatOf } from "./inputFormat.js";

export interface DescribeOptions {
  database?: string;
  table?: string;
  directorKey?: string;
  ra?: string;
  dec?: string;
  /** The input format when the name and bytes should not decide. */
  format?: string;
  /** CSV/TSV: rows sampled to infer the types (default 1000). */
  sample?: number;
}

/** A described column: a Qserv ingest schema entry. */
interface Described {
  name: string;
  type: string;
  unit?: string;
  ucd?: string;
  description?: string;
}

/**
 * A Qserv ingest table config (JSON object) inferred from a file's schema: Parquet and FITS
 * types mapped exactly (NOT NULL where the file cannot hold a NULL), a CSV/TSV header's columns
 * typed from sampled values; units and descriptions carried over. Columns of kinds the readers
 * refuse are left out, each with a notice.
 */
export async function describeFile(
  file: string,
  o: DescribeOptions,
): Promise<{ config: Record<string, unknown>; notices: string[] }> {
  const notices: string[] = [];
  const format = inputFormatOf(file, o.format);
  const columns =
    format === "parquet"
      ? await parquetColumns(file, notices)
      : format === "fits"
        ? await fitsColumns(file, notices)
        : await textColumns(file, o, notices);
  const names = new Set(columns.map((c) => c.name));
  for (const [flag, col] of [
    ["--director-key", o.directorKey],
    ["--ra", o.ra],
    ["--dec", o.dec],
  ] as const) {
    if (col !== undefined && !names.has(col)) {
      throw new QservError(
        "BAD_ARGUMENT",
        `${flag} ${col}: the file has no such column (it has ${[...names].join(", ")})`,
      );
    }
  }
  const partitioned = o.directorKey !== undefined;
  if (partitioned !== (o.ra !== undefined && o.dec !== undefined) || (o.ra === undefined) !== (o.dec === undefined)) {
    throw new QservError(
      "BAD_ARGUMENT",
      "a partitioned (director) table needs --director-key, --ra and --dec together",
    );
  }
  const table =
    o.table ??
    basename(file)
      .replace(/\..*$/, "")
      .replace(/[^A-Za-z0-9_]/g, "_")
      .replace(/^(?=\d)/, "t");
  const schema = columns.map((c) =>
    [o.directorKey, o.ra, o.dec].includes(c.name) && !/NOT NULL/.test(c.type)
      ? { ...c, type: `${c.type} NOT NULL` }
      : c,
  );
  if (partitioned) {
    schema.push({ name: "chunkId", type: "int(11) NOT NULL" }, { name: "subChunkId", type: "int(11) NOT NULL" });
  }
  return {
    config: {
      database: o.database ?? "catalog",
      table,
      is_partitioned: partitioned ? 1 : 0,
      director_table: "",
      director_key: o.directorKey ?? "",
      longitude_key: o.ra ?? "",
      latitude_key: o.dec ?? "",
      schema,
    },
    notices,
  };
}

/** The MySQL type of a Parquet column (null for one the reader refuses). */
function parquetType(e: SchemaElement): string | null {
  const lt = e.logical_type;
  const ct = e.converted_type;
  if (lt?.type === "TIME" || ct === "TIME_MILLIS" || ct === "TIME_MICROS") return null;
  if (lt?.type === "DECIMAL" || ct === "DECIMAL") {
    const p = e.precision ?? (lt as { precision?: number }).precision ?? 10;
    const s = e.scale ?? (lt as { scale?: number }).scale ?? 0;
    return p > 15 ? null : `DECIMAL(${p},${s})`;
  }
  if (lt?.type === "TIMESTAMP") return lt.unit === "MILLIS" ? "DATETIME(3)" : "DATETIME(6)";
  if (ct === "TIMESTAMP_MILLIS") return "DATETIME(3)";
  if (ct === "TIMESTAMP_MICROS" || e.type === "INT96") return "DATETIME(6)";
  if (lt?.type === "DATE" || ct === "DATE") return "DATE";
  const int = lt?.type === "INTEGER" ? lt : null;
  const bits =
    int?.bitWidth ?? ({ INT_8: 8, UINT_8: 8, INT_16: 16, UINT_16: 16 } as Record<string, number>)[ct ?? ""] ?? null;
  const unsigned = int !== null ? !int.isSigned : /^UINT/.test(ct ?? "");
  const u = unsigned ? " UNSIGNED" : "";
  switch (e.type) {
    case "BOOLEAN":
      return "BOOLEAN";
    case "INT32":
      return `${bits === 8 ? "TINYINT" : bits === 16 ? "SMALLINT" : "INT"}${u}`;
    case "INT64":
      return `BIGINT${u}`;
    case "FLOAT":
      return "FLOAT";
    case "DOUBLE":
      return "DOUBLE";
    case "BYTE_ARRAY":
      return lt?.type === "STRING" || ct === "UTF8" || lt === undefined ? "TEXT" : null;
    default:
      return lt?.type === "FLOAT16" ? "FLOAT" : null;
  }
}

async function parquetColumns(path: string, notices: string[]): Promise<Described[]> {
  const file = basename(path);
  let tops: SchemaTree[];
  let kv: { key: string; value?: string }[];
  try {
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
    tops = parquetSchema(metadata).children;
    kv = metadata.key_value_metadata ?? [];
  } catch (e) {
    throw new QservError("BAD_INPUT", `${file}: not a readable Parquet file: ${(e as Error).message}`, { file });
  }
  const meta = astropyColumns(kv.find((k) => k.key === "table_meta_yaml")?.value ?? "");
  // Arrow writers keep each field's metadata (units, descriptions) in the Arrow schema.
  const arrow = arrowFieldMeta(kv.find((k) => k.key === "ARROW:schema")?.value ?? "");
  const out: Described[] = [];
  for (const t of tops) {
    const e = t.element;
    const type = t.children.length > 0 || e.repetition_type === "REPEATED" ? null : parquetType(e);
    if (type === null) {
      notices.push(
        `${file}: column ${e.name} left out: its Parquet type is not supported (load with --drop-extra-columns)`,
      );
      continue;
    }
    const m = { ...arrow.get(e.name), ...meta.get(e.name) };
    out.push(described(e.name, `${type}${e.repetition_type === "REQUIRED" ? " NOT NULL" : ""}`, m));
  }
  return out;
}

/** The MySQL type of a FITS column (null for one the reader refuses); NOT NULL where it cannot hold a NULL. */
function fitsType(c: FitsColumn): string | null {
  if (c.code === "A") return `VARCHAR(${c.repeat})`;
  if (c.repeat !== 1 || !"LBIJKED".includes(c.code)) return null;
  if (c.code === "L") return "BOOLEAN";
  if (c.code === "E" || c.code === "D" || isScaled(c)) return c.code === "E" && !isScaled(c) ? "FLOAT" : "DOUBLE";
  const nn = c.tnull === undefined ? " NOT NULL" : "";
  const zero = integerZero(c) as bigint;
  const bits = { B: 8, I: 16, J: 32, K: 64 }[c.code] as number;
  const name = { 8: "TINYINT", 16: "SMALLINT", 32: "INT", 64: "BIGINT" }[bits];
  // TZERO 2^(bits-1) makes signed storage unsigned (and B's -128 signed): exact either way.
  const unsigned = c.code === "B" ? zero === 0n : zero === 1n << BigInt(bits - 1);
  const signed = c.code === "B" ? zero === -128n : zero === 0n;
  if (unsigned || signed) return `${name}${unsigned ? " UNSIGNED" : ""}${nn}`;
  return `BIGINT${nn}`;
}

async function fitsColumns(path: string, notices: string[]): Promise<Described[]> {
  const file = basename(path);
  const { columns, comments } = await fitsTable(path);
  const meta = astropyColumns(comments);
  const out: Described[] = [];
  for (const c of columns) {
    const type = fitsType(c);
    if (type === null) {
      notices.push(
        `${file}: column ${c.name} left out: TFORM ${c.repeat}${c.code} is not supported (load with --drop-extra-columns)`,
      );
      continue;
    }
    const m = meta.get(c.name) ?? {};
    out.push(
      described(c.name, type, {
        ...m,
        ...(c.unit ? { unit: c.unit } : {}),
        ...(c.description ? { description: c.description } : {}),
        ...(c.ucd ? { ucd: c.ucd } : {}),
      }),
    );
  }
  return out;
}

function described(name: string, type: string, m: (ColumnMeta & { ucd?: string }) | undefined): Described {
  return {
    name,
    type,
    ...(m?.unit ? { unit: m.unit } : {}),
    ...(m?.ucd ? { ucd: m.ucd } : {}),
    ...(m?.description ? { description: m.description } : {}),
  };
}

const INT = /^[+-]?\d+$/;
const NUM = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A CSV/TSV header's columns, typed from up to `sample` rows (integers, numbers, else text). */
async function textColumns(path: string, o: DescribeOptions, notices: string[]): Promise<Described[]> {
  const file = basename(path);
  const dialect = dialectFor(path);
  let names: string[] | null = null;
  const kinds: { int: boolean; num: boolean; big: boolean; seen: boolean }[] = [];
  const limit = o.sample ?? 1000;
  let rows = 0;
  const stop = new QservError("CANCELLED", "enough rows"); // ends the read early (passed through as it is)
  try {
    await readRows(path, dialect, (sc, buf) => {
      const fields = Array.from({ length: sc.fieldCount }, (_, i) => fieldValue(sc.field(buf, i), dialect));
      if (names === null) {
        names = fields.map((f) => (f ?? "").trim());
        for (const _ of names) kinds.push({ int: true, num: true, big: false, seen: false });
        return;
      }
      fields.forEach((v, i) => {
        const k = kinds[i];
        if (k === undefined || v === null || v === "") return;
        k.seen = true;
        if (!INT.test(v)) k.int = false;
        else if (Math.abs(Number(v)) > 2147483647) k.big = true;
        if (!NUM.test(v)) k.num = false;
      });
      if (++rows >= limit) throw stop;
    });
  } catch (e) {
    if (e !== stop) throw e;
  }
  const header = names as string[] | null;
  if (header === null) throw new QservError("BAD_INPUT", `${file}: the file is empty: no header line to describe`);
  const bad = header.filter((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  if (bad.length > 0) {
    throw new QservError(
      "BAD_INPUT",
      `${file}:1: the first line is not a header of column names (${bad.slice(0, 4).join(", ")})`,
    );
  }
  notices.push(`${file}: types inferred from ${rows} sampled rows and every column left nullable: check them`);
  return header.map((name, i) => {
    const k = kinds[i] as { int: boolean; num: boolean; big: boolean; seen: boolean };
    const type = !k.seen ? "TEXT" : k.int ? (k.big ? "BIGINT" : "INT") : k.num ? "DOUBLE" : "TEXT";
    return { name, type };
  });
}
