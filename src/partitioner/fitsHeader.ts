/**
 * FITS headers and binary-table layouts (FITS standard 4.0, §4 and §7.3). There is no
 * maintained FITS package for Node, so this small reader is our own; it is checked against
 * files written by astropy (test/partitioner/fits.test.ts).
 */

export const BLOCK = 2880;
const CARD = 80;

/** One header card: keyword, value (strings unquoted, logicals as booleans, numbers as their text), comment. */
export interface Card {
  key: string;
  value: string | boolean | null;
  /** The value's text as written (numbers kept exact, e.g. TZERO = 9223372036854775808). */
  raw: string;
  isString: boolean;
  comment: string;
}

/** Parses the cards of a header, up to END; long strings continued with `&` / CONTINUE are joined. */
export function parseCards(text: string): Card[] {
  const cards: Card[] = [];
  for (let i = 0; i + CARD <= text.length; i += CARD) {
    const line = text.slice(i, i + CARD);
    const key = line.slice(0, 8).trim();
    if (key === "END") break;
    if (key === "COMMENT") {
      const value = line.slice(8).replace(/ +$/, "");
      cards.push({ key, value, raw: "", isString: false, comment: "" });
      continue;
    }
    const valued = line.slice(8, 10) === "= " || key === "CONTINUE";
    if (!valued) continue; // COMMENT, HISTORY, blank
    const body = line.slice(key === "CONTINUE" ? 8 : 10);
    const c = parseValue(key, body);
    const last = cards[cards.length - 1];
    if (key === "CONTINUE" && last?.isString && typeof last.value === "string" && last.value.endsWith("&")) {
      last.value = last.value.slice(0, -1) + (typeof c.value === "string" ? c.value : "");
      if (c.comment !== "") last.comment = last.comment === "" ? c.comment : `${last.comment} ${c.comment}`;
      continue;
    }
    cards.push(c);
  }
  return cards;
}

function parseValue(key: string, body: string): Card {
  const s = body.trimStart();
  if (s.startsWith("'")) {
    let v = "";
    let i = 1;
    for (; i < s.length; i++) {
      if (s[i] === "'") {
        if (s[i + 1] === "'") {
          v += "'";
          i++;
          continue;
        }
        break;
      }
      v += s[i];
    }
    const rest = s.slice(i + 1);
    const slash = rest.indexOf("/");
    const value = v.replace(/ +$/, "");
    return { key, value, raw: value, isString: true, comment: slash < 0 ? "" : rest.slice(slash + 1).trim() };
  }
  const slash = s.indexOf("/");
  const raw = (slash < 0 ? s : s.slice(0, slash)).trim();
  const comment = slash < 0 ? "" : s.slice(slash + 1).trim();
  const value = raw === "T" ? true : raw === "F" ? false : raw === "" ? null : raw;
  return { key, value, raw, isString: false, comment };
}

/** A header's keywords (the last of a name wins), with helpers for typed reads. */
export class Header {
  readonly byKey = new Map<string, Card>();
  constructor(readonly cards: Card[]) {
    for (const c of cards) this.byKey.set(c.key, c);
  }
  str(key: string): string | undefined {
    const c = this.byKey.get(key);
    return c === undefined || c.value === null ? undefined : String(c.value).trim();
  }
  raw(key: string): string | undefined {
    const c = this.byKey.get(key);
    return c === undefined || c.raw === "" ? undefined : c.raw.replace(/[dD]/, "E");
  }
  int(key: string, fallback?: number): number {
    const r = this.raw(key);
    const n = r === undefined ? fallback : Number(r);
    if (n === undefined || !Number.isInteger(n))
      throw new Error(`keyword ${key} ${r === undefined ? "is missing" : `is not an integer: ${r}`}`);
    return n;
  }
  comment(key: string): string {
    return this.byKey.get(key)?.comment ?? "";
  }
  /** The text of the COMMENT cards, a line each. */
  comments(): string {
    return this.cards
      .filter((c) => c.key === "COMMENT")
      .map((c) => c.value)
      .join("\n");
  }
}

