/** Latency summaries and result comparison for the benchmark suite. */

/** The q-quantile (0..1) of xs by nearest rank. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** One value as comparable text: numbers (or numeric text, as psql prints them) to 9 significant digits. */
function canonical(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number" || typeof v === "bigint" || (typeof v === "string" && NUMERIC.test(v))) {
    const n = Number(v);
    return Number.isInteger(n) && Math.abs(n) < 1e9 ? String(n) : String(Number(n.toPrecision(9)));
  }
  return String(v);
}

/** A result as a sorted list of rows: equal across systems when they returned the same rows. */
export function rowSet(rows: readonly (readonly unknown[])[]): string[] {
  return rows.map((r) => r.map(canonical).join("\t")).sort();
}

/** How two row sets differ, or null when equal. */
export function rowSetDiff(a: readonly string[], b: readonly string[]): string | null {
  if (a.length !== b.length) return `${a.length} vs ${b.length} rows`;
  const i = a.findIndex((r, k) => r !== b[k]);
  return i < 0 ? null : `row ${i}: ${a[i]} vs ${b[i]}`;
}
