/**
 * MySQL's default collation, utf8mb4_general_ci, as SQLite functions (better-sqlite3 cannot
 * register collations): `mysql_ci(x)` is a text's sort key — each character's weight (its
 * upper-case base letter: 'é' and 'E' weigh the same, 'ß' weighs 'S', characters beyond the BMP
 * all weigh U+FFFD) with trailing spaces dropped (PAD SPACE) — so that `mysql_ci(a) = mysql_ci(b)`,
 * `GROUP BY mysql_ci(a)` and `ORDER BY mysql_ci(a)` compare as MySQL does. Keys order as the
 * weights do under SQLite's BINARY comparison (UTF-8 bytes order as code points).
 * Aggregates keep MySQL's choice of spelling: the value of the group's first row, first by a
 * row order the caller gives (the director key; NULL: as the rows come).
 */
import type Database from "better-sqlite3";
import type { Arg } from "./mysqlNumbers.js";

const weights = new Map<string, string>();

function weight(c: string): string {
  let w = weights.get(c);
  if (w !== undefined) return w;
  const cp = c.codePointAt(0)!;
  if (cp > 0xffff) w = "\uFFFD";
  else if (c === "ß") w = "S";
  else {
    const base = c.normalize("NFD")[0] ?? c;
    const up = base.toUpperCase();
    w = up.length === 1 ? up : base;
  }
  weights.set(c, w);
  return w;
}

const ASCII = /^[\0-\x7f]*$/;
/** Folded non-ASCII texts, bounded (a column's values repeat). */
const folded = new Map<string, string>();

/** The weights of a text's characters (trailing spaces kept: LIKE does not pad). */
export function foldText(s: string): string {
  if (ASCII.test(s)) return s.toUpperCase(); // an ASCII letter weighs its upper case
  let out = folded.get(s);
  if (out !== undefined) return out;
  out = "";
  for (const c of s) out += weight(c);
  if (folded.size >= 10_000) folded.clear();
  folded.set(s, out);
  return out;
}

/** The utf8mb4_general_ci sort key of a text. */
export function collationKey(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 32) end--;
  return foldText(end === s.length ? s : s.slice(0, end));
}

/** MySQL's UPPER / LOWER: character by character, a character whose mapping is longer ('ß') kept. */
function mapCase(s: string, f: (c: string) => string): string {
  let out = "";
  for (const c of s) {
    const m = f(c);
    out += Array.from(m).length === 1 ? m : c;
  }
  return out;
}

const keyOf = (v: Arg): Arg => (typeof v === "string" ? collationKey(v) : v);
const foldOf = (v: Arg): Arg => (typeof v === "string" ? foldText(v) : v);

/** Orders two row orders, NULL (no order) last; ties keep the first row seen. */
function earlier(a: Arg, b: Arg): boolean {
  if (a === null) return false;
  if (b === null) return true;
  return a < b;
}

interface Held {
  value: Arg;
  key: Arg;
  ord: Arg;
  seen: boolean;
}

const fresh = (): Held => ({ value: null, key: null, ord: null, seen: false });

/**
 * An aggregate keeping the row `better(candidate, held)` prefers (candidates keyed by the
 * collation when `keyed`); NULL values are skipped when `skipNull`.
 */
function keeper(
  better: (c: Held, h: Held) => boolean,
  out: (h: Held) => Arg,
  keyed: boolean,
  skipNull = true,
): Database.AggregateOptions {
  const c: Held = fresh();
  return {
    start: fresh,
    step: (h: Held, value: Arg, ord: Arg) => {
      if (value === null && skipNull) return;
      c.value = value;
      c.key = keyed ? keyOf(value) : null;
      c.ord = ord;
      if (!h.seen || better(c, h)) {
        h.value = value;
        h.key = c.key;
        h.ord = ord;
        h.seen = true;
      }
    },
    result: (h: Held) => out(h),
    deterministic: true,
    safeIntegers: true,
  } as Database.AggregateOptions;
}

const cmpKeys = (a: Arg, b: Arg): number => {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
};

/** Registers mysql_ci, mysql_fold, mysql_upper, mysql_lower and the spelling-keeping aggregates. */
export function registerMysqlCollation(db: Database.Database): void {
  const opts = { deterministic: true, safeIntegers: true } as const;
  db.function("mysql_ci", opts, keyOf);
  db.function("mysql_fold", opts, foldOf);
  db.function("mysql_upper", opts, (v: Arg) => (typeof v === "string" ? mapCase(v, (c) => c.toUpperCase()) : v));
  db.function("mysql_lower", opts, (v: Arg) => (typeof v === "string" ? mapCase(v, (c) => c.toLowerCase()) : v));
  // The value of the group's first row (the group's spelling, as MySQL shows it).
  db.aggregate(
    "mysql_pick",
    keeper(
      (c, h) => earlier(c.ord, h.ord),
      (h) => h.value,
      false,
      false,
    ),
  );
  for (const [name, sign] of [
    ["min", -1],
    ["max", 1],
  ] as const) {
    const better = (c: Held, h: Held) => {
      const d = cmpKeys(c.key, h.key) * sign;
      return d > 0 || (d === 0 && earlier(c.ord, h.ord));
    };
    db.aggregate(
      `mysql_${name}_ci`,
      keeper(better, (h) => h.value, true),
    );
    db.aggregate(
      `mysql_${name}_ci_ord`,
      keeper(better, (h) => h.ord, true),
    );
  }
}
