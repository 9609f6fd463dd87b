/**
 * One query asked of two MySQL servers through mysql2, and the answers compared: errors, column
 * names, column type codes, and values as the text the server sent (multisets, or sequences
 * where the ORDER BY is total).
 */
import type mysql from "mysql2/promise";
import type { DiffQuery } from "./queries.js";

export interface Answer {
  error: { errno: number; message: string } | null;
  columns: Array<{ name: string; type: number }>;
  /** Every value as the text the server sent (null for NULL). */
  rows: Array<Array<string | null>>;
}

export async function ask(c: mysql.Connection, sql: string): Promise<Answer> {
  try {
    const [rows, fields] = (await c.query({
      sql,
      rowsAsArray: true,
      typeCast: (field: { string(): string | null }) => field.string(),
    })) as unknown as [Array<Array<string | null>>, Array<{ name: string; columnType: number }>];
    return { error: null, columns: fields.map((f) => ({ name: f.name, type: f.columnType })), rows };
  } catch (e) {
    const err = e as Error & { errno?: number; fatal?: boolean };
    if (err.fatal === true || err.errno === undefined) throw e;
    return { error: { errno: err.errno, message: err.message }, columns: [], rows: [] };
  }
}

export type Verdict =
  | { kind: "agree" }
  | { kind: "bothRefuse" }
  | { kind: "refusedByUs"; message: string }
  | { kind: "differ"; what: string };

const DOUBLE = 5;

/** Doubles summed in another order (chunk by chunk) may differ in their last bits. */
function closeDoubles(a: string, b: string): boolean {
  const x = Number(a);
  const y = Number(b);
  return Number.isFinite(x) && Number.isFinite(y) && Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y));
}

/** Whether MariaDB's answer `m` and ours `u` to `q` are the same. */
export function judge(q: DiffQuery, m: Answer, u: Answer): Verdict {
  if (m.error !== null) {
    return u.error !== null ? { kind: "bothRefuse" } : { kind: "differ", what: `MariaDB refuses (${m.error.message})` };
  }
  if (u.error !== null) {
    return /not supported/i.test(u.error.message)
      ? { kind: "refusedByUs", message: u.error.message }
      : { kind: "differ", what: `we fail: ${u.error.message}` };
  }
  const problems: string[] = [];
  const names = (a: Answer) => a.columns.map((c) => c.name).join(" | ");
  if (names(m) !== names(u)) problems.push(`column names ${names(m)} ≠ ${names(u)}`);
  const types = (a: Answer) => a.columns.map((c) => c.type).join(",");
  if (types(m) !== types(u)) problems.push(`column types ${types(m)} ≠ ${types(u)}`);
  const rows = compareRows(q, m, u);
  if (rows !== null) problems.push(rows);
  return problems.length === 0 ? { kind: "agree" } : { kind: "differ", what: problems.join("; ") };
}

/** How the rows differ, or null when they are the same. */
function compareRows(q: DiffQuery, m: Answer, u: Answer): string | null {
  if (m.rows.length !== u.rows.length) return `${m.rows.length} rows ≠ ${u.rows.length}`;
  // Summed doubles (and variances) compare within rounding; elsewhere (and in the sort key) values are exact text.
  const summed = /\b(SUM|AVG|STD\w*|VAR\w*)\s*\(/i.test(q.sql);
  const loose = m.columns.map((c, i) => summed && c.type === DOUBLE && u.columns[i]?.type === DOUBLE);
  const key = (r: Array<string | null>) => JSON.stringify(r.map((v, i) => (loose[i] ? null : v)));
  const sorted = (rows: Answer["rows"]) => (q.ordered ? rows : [...rows].sort((a, b) => cmp(key(a), key(b))));
  const mr = sorted(m.rows);
  const ur = sorted(u.rows);
  for (let i = 0; i < mr.length; i++) {
    const a = mr[i]!;
    const b = ur[i]!;
    for (let j = 0; j < a.length; j++) {
      const x = a[j] ?? null;
      const y = b[j] ?? null;
      if (x === y) continue;
      if (loose[j] && x !== null && y !== null && closeDoubles(x, y)) continue;
      return `row ${i}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`;
    }
  }
  return null;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
