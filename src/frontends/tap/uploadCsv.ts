/**
 * UPLOAD in CSV (RFC 4180: comma-separated, `"` quotes fields, `""` a quote in one; CRLF or LF).
 * The first line names the columns, each optionally typed as `name:type` (VOTable datatypes
 * long, int, short, double, float, boolean, char; or bigint, integer, real, text, string); an
 * untyped column is long when every value is an integer, double when every value is a number,
 * else char. An empty field is NULL. Errors name the line.
 */
import { QservError } from "../../common/errors.js";
import type { Value } from "../../common/rowCodec.js";
import type { VoDatatype, VoField } from "./fields.js";

const bad = (m: string) => new QservError("BAD_ARGUMENT", m);

const TYPES: Record<string, VoDatatype> = {
  long: "long",
  bigint: "long",
  int: "int",
  integer: "int",
  short: "short",
  smallint: "short",
  boolean: "short",
  double: "double",
  real: "double",
  float: "float",
  char: "char",
  text: "char",
  string: "char",
  unicodechar: "char",
};

/** Fields of one record, with the line it starts on. */
interface CsvRecord {
  line: number;
  fields: string[];
}

/** The records of CSV text (a quoted field may hold commas and line breaks). */
function records(text: string, table: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  let line = 1;
  let at = 0;
  const n = text.length;
  while (at < n) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = "";
      if (text[at] === '"') {
        const open = line;
        at++;
        for (;;) {
          const q = text.indexOf('"', at);
          if (q < 0) throw bad(`UPLOAD ${table}: line ${open}: a quoted field is not closed`);
          const part = text.slice(at, q);
          for (const ch of part) if (ch === "\n") line++;
          field += part;
          at = q + 1;
          if (text[at] !== '"') break;
          field += '"';
          at++;
        }
        if (at < n && text[at] !== "," && text[at] !== "\n" && text[at] !== "\r")
          throw bad(`UPLOAD ${table}: line ${line}: text after a closing quote`);
      } else {
        let end = at;
        while (end < n && text[end] !== "," && text[end] !== "\n" && text[end] !== "\r") end++;
        field = text.slice(at, end);
        if (field.includes('"')) throw bad(`UPLOAD ${table}: line ${line}: a quote inside an unquoted field`);
        at = end;
      }
      fields.push(field);
      if (text[at] === ",") {
        at++;
        continue;
      }
      if (text[at] === "\r") at++;
      if (text[at] === "\n") at++;
      line++;
      break;
    }
    // A blank line separates nothing: skipped.
    if (!(fields.length === 1 && fields[0] === "")) out.push({ line: start, fields });
  }
  return out;
}

const INTEGER = /^[+-]?\d+$/;
const MAX_LONG = 2n ** 63n - 1n;
const isLong = (t: string) => INTEGER.test(t) && BigInt(t) <= MAX_LONG && BigInt(t) >= -MAX_LONG - 1n;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity)$|^nan$/i;

function parseValue(f: VoField, text: string, table: string, line: number): Value {
  const t = f.datatype === "char" ? text : text.trim();
  if (t === "") return null;
  if (f.datatype === "char") return t;
  if (f.datatype === "double" || f.datatype === "float") {
    if (NUMBER.test(t)) {
      const x = /nan/i.test(t) ? Number.NaN : /inf/i.test(t) ? (t.startsWith("-") ? -1 : 1) * Infinity : Number(t);
      return Number.isNaN(x) ? null : x;
    }
  } else if (f.xtype === "boolean") {
    if (/^(t|true|1)$/i.test(t)) return 1n;
    if (/^(f|false|0)$/i.test(t)) return 0n;
  } else if (isLong(t)) {
    return BigInt(t);
  }
  throw bad(`UPLOAD ${table}: line ${line}: '${text}' is not a ${f.xtype ?? f.datatype} (column ${f.name})`);
}

/** A CSV upload's fields and rows (at most `maxRows` rows). */
export function parseCsv(text: string, table: string, maxRows: number): { fields: VoField[]; rows: Value[][] } {
  const recs = records(text.replace(/^\uFEFF/, ""), table);
  const header = recs.shift();
  if (header === undefined) throw bad(`UPLOAD ${table}: the CSV has no header line`);
  if (recs.length > maxRows) throw new QservError("TOO_LARGE", `UPLOAD ${table}: more than ${maxRows} rows`);
  const seen = new Set<string>();
  const declared = header.fields.map((h, i) => {
    const m = /^\s*([^:]*?)\s*(?::\s*(\w+)\s*)?$/.exec(h);
    const name = m?.[1] ?? "";
    if (name === "") throw bad(`UPLOAD ${table}: line ${header.line}: column ${i + 1} has no name`);
    if (seen.has(name.toLowerCase())) throw bad(`UPLOAD ${table}: line ${header.line}: column ${name} named twice`);
    seen.add(name.toLowerCase());
    const typeText = m?.[2];
    if (typeText === undefined) return { name, type: undefined };
    const type = TYPES[typeText.toLowerCase()];
    if (type === undefined) {
      throw bad(
        `UPLOAD ${table}: line ${header.line}: column ${name}: type '${typeText}' is not one of ${Object.keys(TYPES).join(", ")}`,
      );
    }
    return { name, type, boolean: typeText.toLowerCase() === "boolean" };
  });
  for (const r of recs) {
    if (r.fields.length !== declared.length) {
      throw bad(`UPLOAD ${table}: line ${r.line}: ${r.fields.length} fields, the header names ${declared.length}`);
    }
  }
  const fields = declared.map((d, i): VoField => {
    if (d.type !== undefined) {
      const f: VoField = { name: d.name, datatype: d.type };
      if (d.type === "char") return { ...f, arraysize: "*" };
      return d.boolean ? { ...f, xtype: "boolean" } : f;
    }
    const texts = recs.map((r) => r.fields[i]!.trim()).filter((t) => t !== "");
    if (texts.length > 0 && texts.every(isLong)) return { name: d.name, datatype: "long" };
    if (texts.length > 0 && texts.every((t) => NUMBER.test(t))) return { name: d.name, datatype: "double" };
    return { name: d.name, datatype: "char", arraysize: "*" };
  });
  const rows = recs.map((r) => r.fields.map((t, i) => parseValue(fields[i]!, t, table, r.line)));
  // A boolean's xtype only told the parser: its values are 0/1 shorts.
  return { fields: fields.map(({ xtype: _x, ...f }) => f), rows };
}
