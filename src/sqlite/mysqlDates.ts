/**
 * MySQL's common date functions over DATETIME text ('YYYY-MM-DD HH:MM:SS[.ffffff]') in UTC (the
 * czar's time_zone): FROM_UNIXTIME, UNIX_TIMESTAMP, DATE, YEAR ... SECOND, DATE_FORMAT, DATEDIFF.
 * An invalid date gives NULL, as MySQL does (with a warning there).
 */
import type Database from "better-sqlite3";
import { type Arg, decimalOf, type NonNull, text, toDouble } from "./mysqlNumbers.js";

interface DateTime {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  /** Microseconds. */
  us: number;
}

const DATETIME = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?)?\s*$/;
const COMPACT = /^\s*(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?\s*$/;

function daysInMonth(y: number, mo: number): number {
  return new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/** A DATE / DATETIME value as MySQL reads it from text or a number (20240102, 20240102030405). */
function parse(v: NonNull): DateTime | null {
  const s = typeof v === "bigint" || typeof v === "number" ? String(v) : text(v);
  const m = DATETIME.exec(s) ?? COMPACT.exec(s);
  if (m === null) return null;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as number[];
  const us = Number((m[7] ?? "").padEnd(6, "0") || 0);
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > daysInMonth(y!, mo!) || h! > 23 || mi! > 59 || sec! > 59) return null;
  return { y: y!, mo: mo!, d: d!, h: h!, mi: mi!, s: sec!, us };
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

function dateText(t: DateTime): string {
  return `${pad(t.y, 4)}-${pad(t.mo)}-${pad(t.d)}`;
}

function datetimeText(t: DateTime, decimals: number): string {
  const frac = decimals > 0 ? `.${pad(t.us, 6).slice(0, decimals)}` : "";
  return `${dateText(t)} ${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}${frac}`;
}

function fromEpochMicros(us: bigint): DateTime {
  const ms = Number(us / 1000n);
  const d = new Date(ms);
  return {
    y: d.getUTCFullYear(),
    mo: d.getUTCMonth() + 1,
    d: d.getUTCDate(),
    h: d.getUTCHours(),
    mi: d.getUTCMinutes(),
    s: d.getUTCSeconds(),
    us: Number(us % 1000000n),
  };
}

function epochMicros(t: DateTime): bigint {
  return BigInt(Date.UTC(t.y, t.mo - 1, t.d, t.h, t.mi, t.s)) * 1000n + BigInt(t.us);
}

/** MySQL's largest FROM_UNIXTIME argument (2038-01-19 03:14:07 UTC on 32-bit timestamps). */
const MAX_UNIX = 2147483647;

/** FROM_UNIXTIME(ts[, format]): NULL for a negative or too large timestamp. */
function fromUnixtime(ts: Arg, decimals: Arg, format?: Arg): string | null {
  if (ts === null) return null;
  const dec = decimalOf(typeof ts === "bigint" || typeof ts === "number" ? ts : String(toDouble(ts)));
  // Microseconds, truncated as MySQL does.
  const scale = 6 + dec.e;
  const us = scale >= 0 ? dec.m * 10n ** BigInt(scale) : dec.m / 10n ** BigInt(-scale);
  if (us < 0n || us > BigInt(MAX_UNIX) * 1000000n) return null;
  const t = fromEpochMicros(us);
  if (format !== undefined) return format === null ? null : dateFormat(t, text(format as string | Buffer));
  return datetimeText(t, Number(decimals));
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function dayOfYear(t: DateTime): number {
  return Math.round((Date.UTC(t.y, t.mo - 1, t.d) - Date.UTC(t.y, 0, 1)) / 86400000) + 1;
}

/** MySQL's DATE_FORMAT specifiers (the common ones; others print the letter, as MySQL does). */
function dateFormat(t: DateTime, f: string): string {
  const weekday = new Date(Date.UTC(t.y, t.mo - 1, t.d)).getUTCDay();
  const h12 = t.h % 12 === 0 ? 12 : t.h % 12;
  const spec: Record<string, () => string> = {
    Y: () => pad(t.y, 4),
    y: () => pad(t.y % 100),
    m: () => pad(t.mo),
    c: () => String(t.mo),
    M: () => MONTHS[t.mo - 1]!,
    b: () => MONTHS[t.mo - 1]!.slice(0, 3),
    d: () => pad(t.d),
    e: () => String(t.d),
    j: () => pad(dayOfYear(t), 3),
    H: () => pad(t.h),
    k: () => String(t.h),
    h: () => pad(h12),
    I: () => pad(h12),
    l: () => String(h12),
    i: () => pad(t.mi),
    s: () => pad(t.s),
    S: () => pad(t.s),
    f: () => pad(t.us, 6),
    p: () => (t.h < 12 ? "AM" : "PM"),
    T: () => `${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}`,
    r: () => `${pad(h12)}:${pad(t.mi)}:${pad(t.s)} ${t.h < 12 ? "AM" : "PM"}`,
    W: () => DAYS[weekday]!,
    a: () => DAYS[weekday]!.slice(0, 3),
    w: () => String(weekday),
    "%": () => "%",
  };
  return f.replace(/%(.)/gs, (_, c: string) => spec[c]?.() ?? c);
}

/** A function of one date: NULL for a NULL or invalid date. */
function ofDate(f: (t: DateTime) => Arg) {
  return (v: Arg): Arg => {
    const t = v === null ? null : parse(v);
    return t === null ? null : f(t);
  };
}

const DATE_PARTS: Record<string, (t: DateTime) => number> = {
  year: (t) => t.y,
  month: (t) => t.mo,
  day: (t) => t.d,
  hour: (t) => t.h,
  minute: (t) => t.mi,
  second: (t) => t.s,
  dayofyear: dayOfYear,
};

/** Registers the date functions (`mysql_*`) on a connection. */
export function registerMysqlDates(db: Database.Database): void {
  const opts = { deterministic: true, safeIntegers: true } as const;
  db.function("mysql_from_unixtime", { ...opts, varargs: true }, (ts: Arg, decimals: Arg, ...format: Arg[]) =>
    format.length === 0 ? fromUnixtime(ts, decimals) : fromUnixtime(ts, decimals, format[0] ?? null),
  );
  db.function(
    "mysql_unix_timestamp",
    opts,
    ofDate((t) => {
      const us = epochMicros(t);
      if (us < 0n || us > BigInt(MAX_UNIX) * 1000000n) return null;
      return t.us === 0 ? us / 1000000n : Number(us) / 1e6;
    }),
  );
  db.function("mysql_date", opts, ofDate(dateText));
  db.function("mysql_date_format", opts, (v: Arg, f: Arg) =>
    f === null ? null : ofDate((t) => dateFormat(t, text(f as string | Buffer)))(v),
  );
  const days = (t: DateTime) => Date.UTC(t.y, t.mo - 1, t.d) / 86400000;
  db.function("mysql_datediff", opts, (a: Arg, b: Arg) => {
    const [x, y] = [a, b].map((v) => (v === null ? null : parse(v)));
    return x == null || y == null ? null : BigInt(Math.round(days(x) - days(y)));
  });
  for (const [name, f] of Object.entries(DATE_PARTS)) {
    db.function(
      `mysql_${name}`,
      opts,
      ofDate((t) => BigInt(f(t))),
    );
  }
}
