/**
 * MySQL's aggregates that SQLite lacks, each also as a partial aggregate per chunk and a merge of
 * the partials on the czar (src/czar/plan/split.ts):
 * - the variance family (VARIANCE, VAR_SAMP, STDDEV, STDDEV_SAMP, ...): MySQL's running-mean
 *   recurrence within a chunk, chunks combined with Chan's parallel formula;
 * - BIT_AND, BIT_OR, BIT_XOR over 64-bit unsigned values.
 */
import type Database from "better-sqlite3";
import { collationKey } from "./mysqlCollation.js";
import { type Arg, type NonNull, rint, toDouble, U64, unsignedResult } from "./mysqlNumbers.js";
import { str } from "./mysqlStrings.js";

/** Population/sample variance or standard deviation: the `kind` argument of mysql_var. */
export const VAR_KINDS = {
  VAR_POP: 0,
  VAR_SAMP: 1,
  STDDEV_POP: 2,
  STDDEV_SAMP: 3,
} as const;

/** Count, running mean and sum of squared deviations (MySQL's variance_fp_recurrence). */
interface Moments {
  n: number;
  mean: number;
  m2: number;
}

const start = (): Moments => ({ n: 0, mean: 0, m2: 0 });

function add(m: Moments, x: number): Moments {
  m.n++;
  if (m.n === 1) {
    m.mean = x;
    m.m2 = 0;
  } else {
    const prev = m.mean;
    m.mean = prev + (x - prev) / m.n;
    m.m2 += (x - prev) * (x - m.mean);
  }
  return m;
}

/** Chan et al.'s combination of two sets' moments. */
function combine(a: Moments, b: Moments): Moments {
  if (b.n === 0) return a;
  if (a.n === 0) return b;
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  return {
    n,
    mean: a.mean + (delta * b.n) / n,
    m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n,
  };
}

function result(m: Moments, kind: Arg): number | null {
  const k = Number(kind);
  const sample = k === VAR_KINDS.VAR_SAMP || k === VAR_KINDS.STDDEV_SAMP;
  if (m.n === 0 || (sample && m.n === 1)) return null;
  const variance = m.m2 / (sample ? m.n - 1 : m.n);
  return k >= VAR_KINDS.STDDEV_POP ? Math.sqrt(variance) : variance;
}

/** A chunk's moments as a 24-byte BLOB: n, mean, m2 (float64 LE). */
function encode(m: Moments): Buffer {
  const b = Buffer.alloc(24);
  b.writeDoubleLE(m.n, 0);
  b.writeDoubleLE(m.mean, 8);
  b.writeDoubleLE(m.m2, 16);
  return b;
}

function decode(b: NonNull): Moments {
  if (!Buffer.isBuffer(b) || b.length !== 24) throw new Error("mysql_var_merge: not a partial variance");
  return { n: b.readDoubleLE(0), mean: b.readDoubleLE(8), m2: b.readDoubleLE(16) };
}

/** BIT_AND, BIT_OR, BIT_XOR as mysql_bit_and, mysql_bit_or, mysql_bit_xor. */
const BIT_FUNCTIONS: Record<string, (a: bigint, b: bigint) => bigint> = {
  and: (a, b) => a & b,
  or: (a, b) => a | b,
  xor: (a, b) => a ^ b,
};

/** A bit operand as MySQL's BIGINT UNSIGNED (doubles rounded, strings by their numeric prefix). */
function u64(v: NonNull): bigint {
  if (typeof v === "bigint") return BigInt.asUintN(64, v);
  const x = rint(toDouble(v));
  if (!(x > -(2 ** 63))) return 1n << 63n;
  if (x >= 2 ** 64) return U64;
  return BigInt.asUintN(64, BigInt(x));
}

/** MariaDB's group_concat_max_len (bytes): longer results are cut there. */
export const GROUP_CONCAT_MAX_LEN = 1048576;

interface Concat {
  distinct: boolean;
  sep: string;
  rows: Array<{ value: string; keys: Arg[] }>;
  desc: boolean[];
}

/**
 * mysql_group_concat(distinct, separator, nargs, arg..., key, desc, key, desc, ...): MySQL's
 * GROUP_CONCAT. A row with a NULL argument is skipped; the arguments are concatenated as text;
 * DISTINCT compares the concatenations under utf8mb4_general_ci; the keys (collation keys for
 * text, from the printer) sort the values; the result is cut at GROUP_CONCAT_MAX_LEN bytes.
 */
