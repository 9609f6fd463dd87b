import { QservError } from "../common/errors.js";

/**
 * How a delimited text file is written (MySQL LOAD DATA conventions): a field delimiter, an
 * optional enclosing quote, an escape character that makes the next character literal
 * (`\t`, `\n`, `\0`, ... as MySQL), and the token that stands for NULL.
 */
export interface Dialect {
  readonly delimiter: string;
  readonly quote: string | null;
  readonly escape: string | null;
  readonly nullToken: string;
}

export interface DialectOverrides {
  delimiter?: string | undefined;
  quote?: string | undefined;
  escape?: string | undefined;
  nullToken?: string | undefined;
}

function single(what: string, v: string): string {
  const s = v === "\\t" || v === "tab" ? "\t" : v;
  if (s.length !== 1)
    throw new QservError("BAD_ARGUMENT", `${what} must be a single character, got ${JSON.stringify(v)}`);
  return s;
}

/** The dialect of a file: tab for .tsv, comma otherwise; `\` escapes, `\N` is NULL, no quotes. */
export function dialectFor(file: string, o: DialectOverrides = {}): Dialect {
  const base = file.replace(/\.gz$/i, "");
  const delimiter = o.delimiter !== undefined ? single("delimiter", o.delimiter) : /\.tsv$/i.test(base) ? "\t" : ",";
  const quote = o.quote === undefined || o.quote === "" ? null : single("quote", o.quote);
  const esc = o.escape === "" ? null : single("escape", o.escape ?? "\\");
  const d: Dialect = { delimiter, quote, escape: esc, nullToken: o.nullToken ?? "\\N" };
  if (d.delimiter === "\n" || d.quote === d.delimiter || d.escape === d.delimiter) {
    throw new QservError("BAD_ARGUMENT", "delimiter, quote and escape must be distinct and not a newline");
  }
  return d;
}

const MYSQL_ESCAPES: Record<string, string> = { "0": "\0", b: "\b", n: "\n", r: "\r", t: "\t", Z: "\x1a" };

/** The value of a raw field: quotes removed, escapes resolved; null for the NULL token. */
export function fieldValue(raw: string, d: Dialect): string | null {
  if (raw === d.nullToken) return null;
  let s = raw;
  if (d.quote !== null && s.length >= 2 && s[0] === d.quote && s[s.length - 1] === d.quote) {
    s = s.slice(1, -1).replaceAll(d.quote + d.quote, d.quote);
  }
  if (d.escape === null || !s.includes(d.escape)) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === d.escape && i + 1 < s.length) {
      const n = s[++i] as string;
      out += MYSQL_ESCAPES[n] ?? n;
    } else {
      out += c;
    }
  }
  return out;
}
