/**
 * Rows in the order MySQL's scan gives them. Where MySQL keeps the first of several rows —
 * the spelling a UNION or GROUP_CONCAT(DISTINCT) keeps of strings equal under the collation —
 * the rows of a plain SELECT are put in its first director table's key order, as
 * MariaDB scans them; mini-qserv's chunks would otherwise give them in chunk order.
 */
import type { Value } from "../../common/rowCodec.js";
import { sortInTurns } from "../../common/sortInTurns.js";
import { isAggregating } from "../plan/split.js";
import type { Select } from "../sql/ast.js";
import type { Answer, Parts } from "./types.js";

const ORDER = "_mq_scan";

function compare(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Runs `s`, its rows in scan order where it is a plain SELECT of a director table (else as they come). */
export async function runInScanOrder(s: Select, parts: Parts): Promise<Answer> {
  const plain = !s.distinct && !isAggregating(s) && s.limit === null && s.orderBy.length === 0 && s.from.length > 0;
  const key = plain ? parts.scanOrder(s) : null;
  if (key === null) return parts.run(s);
  const a = await parts.run({
    ...s,
    items: [...s.items, { kind: "expr", expr: key, alias: ORDER, text: ORDER, pos: s.pos }],
  });
  const last = a.columns.length - 1;
  const rows = await sortInTurns(
    a.rows.map((r, i) => ({ r, i })),
    (x, y) => compare(x.r[last]!, y.r[last]!) || x.i - y.i,
  );
  return {
    columns: a.columns.slice(0, last),
    types: a.types.slice(0, last),
    rows: rows.map((x) => x.r.slice(0, last)),
  };
}
