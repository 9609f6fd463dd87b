/**
 * Values of binary inputs (Parquet, FITS) as typed values whose text (String) is what MySQL's
 * LOAD DATA reads: integers exact (64-bit ones as BigInt, never through a double), doubles as
 * they are (-0 as 0, as its text "0" loads), 32-bit floats as the double of their shortest
 * round-trip digits, times as text `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC.
 */

/** A value a row cannot carry: the row is refused with this reason. */
export class Refusal extends Error {}

/** NaN and infinities: MySQL has none. Loaded as NULL only when the user says so. */
export function doubleValue(x: number, column: string, nanAsNull: boolean): number | null {
  if (Number.isFinite(x)) return x === 0 ? 0 : x;
  if (nanAsNull) return null;
  throw new Refusal(
    `column ${column}: ${x} (MySQL has no NaN or infinity; give --nan-as-null to load them as NULL, kept apart from no value only in the file)`,
  );
}

/** A 32-bit float as the double of the fewest digits that read back to the same float (0.1f is 0.1, not 0.10000000149011612). */
export function floatValue(x: number, column: string, nanAsNull: boolean): number | null {
  if (!Number.isFinite(x) || x === 0) return doubleValue(x, column, nanAsNull);
  // Most floats need 7 digits: try that first, then fewer (the shortest wins), then more.
  const seven = Number(x.toPrecision(7));
  if (Math.fround(seven) === x) {
    const six = Number(x.toPrecision(6));
    return Math.fround(six) === x ? six : seven;
  }
  const eight = Number(x.toPrecision(8));
  return Math.fround(eight) === x ? eight : Number(x.toPrecision(9));
}

const pad = (n: number | bigint, w: number): string => String(n).padStart(w, "0");

/** A timestamp given as whole units since the epoch (UTC), exact to its unit. */
export function timestampText(units: bigint, perSecond: bigint): string {
  let secs = units / perSecond;
  let frac = units % perSecond;
  if (frac < 0n) {
    secs -= 1n;
    frac += perSecond;
  }
  const d = new Date(Number(secs) * 1000);
  const digits = String(perSecond).length - 1;
  const base = `${dateText(d)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return frac === 0n ? base : `${base}.${pad(frac, digits).replace(/0+$/, "")}`;
}

/** A date (UTC) as YYYY-MM-DD. */
export function dateText(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}
