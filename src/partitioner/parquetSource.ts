import { basename } from "node:path";
import type { DecodedArray, FileMetaData, SchemaElement, SchemaTree } from "hyparquet";
import { asyncBufferFromFile, parquetMetadataAsync, parquetScan, parquetSchema } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { QservError } from "../common/errors.js";
import type { BatchValue } from "../common/rowBatch.js";
import type { BinaryOptions, BinarySource } from "./binaryRows.js";
import { dateText, doubleValue, floatValue, Refusal, timestampText } from "./valueText.js";

/** Times and dates as exact text (hyparquet's default goes through a Date: milliseconds only). */
const parsers = {
  timestampFromMilliseconds: (v: bigint) => timestampText(v, 1000n),
  timestampFromMicroseconds: (v: bigint) => timestampText(v, 1000000n),
  timestampFromNanoseconds: (v: bigint) => timestampText(v, 1000000000n),
  dateFromDays: (d: number) => dateText(new Date(d * 86400000)),
};

type Convert = (v: unknown) => BatchValue;

/** A Parquet column's value (see valueText.ts), chosen once from its schema element (a QservError when it is not supported). */
function converter(e: SchemaElement, nested: boolean, file: string, o: BinaryOptions): Convert {
  const name = e.name;
  const refuse = (what: string) =>
    new QservError("UNSUPPORTED", `${file}: column ${name}: not supported: ${what}`, { file, column: name });
  if (nested || e.repetition_type === "REPEATED")
    throw refuse("a nested or repeated Parquet column (list, map, struct)");
  const lt = e.logical_type?.type;
  const ct = e.converted_type;
  if (lt === "TIME" || ct === "TIME_MILLIS" || ct === "TIME_MICROS") throw refuse("a Parquet TIME column");
  if (ct === "DECIMAL" || lt === "DECIMAL") {
    const p = e.precision ?? (e.logical_type as { precision?: number } | undefined)?.precision ?? 0;
    // hyparquet gives decimals as doubles: exact up to 15 digits.
    if (p > 15) throw refuse(`DECIMAL(${p}, ${e.scale ?? 0}) with more than 15 digits`);
  }
  const nan = o.nanAsNull === true;
  const plain = (v: unknown): BatchValue => {
    if (v === null || v === undefined) return null;
    if (typeof v === "string" || typeof v === "bigint") return v;
    if (typeof v === "number") return v === 0 ? 0 : v;
    if (typeof v === "boolean") return v ? "1" : "0";
    throw new Refusal(`column ${name}: a value of a kind not supported (${Object.prototype.toString.call(v)})`);
  };
  if (e.type === "FLOAT" || lt === "FLOAT16")
    return (v) => (v === null || v === undefined ? null : floatValue(v as number, name, nan));
  if (e.type === "DOUBLE") return (v) => (v === null || v === undefined ? null : doubleValue(v as number, name, nan));
  if (e.type === "BYTE_ARRAY" || e.type === "FIXED_LEN_BYTE_ARRAY") {
    return (v) => {
      if (v instanceof Uint8Array) throw new Refusal(`column ${name}: binary values are not supported`);
      return plain(v);
    };
  }
  return plain;
}

/** The plain numeric kind of a column (no logical type that changes its values), for the checks to trust. */
function kindOf(t: SchemaTree): { kind?: "double" | "float" | "int32" | "int64" | "bool" } {
  const e = t.element;
  if (t.children.length > 0 || e.logical_type !== undefined || e.converted_type !== undefined) return {};
  const kind = { DOUBLE: "double", FLOAT: "float", INT32: "int32", INT64: "int64", BOOLEAN: "bool" } as const;
  const k = kind[e.type as keyof typeof kind];
  return k === undefined ? {} : { kind: k };
}

/** A Parquet file read with hyparquet, one row group at a time (only the columns the table takes). */
export async function openParquet(path: string, o: BinaryOptions): Promise<BinarySource> {
  const file = basename(path);
  const bad = (e: unknown) =>
    e instanceof QservError
      ? e
      : new QservError("BAD_INPUT", `${file}: not a readable Parquet file: ${(e as Error).message}`, { file });
  let buffer: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  let metadata: FileMetaData;
  try {
    buffer = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(buffer);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && !(e instanceof QservError))
      throw new QservError("IO", `${file}: ${(e as Error).message}`);
    throw bad(e);
  }
  const tops: SchemaTree[] = parquetSchema(metadata).children;
  const groups = metadata.row_groups.map((g) => ({
    rows: Number(g.num_rows),
    bytes: g.columns.reduce((n, c) => n + Number(c.meta_data?.total_compressed_size ?? 0n), 0),
  }));
  return {
    columns: tops.map((t) => ({ name: t.element.name, ...kindOf(t) })),
    async read(wanted, row, onBytes) {
      const convert = wanted.map((j) => {
        const t = tops[j] as SchemaTree;
        return converter(t.element, t.children.length > 0, file, o);
      });
      const names = wanted.map((j) => (tops[j] as SchemaTree).element.name);
      const scan = await parquetScan({ file: buffer, metadata, columns: names, compressors, parsers }).catch((e) => {
        throw bad(e);
      });
      let start = 0;
      let bytes = 0;
      for (let g = 0; g < groups.length; g++) {
        const { rows } = groups[g] as { rows: number; bytes: number };
        const cols: DecodedArray[] = [];
        try {
          // One column at a time: no more than one row group's columns are held.
          for (const column of names)
            cols.push(await scan.readColumn({ column, rowStart: start, rowEnd: start + rows }));
        } catch (e) {
          throw new QservError(
            "BAD_INPUT",
            `${file}: row group ${g + 1}: ${(bad(e) as Error).message.replace(`${file}: `, "")}`,
            {
              file,
            },
          );
        }
        let r = 0;
        const get = (k: number) => (convert[k] as Convert)((cols[k] as DecodedArray)[r]);
        const place = () => `row group ${g + 1}, row ${r + 1} (row ${start + r + 1} of the file)`;
        for (; r < rows; r++) row(get, start + r + 1, place);
        start += rows;
        bytes += (groups[g] as { bytes: number }).bytes;
        onBytes?.(bytes);
      }
    },
  };
}