/** Bytes of an HDU's data, padded to whole blocks. */
export function dataBytes(h: Header): number {
  const naxis = h.int("NAXIS", 0);
  if (naxis === 0) return 0;
  let n = 1;
  for (let i = 1; i <= naxis; i++) n *= h.int(`NAXIS${i}`);
  const bytes = (Math.abs(h.int("BITPIX")) / 8) * h.int("GCOUNT", 1) * (h.int("PCOUNT", 0) + n);
  return Math.ceil(bytes / BLOCK) * BLOCK;
}

/** A column of a binary table: where its bytes are in a row and how to read them. */
export interface FitsColumn {
  name: string;
  /** TFORM's type letter (L X B I J K A E D C M P Q) and repeat count. */
  code: string;
  repeat: number;
  offset: number;
  width: number;
  unit?: string;
  description?: string;
  ucd?: string;
  /** TNULLn, TSCALn, TZEROn as written (exact). */
  tnull?: string;
  tscal?: string;
  tzero?: string;
}

const WIDTH: Record<string, number> = { L: 1, B: 1, I: 2, J: 4, K: 8, A: 1, E: 4, D: 8, C: 8, M: 16, P: 8, Q: 16 };

/** The columns of a BINTABLE header, with their offsets in a row of NAXIS1 bytes. */
export function binTableColumns(h: Header): FitsColumn[] {
  const n = h.int("TFIELDS");
  const cols: FitsColumn[] = [];
  let offset = 0;
  for (let i = 1; i <= n; i++) {
    const form = h.str(`TFORM${i}`) ?? "";
    const m = /^(\d*)([LXBIJKAEDCMPQ])/.exec(form);
    if (m === null) throw new Error(`TFORM${i} ${JSON.stringify(form)} is not a binary-table format`);
    const repeat = m[1] === "" ? 1 : Number(m[1]);
    const code = m[2] as string;
    const width =
      code === "X"
        ? Math.ceil(repeat / 8)
        : code === "P" || code === "Q"
          ? (WIDTH[code] as number)
          : repeat * (WIDTH[code] as number);
    const opt = (k: string) => h.str(`${k}${i}`);
    const unit = opt("TUNIT");
    const ucd = opt("TUCD");
    const description = h.comment(`TTYPE${i}`) || opt("TCOMM");
    cols.push({
      name: opt("TTYPE") ?? `col${i}`,
      code,
      repeat,
      offset,
      width,
      ...(unit ? { unit } : {}),
      ...(ucd ? { ucd } : {}),
      ...(description ? { description } : {}),
      ...(h.raw(`TNULL${i}`) === undefined ? {} : { tnull: h.raw(`TNULL${i}`) }),
      ...(h.raw(`TSCAL${i}`) === undefined ? {} : { tscal: h.raw(`TSCAL${i}`) }),
      ...(h.raw(`TZERO${i}`) === undefined ? {} : { tzero: h.raw(`TZERO${i}`) }),
    });
    offset += width;
  }
  const rowBytes = h.int("NAXIS1");
  if (offset !== rowBytes) throw new Error(`the columns take ${offset} bytes a row, NAXIS1 says ${rowBytes}`);
  return cols;
}

/** TZERO as an exact integer (0 when absent), or null when it has a fraction. */
export function integerZero(c: FitsColumn): bigint | null {
  if (c.tzero === undefined) return 0n;
  if (/^[+-]?\d+$/.test(c.tzero)) return BigInt(c.tzero);
  const z = Number(c.tzero);
  return Number.isInteger(z) ? BigInt(z) : null;
}

/** Whether TSCAL/TZERO make the column's integers non-integers (then read as doubles). */
export function isScaled(c: FitsColumn): boolean {
  return (c.tscal !== undefined && Number(c.tscal) !== 1) || integerZero(c) === null;
}
