/** Values of an evaluated subquery written back into a query as literals. */
import type { Value } from "../../common/rowCodec.js";
import type { Expr, Pos } from "../sql/ast.js";

/** `v` as a literal of the same type: integers exact, doubles as DOUBLE literals (with an exponent). */
export function literalOf(v: Value, pos: Pos): Expr {
  if (v === null) return { kind: "null", pos };
  if (typeof v === "bigint") return { kind: "integer", text: String(v), pos };
  if (typeof v === "number") {
    const text = String(v);
    return { kind: "decimal", text: /e/i.test(text) ? text : `${text}e0`, pos };
  }
  if (typeof v === "string") return { kind: "string", value: v, pos };
  return { kind: "hex", digits: Buffer.from(v).toString("hex").toUpperCase(), pos };
}
