/**
 * TAP UPLOAD: `UPLOAD=name,param:part[;...]`, each table an inline VOTable (TABLEDATA, BINARY,
 * BINARY2) or CSV (uploadCsv.ts) sent as a part of a multipart/form-data request (tables named
 * by URL are read first: uploadUrl.ts). An uploaded table is queried as `TAP_UPLOAD.name`: alone, on the czar, in an SQLite database
 * holding only the uploaded tables; joined with catalog tables, by the czar's engine, which sends
 * each chunk the uploaded rows that can match it (src/czar/plan/uploads.ts).
 */
import { QservError } from "../../common/errors.js";
import type { Value } from "../../common/rowCodec.js";
import { createScratchTable, insertRows, scratchDb } from "../../czar/exec/scratch.js";
import { UPLOAD_SCHEMA, type UploadTable } from "../../czar/plan/uploads.js";
import type { Query, Select, TableRef } from "../../czar/sql/ast.js";
import { tableRefs } from "../../czar/sql/walk.js";
import type { VoDatatype, VoField } from "./fields.js";
import { queryLocal } from "./localQuery.js";
import { parseCsv } from "./uploadCsv.js";

/** Rows an uploaded table may hold (its bytes are bounded by the request's, MAX_BODY). */
export const MAX_UPLOAD_ROWS = 10_000;

export interface UploadedTable {
  name: string;
  fields: VoField[];
  rows: Value[][];
}

const unsupported = (what: string) => new QservError("UNSUPPORTED", `not supported: ${what}`);
const bad = (m: string) => new QservError("BAD_ARGUMENT", m);

/** The tables an UPLOAD parameter names, read from the request's file parts. */
export function uploadedTables(upload: string, files: ReadonlyMap<string, Buffer>): UploadedTable[] {
  return upload
    .split(";")
    .filter((s) => s.trim() !== "")
    .map((spec) => {
      const m = /^\s*([A-Za-z][A-Za-z0-9_]*)\s*,\s*(\S+)\s*$/.exec(spec);
      if (m === null) throw bad(`UPLOAD must be "name,param:part", not '${spec}'`);
      const [, name, uri] = m as unknown as [string, string, string];
      if (!uri.startsWith("param:"))
        throw unsupported(`UPLOAD from '${uri}' (param:, http(s):// and file:// under --ingest-root are)`);
      const file = files.get(uri.slice("param:".length));
      if (file === undefined) throw bad(`UPLOAD ${name}: the request has no part named '${uri.slice(6)}'`);
      const text = file.toString("utf8");
      // A VOTable is XML; anything else is read as CSV.
      return {
        name,
        ...(/^\uFEFF?\s*</.test(text) ? parseVotable(text, name) : parseCsv(text, name, MAX_UPLOAD_ROWS)),
      };
    });
}

const ENTITY: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (all, e: string) => {
    if (e.startsWith("#x")) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(Number(e.slice(1)));
    return ENTITY[e] ?? all;
  });
}

const attr = (tag: string, name: string) => {
  const m = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag);
  return m === null ? undefined : decode(m[2] ?? m[3] ?? "");
};

const DATATYPES: Record<string, VoDatatype> = {
  long: "long",
  int: "int",
  short: "short",
  unsignedByte: "short",
  boolean: "short",
  double: "double",
  float: "float",
  char: "char",
  unicodeChar: "char",
};

