/**
 * Result documents: VOTable 1.4 (BINARY2 or TABLEDATA), CSV, TSV, JSON, and the VOTable error
 * document (QUERY_STATUS=ERROR). NULLs: an empty TD, the BINARY2 null mask, an empty CSV or TSV
 * field, JSON null.
 */
import type { Value } from "../../common/rowCodec.js";
import type { VoField } from "./fields.js";
import { attrs, element, xmlEscape } from "./xml.js";

export type Serialization = "binary2" | "tabledata" | "csv" | "tsv" | "json";

export interface ResultTable {
  fields: VoField[];
  rows: Value[][];
  /** The rows were cut at MAXREC: add the DALI overflow INFO. */
  overflow: boolean;
  /** INFOs (name → value) written before the table, e.g. the query. */
  infos: Record<string, string>;
}

const HEAD = `<?xml version="1.0" encoding="UTF-8"?>\n<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n`;

export const CONTENT_TYPE: Record<Serialization, string> = {
  binary2: "application/x-votable+xml;serialization=BINARY2",
  tabledata: "application/x-votable+xml;serialization=TABLEDATA",
  csv: "text/csv;header=present",
  tsv: "text/tab-separated-values",
  json: "application/json",
};

/** A DALI error document: `<INFO name="QUERY_STATUS" value="ERROR">message</INFO>`. */
export function errorDocument(message: string): string {
  return `${HEAD}<RESOURCE type="results">\n${element("INFO", message, { name: "QUERY_STATUS", value: "ERROR" })}\n</RESOURCE>\n</VOTABLE>\n`;
}

/** The result in the format asked for. */
export function writeResult(t: ResultTable, format: Serialization): string {
  if (format === "csv") return csv(t);
  if (format === "tsv") return tsv(t);
  if (format === "json") return json(t);
  const fields = t.fields
    .map((f) => {
      const a = attrs({
        name: f.name,
        datatype: f.datatype,
        arraysize: f.arraysize,
        xtype: f.xtype,
        unit: f.unit,
        ucd: f.ucd,
      });
      return f.description
        ? `<FIELD${a}><DESCRIPTION>${xmlEscape(f.description)}</DESCRIPTION></FIELD>`
        : `<FIELD${a}/>`;
    })
    .join("\n");
  const data =
    format === "tabledata" ? tabledata(t) : `<BINARY2><STREAM encoding="base64">\n${binary2(t)}\n</STREAM></BINARY2>`;
  const infos = Object.entries(t.infos)
    .map(([name, value]) => element("INFO", "", { name, value }))
    .join("\n");
  const overflow = t.overflow ? `\n${element("INFO", "", { name: "QUERY_STATUS", value: "OVERFLOW" })}` : "";
  return `${HEAD}<RESOURCE type="results">\n${element("INFO", "", { name: "QUERY_STATUS", value: "OK" })}\n${infos}\n<TABLE>\n${fields}\n<DATA>${data}</DATA>\n</TABLE>${overflow}\n</RESOURCE>\n</VOTABLE>\n`;
}

const isInteger = (f: VoField) => f.datatype === "long" || f.datatype === "int" || f.datatype === "short";

/** A non-null value as text: integers exact, reals in JS's shortest round-trip form. */
function text(f: VoField, v: Exclude<Value, null>): string {
  if (v instanceof Uint8Array)
    return f.datatype === "unsignedByte" ? [...v].join(" ") : Buffer.from(v).toString("utf8");
  if (isInteger(f)) return typeof v === "number" ? String(Math.trunc(v)) : String(v);
  if (f.datatype === "double" || f.datatype === "float") {
    const x = Number(v);
    return Number.isNaN(x) ? "NaN" : x === Infinity ? "+Inf" : x === -Infinity ? "-Inf" : String(x);
  }
  return String(v);
}

function tabledata(t: ResultTable): string {
  const rows = t.rows.map(
    (r) =>
      `<TR>${r.map((v, i) => (v === null ? "<TD/>" : `<TD>${xmlEscape(text(t.fields[i]!, v))}</TD>`)).join("")}</TR>`,
  );
  return `<TABLEDATA>\n${rows.join("\n")}\n</TABLEDATA>`;
}

