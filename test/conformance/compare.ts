/**
 * Checks a distributed answer against the reference's: columns, then rows as multisets, then
 * order where the query fixes it, allowing what ORDER BY ties and LIMIT legitimately leave open.
 */
import type { JsonValue } from "../../src/common/jsonValue.js";
import { type Row, sameRow, showRow, unmatched } from "./values.js";

export interface Result {
  columns: string[];
  rows: Row[];
}

export interface CompareOptions {
  /** `-- pragma noheader`: column names are not compared. */
  noheader: boolean;
  /** `-- pragma sortresult`: row order is not compared. */
  sortresult: boolean;
  /** The query has ORDER BY. */
  orderBy: boolean;
  /** Result column of each ORDER BY key, or null when some key is not a selected column. */
  orderKeys: number[] | null;
  /** The query has LIMIT. */
  limit: boolean;
  /** The reference's rows without the LIMIT (every row a LIMIT may choose from), when known. */
  candidates?: (() => Row[] | null) | undefined;
}

export type Verdict = { ok: true; note?: string } | { ok: false; reason: string };

const SHOW = 3;

function rowsDiff(expected: readonly Row[], actual: readonly Row[]): string {
  const { missing, extra } = unmatched(expected, actual);
  const parts = [`expected ${expected.length} rows, got ${actual.length}`];
  if (missing.length > 0) {
    parts.push(
      `${missing.length} missing: ${missing
        .slice(0, SHOW)
        .map((r) => showRow(r))
        .join(" ")}`,
    );
  }
  if (extra.length > 0) {
    parts.push(
      `${extra.length} unexpected: ${extra
        .slice(0, SHOW)
        .map((r) => showRow(r))
        .join(" ")}`,
    );
  }
  return parts.join("; ");
}

function firstOrderDifference(expected: readonly Row[], actual: readonly Row[]): string {
  const i = expected.findIndex((r, k) => !sameRow(r, actual[k] as Row));
  return `row ${i + 1}: expected ${showRow(expected[i] as Row)}, got ${showRow(actual[i] as Row)}`;
}

const project = (rows: readonly Row[], keys: readonly number[]): Row[] =>
  rows.map((r) => keys.map((k) => r[k] as JsonValue));

function sameSequence(a: readonly Row[], b: readonly Row[]): boolean {
  return a.length === b.length && a.every((r, i) => sameRow(r, b[i] as Row));
}

function noExtra(expected: readonly Row[], actual: readonly Row[]): boolean {
  return unmatched(expected, actual).extra.length === 0;
}

/** Rows equal as multisets; the order checked only where it is fixed and visible. */
function sameRowsInOrder(expected: Result, actual: Result, o: CompareOptions): Verdict {
  if (!o.orderBy || o.sortresult || sameSequence(expected.rows, actual.rows)) return { ok: true };
  if (o.orderKeys === null) {
    return { ok: true, note: "row order not checked: an ORDER BY key is not a selected column" };
  }
  if (sameSequence(project(expected.rows, o.orderKeys), project(actual.rows, o.orderKeys))) {
    return { ok: true, note: "rows tied on the ORDER BY keys came in another order" };
  }
  return { ok: false, reason: `order differs (same rows): ${firstOrderDifference(expected.rows, actual.rows)}` };
}

/**
 * Different rows, but LIMIT may have chosen among ties: valid when as many rows came, all from
 * the unlimited answer, and (with ORDER BY) their keys are the expected keys.
 */
function limitChoice(expected: Result, actual: Result, o: CompareOptions): Verdict | null {
  if (!o.limit || actual.rows.length !== expected.rows.length) return null;
  if (o.orderBy && o.orderKeys === null) return null;
  const all = o.candidates?.() ?? null;
  if (all === null || !noExtra(all, actual.rows)) return null;
  if (o.orderBy && o.orderKeys !== null) {
    const want = project(expected.rows, o.orderKeys);
    const got = project(actual.rows, o.orderKeys);
    const keysOk = o.sortresult ? unmatched(want, got).missing.length === 0 : sameSequence(want, got);
    if (!keysOk) return null;
  }
  const what = o.orderBy ? "rows tied on the ORDER BY keys at the LIMIT" : "LIMIT without ORDER BY";
  return { ok: true, note: `${what}: another valid choice of rows than the reference's` };
}

function limitHint(o: CompareOptions): string {
  if (!o.limit) return "";
  if (o.orderBy && o.orderKeys === null) {
    return " (LIMIT with an ORDER BY key that is not selected: ties at the cut may explain it)";
  }
  return o.candidates === undefined ? " (LIMIT: the reference's rows without LIMIT were not available)" : "";
}

/** Compares a distributed answer with the reference's. */
export function compareResults(expected: Result, actual: Result, o: CompareOptions): Verdict {
  const ec = expected.columns;
  const ac = actual.columns;
  if (ec.length !== ac.length) {
    return {
      ok: false,
      reason: `expected ${ec.length} columns (${ec.join(", ")}), got ${ac.length} (${ac.join(", ")})`,
    };
  }
  if (!o.noheader && ec.some((c, i) => c.toLowerCase() !== (ac[i] as string).toLowerCase())) {
    return { ok: false, reason: `column names: expected (${ec.join(", ")}), got (${ac.join(", ")})` };
  }
  const bad = actual.rows.findIndex((r) => r.length !== ec.length);
  if (bad >= 0) return { ok: false, reason: `row ${bad + 1} has ${actual.rows[bad]?.length} values, not ${ec.length}` };
  const { missing, extra } = unmatched(expected.rows, actual.rows);
  if (missing.length === 0 && extra.length === 0) return sameRowsInOrder(expected, actual, o);
  return limitChoice(expected, actual, o) ?? { ok: false, reason: rowsDiff(expected.rows, actual.rows) + limitHint(o) };
}