/** The first TABLE of a VOTable in TABLEDATA: its fields and rows (NULL: an empty TD, NaN, a null value). */
export function parseVotable(xml: string, name: string): { fields: VoField[]; rows: Value[][] } {
  if (!/<VOTABLE\b/.test(xml)) throw bad(`UPLOAD ${name}: not a VOTable`);
  if (/<FITS\b/.test(xml)) throw unsupported(`UPLOAD ${name} in FITS (TABLEDATA, BINARY and BINARY2 are)`);
  const fields: UploadField[] = [];
  for (const m of xml.matchAll(/<FIELD\b([^>]*?)(\/>|>([\s\S]*?)<\/FIELD>)/g)) {
    const tag = m[1]!;
    const fname = attr(tag, "name");
    const dt = attr(tag, "datatype") ?? "";
    const datatype = DATATYPES[dt];
    if (fname === undefined || datatype === undefined) throw unsupported(`UPLOAD ${name}: a FIELD of datatype '${dt}'`);
    const arraysize = attr(tag, "arraysize");
    if (arraysize !== undefined && datatype !== "char") throw unsupported(`UPLOAD ${name}: array column ${fname}`);
    if (arraysize !== undefined && datatype === "char" && !/^\d*\*?$/.test(arraysize))
      throw unsupported(`UPLOAD ${name}: multi-dimensional column ${fname}`);
    // A declared null value: such cells are NULL (integers declare it again in results).
    const valuesTag = /<VALUES\b[^>]*>/.exec(m[3] ?? "")?.[0];
    const nullText = valuesTag === undefined ? undefined : attr(valuesTag, "null");
    const xtype = attr(tag, "xtype");
    fields.push({
      name: fname,
      datatype,
      ...(datatype === "char" ? { arraysize: "*", size: arraysize ?? "1", wide: dt === "unicodeChar" } : {}),
      ...(xtype === undefined ? {} : { xtype }),
      ...(attr(tag, "unit") === undefined ? {} : { unit: attr(tag, "unit") }),
      ...(attr(tag, "ucd") === undefined ? {} : { ucd: attr(tag, "ucd") }),
      ...(nullText === undefined ? {} : { nullText }),
      ...(nullText === undefined || !/^(long|int|short)$/.test(dt) ? {} : { nullValue: nullText }),
      ...(dt === "boolean" ? { boolean: true } : {}),
      ...(dt === "unsignedByte" ? { ubyte: true } : {}),
    });
  }
  if (fields.length === 0) throw bad(`UPLOAD ${name}: no FIELD`);
  const binary = /<(BINARY2?)>\s*<STREAM\b[^>]*>([\s\S]*?)<\/STREAM>/.exec(xml);
  const rows: Value[][] =
    binary === null
      ? []
      : binaryRows(fields, Buffer.from(binary[2]!.replace(/\s+/g, ""), "base64"), binary[1] === "BINARY2", name);
  const data = /<TABLEDATA>([\s\S]*?)<\/TABLEDATA>/.exec(xml)?.[1] ?? "";
  for (const tr of data.matchAll(/<TR\b[^>]*>([\s\S]*?)<\/TR>/g)) {
    if (rows.length >= MAX_UPLOAD_ROWS) {
      throw new QservError("TOO_LARGE", `UPLOAD ${name}: more than ${MAX_UPLOAD_ROWS} rows`);
    }
    const tds = [...tr[1]!.matchAll(/<TD\b[^>]*?(?:\/>|>([\s\S]*?)<\/TD>)/g)].map((t) => decode(t[1] ?? ""));
    if (tds.length !== fields.length) throw bad(`UPLOAD ${name}: row ${rows.length + 1} has ${tds.length} cells`);
    rows.push(tds.map((t, i) => value(fields[i]!, t, name)));
  }
  return { fields: fields.map(({ nullText: _n, size: _s, wide: _w, boolean: _b, ubyte: _u, ...f }) => f), rows };
}

/** A FIELD as read: what its values need beyond the VoField it becomes. */
type UploadField = VoField & { nullText?: string; boolean?: boolean; ubyte?: boolean; size?: string; wide?: boolean };