const SIZE: Record<string, number> = { long: 8, int: 4, short: 2, double: 8, float: 4 };

/** A growing output buffer. */
class Out {
  buf = Buffer.alloc(1 << 16);
  at = 0;
  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const b = Buffer.alloc(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(b, 0, 0, this.at);
    this.buf = b;
  }
}

/** BINARY2: per row a null mask (one bit per field, high bit first), then each field big-endian. */
function binary2(t: ResultTable): string {
  const o = new Out();
  const n = t.fields.length;
  const maskBytes = Math.ceil(n / 8);
  for (const row of t.rows) {
    o.room(maskBytes);
    const mask = o.at;
    o.buf.fill(0, mask, mask + maskBytes);
    o.at += maskBytes;
    for (let i = 0; i < n; i++) {
      const f = t.fields[i]!;
      const v = row[i] ?? null;
      if (v === null) o.buf[mask + (i >> 3)]! |= 0x80 >> (i & 7);
      const size = SIZE[f.datatype];
      if (size !== undefined) {
        o.room(size);
        writeNumber(o.buf, o.at, f, v);
        o.at += size;
        continue;
      }
      const bytes =
        v === null ? Buffer.alloc(0) : v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(text(f, v), "utf8");
      const fixed = f.arraysize !== undefined && /^\d+$/.test(f.arraysize) ? Number(f.arraysize) : null;
      if (fixed !== null) {
        o.room(fixed);
        o.buf.fill(f.datatype === "char" ? 0x20 : 0, o.at, o.at + fixed);
        bytes.copy(o.buf, o.at, 0, fixed);
        o.at += fixed;
      } else {
        o.room(4 + bytes.length);
        o.buf.writeUInt32BE(bytes.length, o.at);
        bytes.copy(o.buf, o.at + 4);
        o.at += 4 + bytes.length;
      }
    }
  }
  const b64 = o.buf.subarray(0, o.at).toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join("\n");
}

/** A number at `at`; NULL: NaN for reals, 0 for integers (the null mask says it is NULL). */
function writeNumber(b: Buffer, at: number, f: VoField, v: Value): void {
  if (f.datatype === "double") b.writeDoubleBE(v === null ? Number.NaN : Number(v), at);
  else if (f.datatype === "float") b.writeFloatBE(v === null ? Number.NaN : Number(v), at);
  else {
    const x = v === null ? 0n : typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v)));
    if (f.datatype === "long") b.writeBigInt64BE(x, at);
    else if (f.datatype === "int") b.writeInt32BE(Number(x), at);
    else b.writeInt16BE(Number(x), at);
  }
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(t: ResultTable): string {
  const lines = [t.fields.map((f) => csvField(f.name)).join(",")];
  for (const r of t.rows) lines.push(r.map((v, i) => (v === null ? "" : csvField(text(t.fields[i]!, v)))).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** TSV: tabs, newlines and backslashes in values escaped as \t, \n, \r, \\. */
function tsv(t: ResultTable): string {
  const esc = (s: string) =>
    s.replace(/[\\\t\n\r]/g, (c) => ({ "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c]!);
  const lines = [t.fields.map((f) => esc(f.name)).join("\t")];
  for (const r of t.rows) lines.push(r.map((v, i) => (v === null ? "" : esc(text(t.fields[i]!, v)))).join("\t"));
  return `${lines.join("\n")}\n`;
}

/** JSON: {"metadata": [field, ...], "data": [[...], ...], "overflow"}; 64-bit integers as exact number text. */
function json(t: ResultTable): string {
  const value = (f: VoField, v: Value): string => {
    if (v === null) return "null";
    if (isInteger(f)) return text(f, v);
    if (f.datatype === "double" || f.datatype === "float")
      return Number.isFinite(Number(v)) ? String(Number(v)) : "null";
    return JSON.stringify(text(f, v));
  };
  const data = t.rows.map((r) => `[${r.map((v, i) => value(t.fields[i]!, v)).join(",")}]`);
  return `{"metadata":${JSON.stringify(t.fields)},"data":[${data.join(",\n")}],"overflow":${t.overflow}}\n`;
}
