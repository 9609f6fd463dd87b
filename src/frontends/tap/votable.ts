/**
 * Result documents, written as the rows come: VOTable 1.4 (BINARY2 or TABLEDATA), CSV, TSV, JSON,
 * and the VOTable error document (QUERY_STATUS=ERROR). NULLs: an empty TD, the BINARY2 null mask,
 * an empty CSV or TSV field, JSON null.
 */
import type { Value } from "../../common/rowCodec.js";
import type { VoField } from "./fields.js";
import { attrs, element, xmlEscape } from "./xml.js";

export type Serialization = "binary2" | "tabledata" | "csv" | "tsv" | "json";

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

/** Where a document goes: each call may wait (for a client to read, for a file write). */
export type Output = (data: Buffer) => Promise<void>;

/** Text gathered before it is handed to the output. */
const FLUSH_BYTES = 64 << 10;
/** BINARY2 bytes per base64 line (76 characters). */
const LINE_BYTES = 57;

/**
 * One result document in `format`: `start` (fields and INFOs known), `rows` any number of times,
 * `end` (with whether MAXREC cut the rows: the DALI overflow INFO). Nothing reaches the output
 * before FLUSH_BYTES are gathered or the document ends.
 */
export class ResultWriter {
  private fields: VoField[] = [];
  private pending: Array<string | Buffer> = [];
  private pendingBytes = 0;
  /** BINARY2 bytes not yet a whole base64 line. */
  private carry = Buffer.alloc(0);
  private count = 0;
  /** Bytes handed to the output. */
  bytes = 0;

  constructor(
    private readonly format: Serialization,
    private readonly out: Output,
  ) {}

  get rowCount(): number {
    return this.count;
  }

  async start(fields: VoField[], infos: Record<string, string>): Promise<void> {
    this.fields = fields;
    this.put(this.head(infos));
  }

