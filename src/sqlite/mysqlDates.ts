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

/** Gregorian leap years; MySQL's calendar has no 0000-02-29. */
const isLeap = (y: number) => y !== 0 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0);

function daysInMonth(y: number, mo: number): number {
  return mo === 2 ? (isLeap(y) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]!;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (any year, unlike Date.UTC's 0..99 quirk). */
function daysFromCivil(y: number, mo: number, d: number): number {
  const yy = mo <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const dayNumber = (t: DateTime) => daysFromCivil(t.y, t.mo, t.d);

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
  return BigInt(dayNumber(t) * 86400 + t.h * 3600 + t.mi * 60 + t.s) * 1000000n + BigInt(t.us);
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
  let n = t.d;
  for (let m = 1; m < t.mo; m++) n += daysInMonth(t.y, m);
  return n;
}

/** 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday). */
const weekdayOf = (t: DateTime) => (((dayNumber(t) + 4) % 7) + 7) % 7;

/** MySQL's DATE_FORMAT specifiers (the common ones; others print the letter, as MySQL does). */
function dateFormat(t: DateTime, f: string): string {
  const weekday = weekdayOf(t);
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
  dayofweek: (t) => weekdayOf(t) + 1,
  weekday: (t) => (weekdayOf(t) + 6) % 7,
  quarter: (t) => Math.ceil(t.mo / 3),
  // MySQL's day numbers count 0000-01-01 as day 1, year 0 as 365 days.
  to_days: (t) => (t.y === 0 ? dayOfYear(t) : dayNumber(t) - daysFromCivil(1, 1, 1) + 366),
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
  db.function(
    "mysql_last_day",
    opts,
    ofDate((t) => dateText({ ...t, d: daysInMonth(t.y, t.mo) })),
  );
  db.function("mysql_date_format", opts, (v: Arg, f: Arg) =>
    f === null ? null : ofDate((t) => dateFormat(t, text(f as string | Buffer)))(v),
  );
  db.function("mysql_datediff", opts, (a: Arg, b: Arg) => {
    const [x, y] = [a, b].map((v) => (v === null ? null : parse(v)));
    return x == null || y == null ? null : BigInt(dayNumber(x) - dayNumber(y));
  });
  for (const [name, f] of Object.entries(DATE_PARTS)) {
    db.function(
      `mysql_${name}`,
      opts,
      ofDate((t) => BigInt(f(t))),
    );
  }
}
