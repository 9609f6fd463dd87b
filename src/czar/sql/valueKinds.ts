/**
 * What the SQLite printer can tell about a MySQL expression's value without running it: its
 * kind (which decides how MySQL compares it) and whether MySQL computes it exactly.
 */
import type { ColumnRef, Expr, Select } from "./ast.js";
import { printExpr } from "./printer.js";
import { functionSpec, type ValueKind } from "./sqliteFunctions.js";
import { children, memoPerNode } from "./walk.js";

/** The kind of `e`'s value; a column is text when `isText` says so, else unknown. Remembered per node. */
export const valueKind: (e: Expr, isText: (c: ColumnRef) => boolean) => ValueKind = memoPerNode(kindOf);

function kindOf(e: Expr, isText: (c: ColumnRef) => boolean): ValueKind {
  const common = (es: Expr[]): ValueKind => {
    const kinds = es.filter((x) => x.kind !== "null").map((x) => valueKind(x, isText));
    const first = kinds[0];
    return first !== undefined && kinds.every((k) => k === first) ? first : "unknown";
  };
  switch (e.kind) {
    case "integer":
    case "decimal":
    case "hex":
    case "boolean":
      return "number";
    case "string":
      return "text";
    case "column":
      return isText(e) ? "text" : "unknown";
    case "groupConcat":
      return "text";
    case "window": {
      const name = e.call.name.toUpperCase();
      if (["LAG", "LEAD", "FIRST_VALUE", "LAST_VALUE", "NTH_VALUE", "MIN", "MAX"].includes(name))
        return e.call.args[0] === undefined ? "unknown" : valueKind(e.call.args[0], isText);
      return "number";
    }
    case "call": {
      const spec = functionSpec(e.name);
      if (spec === undefined) return "unknown";
      return typeof spec.kind === "function" ? common(spec.kind(e.args)) : spec.kind;
    }
    case "unary":
      return e.op === "+" ? valueKind(e.operand, isText) : "number";
    case "case":
      return common([...e.whens.map((w) => w.result), ...(e.else === null ? [] : [e.else])]);
    case "cast":
      if (e.type.name === "CHAR" || e.type.name === "NCHAR") return "text";
      return e.type.name === "BINARY" ? "binary" : "number";
    case "null":
    case "sysvar":
      return "unknown";
    default:
      return "number"; // operators and predicates
  }
}

/**
 * Whether MySQL computes `e` as an exact value (integer or DECIMAL) rather than a DOUBLE: then
 * halves round away from zero. Columns count as DOUBLE (SQLite holds DECIMAL columns as REAL).
 */
export function isExact(e: Expr): boolean {
  switch (e.kind) {
    case "decimal": // a literal with an exponent is a DOUBLE in MySQL
      return !/e/i.test(e.text);
    case "integer":
    case "hex":
    case "boolean":
    case "is":
    case "between":
    case "in":
    case "like":
      return true;
    case "unary":
      return e.op === "-" || e.op === "+" ? isExact(e.operand) : true;
    case "binary":
      return ["+", "-", "*", "/", "DIV", "MOD"].includes(e.op) ? isExact(e.left) && isExact(e.right) : true;
    case "call":
      return functionSpec(e.name)?.exact === true && e.args.length > 0 && e.args.every(isExact);
    case "cast":
      return ["SIGNED", "UNSIGNED", "DECIMAL"].includes(e.type.name);
    case "case":
      return e.whens.every((w) => isExact(w.result)) && (e.else === null || isExact(e.else));
    default:
      return false;
  }
}

/** Whether `e` holds an aggregate call (COUNT, MIN, ...). */
export function hasAggregateCall(e: Expr): boolean {
  if ((e.kind === "call" && functionSpec(e.name)?.aggregate === true) || e.kind === "groupConcat") return true;
  // A window function aggregates nothing itself; its arguments and keys may.
  if (e.kind === "window") return children(e).slice(1).concat(e.call.args).some(hasAggregateCall);
  return children(e).some(hasAggregateCall);
}

/**
 * Whether a select item of a grouped SELECT shows the value of its group's first row, as MySQL
 * does, rather than any row's: a text group key (whose rows may differ in spelling) or an item
 * that is not a group key, unless it holds an aggregate or no column.
 */
export function showsFirstRow(e: Expr, groupBy: readonly Expr[], isText: (c: ColumnRef) => boolean): boolean {
  if (hasAggregateCall(e) || !hasColumn(e)) return false;
  const key = printExpr(e);
  return valueKind(e, isText) === "text" || !groupBy.some((g) => printExpr(g) === key);
}

function hasColumn(e: Expr): boolean {
  return e.kind === "column" || children(e).some(hasColumn);
}

/**
 * MySQL's SELECT DISTINCT over text compares it as the collation does: where an item is text,
 * the SELECT is given as the GROUP BY of its items (same rows), so that the groups and their
 * spellings follow the collation. Others are returned as they are.
 */
export function distinctAsGroupBy(s: Select, isText: (c: ColumnRef) => boolean): Select {
  if (!s.distinct || s.groupBy.length > 0) return s;
  const exprs = s.items.flatMap((i) => (i.kind === "expr" ? [i.expr] : []));
  if (exprs.length < s.items.length || exprs.some(hasAggregateCall) || s.having !== null) return s;
  if (!exprs.some((e) => valueKind(e, isText) === "text")) return s;
  return { ...s, distinct: false, groupBy: exprs };
}