  async rows(rows: readonly Value[][]): Promise<void> {
    const f = this.fields;
    // Text formats: one string per batch (a Buffer per row cost TABLEDATA a quarter of its time).
    switch (this.format) {
      case "csv":
        this.put(
          rows.map((r) => `${r.map((v, i) => (v === null ? "" : csvField(text(f[i]!, v)))).join(",")}\r\n`).join(""),
        );
        break;
      case "tsv":
        this.put(
          rows.map((r) => `${r.map((v, i) => (v === null ? "" : tsvField(text(f[i]!, v)))).join("\t")}\n`).join(""),
        );
        break;
      case "json":
        for (const [i, r] of rows.entries()) this.put(`${this.count + i === 0 ? "" : ",\n"}${jsonRow(f, r)}`);
        break;
      case "tabledata": {
        // Numbers need no escaping.
        const plain = f.map((x) => SIZE[x.datatype] !== undefined);
        let out = "";
        for (const r of rows) {
          out += "<TR>";
          for (let i = 0; i < r.length; i++) {
            const v = r[i] ?? null;
            if (v === null) out += "<TD/>";
            else out += `<TD>${plain[i] ? text(f[i]!, v) : xmlEscape(text(f[i]!, v))}</TD>`;
          }
          out += "</TR>\n";
        }
        this.put(out);
        break;
      }
      default:
        this.binary2(rows);
    }
    this.count += rows.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  /** The document's tail; all of it handed to the output. */
  async end(overflow: boolean): Promise<void> {
    const over = overflow ? `\n${element("INFO", "", { name: "QUERY_STATUS", value: "OVERFLOW" })}` : "";
    const tail = `</TABLE>${over}\n</RESOURCE>\n</VOTABLE>\n`;
    switch (this.format) {
      case "json":
        this.put(`],"overflow":${overflow}}\n`);
        break;
      case "tabledata":
        this.put(`</TABLEDATA></DATA>\n${tail}`);
        break;
      case "binary2":
        if (this.carry.length > 0) this.put(`${this.carry.toString("base64")}\n`);
        this.carry = Buffer.alloc(0);
        this.put(`</STREAM></BINARY2></DATA>\n${tail}`);
        break;
      default:
    }
    await this.flush();
  }

  private head(infos: Record<string, string>): string {
    if (this.format === "csv") return `${this.fields.map((x) => csvField(x.name)).join(",")}\r\n`;
    if (this.format === "tsv") return `${this.fields.map((x) => tsvField(x.name)).join("\t")}\n`;
    if (this.format === "json") return `{"metadata":${JSON.stringify(this.fields)},"data":[`;
    const fields = this.fields
      .map((f) => {
        const a = attrs({
          name: f.name,
          datatype: f.datatype,
          arraysize: f.arraysize,
          xtype: f.xtype,
          unit: f.unit,
          ucd: f.ucd,
        });
        const desc = f.description ? `<DESCRIPTION>${xmlEscape(f.description)}</DESCRIPTION>` : "";
        const values = f.nullValue === undefined ? "" : element("VALUES", "", { null: f.nullValue });
        return desc + values === "" ? `<FIELD${a}/>` : `<FIELD${a}>${desc}${values}</FIELD>`;
      })
      .join("\n");
    const info = Object.entries(infos)
      .map(([name, value]) => element("INFO", "", { name, value }))
      .join("\n");
    const data = this.format === "tabledata" ? "<TABLEDATA>\n" : `<BINARY2><STREAM encoding="base64">\n`;
    return `${HEAD}<RESOURCE type="results">\n${element("INFO", "", { name: "QUERY_STATUS", value: "OK" })}\n${info}\n<TABLE>\n${fields}\n<DATA>${data}`;
  }

  private put(s: string | Buffer): void {
    this.pending.push(s);
    this.pendingBytes += s.length;
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const data = Buffer.concat(this.pending.map(asBuffer));
    this.pending = [];
    this.pendingBytes = 0;
    this.bytes += data.length;
    await this.out(data);
  }

  /** Rows as BINARY2 bytes, base64 in 76-character lines; bytes short of a line wait for the next rows. */
  private binary2(rows: readonly Value[][]): void {
    const b = binary2Bytes(this.fields, rows);
    const all = this.carry.length === 0 ? b : Buffer.concat([this.carry, b]);
    const whole = all.length - (all.length % LINE_BYTES);
    const lines: string[] = [];
    for (let at = 0; at < whole; at += LINE_BYTES) lines.push(all.subarray(at, at + LINE_BYTES).toString("base64"));
    if (lines.length > 0) this.put(`${lines.join("\n")}\n`);
    this.carry = Buffer.from(all.subarray(whole));
  }
}

const asBuffer = (s: string | Buffer) => (typeof s === "string" ? Buffer.from(s, "utf8") : s);

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
function binary2Bytes(fields: VoField[], rows: readonly Value[][]): Buffer {
  const o = new Out();
  const n = fields.length;
  const maskBytes = Math.ceil(n / 8);
  for (const row of rows) {
    o.room(maskBytes);
    const mask = o.at;
    o.buf.fill(0, mask, mask + maskBytes);
    o.at += maskBytes;
    for (let i = 0; i < n; i++) {
      const f = fields[i]!;
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
  return o.buf.subarray(0, o.at);
}

/** A number at `at`; NULL: NaN for reals, 0 or the declared null value for integers (the null mask says it is NULL). */
function writeNumber(b: Buffer, at: number, f: VoField, v: Value): void {
  if (f.datatype === "double") b.writeDoubleBE(v === null ? Number.NaN : Number(v), at);
  else if (f.datatype === "float") b.writeFloatBE(v === null ? Number.NaN : Number(v), at);
  else {
    const x = v === null ? BigInt(f.nullValue ?? 0) : typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v)));
    if (f.datatype === "long") b.writeBigInt64BE(x, at);
    else if (f.datatype === "int") b.writeInt32BE(Number(x), at);
    else b.writeInt16BE(Number(x), at);
  }
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** TSV: tabs, newlines and backslashes in values escaped as \t, \n, \r, \\. */
function tsvField(s: string): string {
  return s.replace(/[\\\t\n\r]/g, (c) => ({ "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c]!);
}

/** A JSON row; 64-bit integers as exact number text. */
function jsonRow(fields: VoField[], r: readonly Value[]): string {
  const value = (f: VoField, v: Value): string => {
    if (v === null) return "null";
    if (isInteger(f)) return text(f, v);
    if (f.datatype === "double" || f.datatype === "float")
      return Number.isFinite(Number(v)) ? String(Number(v)) : "null";
    return JSON.stringify(text(f, v));
  };
  return `[${r.map((v, i) => value(fields[i]!, v)).join(",")}]`;
}
