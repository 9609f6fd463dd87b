/** Latency summaries and result comparison for the benchmark suite. */

/** The q-quantile (0..1) of xs by nearest rank. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Reals agree when within this relative difference (sums in another order differ in the last digits). */
const TOLERANCE = 1e-9;

/** One value as text: numbers (or numeric text, as psql prints them) as JavaScript prints the double. */
function canonical(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number" || typeof v === "bigint" || (typeof v === "string" && NUMERIC.test(v))) {
    return String(Number(v));
  }
  return String(v);
}

/** Sort key of a value: reals to 9 significant digits, so that rows sort alike on every system. */
const key = (v: string) => (NUMERIC.test(v) ? String(Number(Number(v).toPrecision(9))) : v);

/** A result as a sorted list of rows (fields tab-separated): comparable across systems. */
export function rowSet(rows: readonly (readonly unknown[])[]): string[] {
  return rows
    .map((r) => r.map(canonical))
    .map((r) => ({ k: r.map(key).join("\t"), r: r.join("\t") }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.r);
}

function sameField(a: string, b: string): boolean {
  if (a === b) return true;
  if (!NUMERIC.test(a) || !NUMERIC.test(b)) return false;
  const [x, y] = [Number(a), Number(b)];
  return Math.abs(x - y) <= TOLERANCE * Math.max(Math.abs(x), Math.abs(y));
}

/** How two row sets differ (reals compared to ~9 digits), or null when they hold the same rows. */
export function rowSetDiff(a: readonly string[], b: readonly string[]): string | null {
  if (a.length !== b.length) return `${a.length} vs ${b.length} rows`;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [(a[i] as string).split("\t"), (b[i] as string).split("\t")];
    if (x.length !== y.length || x.some((f, k) => !sameField(f, y[k] as string))) return `row ${i}: ${a[i]} vs ${b[i]}`;
  }
  return null;
}