function groupConcatStep(acc: Concat, distinct: Arg, sep: Arg, nargs: Arg, ...rest: Arg[]): Concat {
  const n = Number(nargs);
  acc.distinct = distinct === 1n;
  acc.sep = sep === null ? "" : str(sep);
  const args = rest.slice(0, n);
  if (args.some((a) => a === null)) return acc;
  const keys: Arg[] = [];
  acc.desc = [];
  for (let i = n; i + 1 < rest.length; i += 2) {
    keys.push(rest[i] ?? null);
    acc.desc.push(rest[i + 1] === 1n);
  }
  acc.rows.push({ value: args.map((a) => str(a as NonNull)).join(""), keys });
  return acc;
}

function groupConcatResult(acc: Concat): string | null {
  let rows = acc.rows;
  if (rows.length === 0) return null;
  if (acc.distinct) {
    const seen = new Set<string>();
    rows = rows.filter((r) => {
      const k = collationKey(r.value);
      return seen.has(k) ? false : (seen.add(k), true);
    });
  }
  if (acc.desc.length > 0) {
    rows = rows
      .map((r, i) => ({ r, i }))
      .sort((a, b) => {
        for (let k = 0; k < acc.desc.length; k++) {
          const c = compareArgs(a.r.keys[k] ?? null, b.r.keys[k] ?? null);
          if (c !== 0) return acc.desc[k] ? -c : c;
        }
        return a.i - b.i;
      })
      .map((x) => x.r);
  }
  const out = rows.map((r) => r.value).join(acc.sep);
  const bytes = Buffer.from(out, "utf8");
  return bytes.length <= GROUP_CONCAT_MAX_LEN ? out : bytes.subarray(0, GROUP_CONCAT_MAX_LEN).toString("utf8");
}

/** SQL's ordering of two values: NULL first, numbers before text, text by code point. */
function compareArgs(a: Arg, b: Arg): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const na = typeof a === "number" || typeof a === "bigint";
  const nb = typeof b === "number" || typeof b === "bigint";
  if (na && nb) return a < b ? -1 : a > b ? 1 : 0;
  if (na !== nb) return na ? -1 : 1;
  const [x, y] = [str(a), str(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** An aggregate whose step takes several SQL arguments (the typings allow only one). */
function define<T>(
  db: Database.Database,
  name: string,
  start: () => T,
  step: (acc: T, ...args: Arg[]) => T,
  result: (acc: T) => unknown,
  varargs = false,
): void {
  const options = { deterministic: true, safeIntegers: true, varargs, start, step, result };
  db.aggregate(name, options as unknown as Database.AggregateOptions);
}

export function registerMysqlAggregates(db: Database.Database): void {
  define(
    db,
    "mysql_group_concat",
    (): Concat => ({ distinct: false, sep: ",", rows: [], desc: [] }),
    groupConcatStep as (acc: Concat, ...args: Arg[]) => Concat,
    groupConcatResult,
    true,
  );
  // mysql_var(x, kind): the whole aggregate in one place.
  define(
    db,
    "mysql_var",
    () => ({ m: start(), kind: 0n as Arg }),
    (acc: { m: Moments; kind: Arg }, x: Arg, kind: Arg) => {
      acc.kind = kind;
      if (x !== null) add(acc.m, toDouble(x));
      return acc;
    },
    (acc: { m: Moments; kind: Arg }) => result(acc.m, acc.kind),
  );
  define(db, "mysql_var_part", start, (m: Moments, x: Arg) => (x === null ? m : add(m, toDouble(x))), encode);
  define(
    db,
    "mysql_var_merge",
    () => ({ m: start(), kind: 0n as Arg }),
    (acc: { m: Moments; kind: Arg }, part: Arg, kind: Arg) => {
      acc.kind = kind;
      if (part !== null) acc.m = combine(acc.m, decode(part));
      return acc;
    },
    (acc: { m: Moments; kind: Arg }) => result(acc.m, acc.kind),
  );
  // mysql_bit_and(x) ... and their partials mysql_bit_and_part(x) ..., which give the 64 bits as
  // a signed integer (exact); the op is in the name, so that an aggregate over no rows knows it.
  for (const [op, f] of Object.entries(BIT_FUNCTIONS)) {
    const empty = op === "and" ? U64 : 0n; // MySQL's value over no rows
    for (const final of [true, false]) {
      define(
        db,
        `mysql_bit_${op}${final ? "" : "_part"}`,
        () => ({ v: null as bigint | null }),
        (acc: { v: bigint | null }, x: Arg) => {
          if (x !== null) acc.v = acc.v === null ? u64(x) : f(acc.v, u64(x));
          return acc;
        },
        (acc: { v: bigint | null }) => (final ? unsignedResult(acc.v ?? empty) : BigInt.asIntN(64, acc.v ?? empty)),
      );
    }
  }
}