/** BINARY / BINARY2 rows: big-endian fields (BINARY2: a null mask first). */
function binaryRows(fields: UploadField[], b: Buffer, masked: boolean, table: string): Value[][] {
  const rows: Value[][] = [];
  const maskBytes = masked ? Math.ceil(fields.length / 8) : 0;
  let at = 0;
  const need = (n: number) => {
    if (at + n > b.length) throw bad(`UPLOAD ${table}: the binary stream ends inside a row`);
  };
  while (at < b.length) {
    if (rows.length >= MAX_UPLOAD_ROWS)
      throw new QservError("TOO_LARGE", `UPLOAD ${table}: more than ${MAX_UPLOAD_ROWS} rows`);
    need(maskBytes);
    const mask = b.subarray(at, at + maskBytes);
    at += maskBytes;
    const row = fields.map((f, i): Value => {
      let v: Value;
      if (f.datatype === "char") {
        const fixed = f.size !== undefined && /^\d+$/.test(f.size) ? Number(f.size) : null;
        need(4);
        const n = fixed ?? b.readUInt32BE(at);
        if (fixed === null) at += 4;
        const bytes = n * (f.wide ? 2 : 1);
        need(bytes);
        const raw = b.subarray(at, at + bytes);
        at += bytes;
        const s = f.wide ? Buffer.from(raw).swap16().toString("utf16le") : raw.toString("latin1");
        const end = s.indexOf("\0");
        v = end < 0 ? s : s.slice(0, end);
      } else {
        const size =
          f.boolean || f.ubyte
            ? 1
            : ({ long: 8, int: 4, short: 2, double: 8, float: 4 } as Record<string, number>)[f.datatype]!;
        need(size);
        if (f.boolean) {
          const c = String.fromCharCode(b[at]!);
          v = /[tT1]/.test(c) ? 1n : /[fF0]/.test(c) ? 0n : null;
        } else if (f.datatype === "double") v = nanNull(b.readDoubleBE(at));
        else if (f.datatype === "float") v = nanNull(b.readFloatBE(at));
        else if (f.datatype === "long") v = b.readBigInt64BE(at);
        else if (f.datatype === "int") v = BigInt(b.readInt32BE(at));
        else v = f.ubyte ? BigInt(b[at]!) : BigInt(b.readInt16BE(at));
        at += size;
      }
      if (v !== null && f.nullText !== undefined && String(v) === f.nullText) return null;
      return masked && (mask[i >> 3]! & (0x80 >> (i & 7))) !== 0 ? null : v;
    });
    rows.push(row);
  }
  return rows;
}

const nanNull = (x: number): Value => (Number.isNaN(x) ? null : x);

function value(f: UploadField, text: string, table: string): Value {
  const t = f.datatype === "char" ? text : text.trim();
  if ((f.datatype !== "char" && t === "") || (f.nullText !== undefined && t === f.nullText)) return null;
  if (f.datatype === "char") return t;
  if (f.boolean) {
    if (/^(t|true|1)$/i.test(t)) return 1n;
    if (/^(f|false|0)$/i.test(t)) return 0n;
    if (t === "?") return null;
  } else if (f.datatype === "double" || f.datatype === "float") {
    const x = Number(t);
    if (Number.isNaN(x)) return null;
    if (t !== "" && !/^[+-]?inf/i.test(t) && Number.isFinite(x)) return x;
  } else if (/^[+-]?\d+$/.test(t)) {
    return BigInt(t);
  } else if (/^0x[0-9a-f]+$/i.test(t)) {
    return BigInt(t);
  }
  throw bad(`UPLOAD ${table}: '${text}' is not a ${f.datatype} (column ${f.name})`);
}

const isUpload = (t: TableRef) => t.db?.toUpperCase() === UPLOAD_SCHEMA;

/** Whether a query reads uploaded tables and nothing else. */
export function readsOnlyUploads(q: Query): boolean {
  if (q.kind !== "select") return false;
  const refs = tableRefs(q.from);
  return refs.length > 0 && refs.every(isUpload);
}

/** The uploaded tables as the czar's engine takes them (column types as MySQL's). */
export function engineUploads(tables: readonly UploadedTable[]): UploadTable[] {
  const type = (f: VoField) =>
    f.datatype === "char" ? "TEXT" : f.datatype === "double" || f.datatype === "float" ? "DOUBLE" : "BIGINT";
  return tables.map((t) => ({
    name: t.name,
    columns: t.fields.map((f) => ({ name: f.name, type: type(f) })),
    rows: t.rows,
  }));
}

/** Answers a query on uploaded tables only. */
export function queryUploads(q: Select, tables: UploadedTable[]): { fields: VoField[]; rows: Value[][] } {
  for (const t of tableRefs(q.from)) {
    if (!tables.some((u) => u.name.toLowerCase() === t.name.toLowerCase())) {
      throw new QservError(
        "BAD_QUERY",
        `no uploaded table ${UPLOAD_SCHEMA}.${t.name} (line ${t.pos.line}, column ${t.pos.column})`,
      );
    }
  }
  const db = scratchDb();
  try {
    for (const u of tables) {
      createScratchTable(
        db,
        u.name,
        u.fields.map((f) => f.name),
      );
      insertRows(db, u.name, u.fields.length, u.rows);
    }
    const declared = (table: string, column: string) =>
      tables.find((u) => u.name === table)?.fields.find((f) => f.name === column);
    return queryLocal(db, q, UPLOAD_SCHEMA, declared);
  } finally {
    db.close();
  }
}
