/**
 * How the partial rows of an aggregating query's chunks combine in a hash map (common/
 * partialCombine.ts) before the merge query: from the chunk query's columns. Null where a column
 * has no exact combination here (the variance family, BIT_*, MIN / MAX of text, DECIMAL sums of
 * non-integers): those queries merge every chunk's rows through SQLite as before.
 */
import type { CombineOp, CombineSpec } from "../../common/partialCombine.js";
import type { Expr } from "../sql/ast.js";
import { printExpr } from "../sql/printer.js";
import { isIntegerType, type MysqlType, T } from "../sql/resultTypes.js";

export interface CombineInputs {
  /** The chunk query's columns and GROUP BY. */
  items: readonly Expr[];
  groupBy: readonly Expr[];
  /** The chunk column holding each group's first row order (c<i>), or null. */
  orderColumn: string | null;
  isText: (e: Expr) => boolean;
  /** Whether `e` is an aggregate call (a chunk column computed per group). */
  isAggregate: (e: Expr) => boolean;
  typeOf: (e: Expr) => MysqlType | null;
}

export function combineSpec(c: CombineInputs): CombineSpec | null {
  const keys = new Set(c.groupBy.map(printExpr));
  const ops: CombineOp[] = [];
  for (const e of c.items) {
    const op = opOf(e, keys, c);
    if (op === null) return null;
    ops.push(op);
  }
  const orderColumn = c.orderColumn === null ? -1 : Number(c.orderColumn.slice(1));
  return { ops, orderColumn };
}

function opOf(e: Expr, keys: ReadonlySet<string>, c: CombineInputs): CombineOp | null {
  if (e.kind === "call" && e.name.startsWith("_MQ_")) return null; // the czar's own partials
  if (!c.isAggregate(e)) {
    if (keys.has(printExpr(e))) return c.isText(e) ? "text" : "key";
    return "pick";
  }
  if (e.kind !== "call" || e.distinct) return null;
  const arg = e.args[0];
  switch (e.name.toUpperCase()) {
    case "COUNT":
      return "intSum";
    case "SUM": {
      if (arg === undefined) return null;
      const t = c.typeOf(arg);
      if (t !== null && isIntegerType(t)) return "intSum"; // summed as an exact DECIMAL
      if (t !== null && t.type === T.NEWDECIMAL) return null;
      return "sum";
    }
    case "MIN":
    case "MAX":
      if (arg === undefined || c.isText(arg)) return null;
      return e.name.toUpperCase() === "MIN" ? "min" : "max";
    default:
      return null;
  }
}
