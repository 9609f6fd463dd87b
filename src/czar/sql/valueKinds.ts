/**
 * What the SQLite printer can tell about a MySQL expression's value without running it: its
 * kind (which decides how MySQL compares it) and whether MySQL computes it exactly.
 */
import type { ColumnRef, Expr } from "./ast.js";
import { functionSpec, type ValueKind } from "./sqliteFunctions.js";

/** The kind of `e`'s value; a column is text when `isText` says so, else unknown. */
export function valueKind(e: Expr, isText: (c: ColumnRef) => boolean): ValueKind {
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
