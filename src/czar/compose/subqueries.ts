/**
 * Subqueries in expressions, evaluated once before the query that holds them and written back
 * as literals: a scalar subquery becomes its value, EXISTS a boolean, `x IN (SELECT ...)` an IN
 * list. The query holding them then runs distributed as any other. Correlated subqueries (naming
 * a table of the outer query) are refused.
 */
import { isQservError, QservError } from "../../common/errors.js";
import type { Expr, FromItem, Query, Select, Subquery } from "../sql/ast.js";
import { T } from "../sql/resultTypes.js";
import { unsupported } from "../sql/sqliteFunctions.js";
import { mapChildren, selectExprs, visit } from "../sql/walk.js";
import { literalOf } from "./literals.js";
import type { Answer } from "./types.js";

/** Above this many rows an IN (SELECT ...) is refused rather than sent to every chunk as a list. */
export const MAX_IN_VALUES = 100_000;

/** Whether a query has a subquery in an expression of its own (not counting derived tables). */
export function hasSubqueries(s: Select): boolean {
  let found = false;
  for (const e of selectExprs(s)) {
    visit(e, (x) => {
      if (x.kind === "subquery") found = true;
      return !found;
    });
  }
  return found;
}

/** The table names and aliases a query's FROM lists bind, at every level, lower-cased. */
function boundNames(q: Query, out = new Set<string>()): Set<string> {
  if (q.kind === "union") {
    boundNames(q.left, out);
    return boundNames(q.right, out);
  }
  const walk = (f: FromItem): void => {
    if (f.kind === "join") {
      walk(f.left);
      walk(f.right);
    } else if (f.kind === "derived") {
      out.add(f.alias.toLowerCase());
      boundNames(f.select, out);
    } else out.add((f.alias ?? f.name).toLowerCase());
  };
  for (const f of q.from) walk(f);
  return out;
}

/** Throws UNSUPPORTED when the subquery names a table qualifier it does not bind but `outer` does. */
function checkUncorrelated(sub: Subquery, outer: Set<string>): void {
  const own = boundNames(sub.query);
  const selects = (q: Query): Select[] => (q.kind === "union" ? [...selects(q.left), ...selects(q.right)] : [q]);
  for (const s of selects(sub.query)) {
    for (const e of selectExprs(s)) {
      visit(e, (x) => {
        if (x.kind === "column" && x.table !== null && x.db === null) {
          const t = x.table.toLowerCase();
          if (!own.has(t) && outer.has(t)) throw unsupported("correlated subqueries", sub.pos, "are");
        }
      });
    }
  }
}

/** Runs a subquery; an unknown column there is most likely a reference to the outer query. */
async function evaluate(sub: Subquery, run: (q: Query) => Promise<Answer>): Promise<Answer> {
  try {
    return await run(sub.query);
  } catch (e) {
    if (isQservError(e) && e.code === "BAD_QUERY" && /^Unknown column/.test(e.message)) {
      throw new QservError(
        "UNSUPPORTED",
        `correlated subqueries are not supported at line ${sub.pos.line}, column ${sub.pos.column} (${e.message})`,
        { line: sub.pos.line, column: sub.pos.column },
      );
    }
    throw e;
  }
}

function oneColumn(sub: Subquery, a: Answer): void {
  if (a.columns.length !== 1) {
    throw new QservError("BAD_QUERY", "Operand should contain 1 column(s)", {
      line: sub.pos.line,
      column: sub.pos.column,
    });
  }
}

/** The literal expression a subquery's answer stands for. */
function replacement(sub: Subquery, a: Answer): Expr {
  const pos = sub.pos;
  switch (sub.form) {
    case "exists":
      return { kind: "boolean", value: a.rows.length > 0 !== sub.not, pos };
    case "scalar": {
      oneColumn(sub, a);
      if (a.rows.length > 1) throw new QservError("BAD_QUERY", "Subquery returns more than 1 row", { ...pos });
      const v = literalOf(a.rows[0]?.[0] ?? null, pos);
      // A BIGINT answer stays a BIGINT (a small integer literal would be an INT).
      if (v.kind !== "integer" || a.types[0]?.type !== T.LONGLONG || a.types[0].unsigned) return v;
      return { kind: "cast", expr: v, type: { name: "SIGNED", params: [] }, pos };
    }
    case "in": {
      oneColumn(sub, a);
      if (a.rows.length > MAX_IN_VALUES) throw unsupported(`IN (SELECT ...) of more than ${MAX_IN_VALUES} rows`, pos);
      // x IN (no rows) is false even for a NULL x.
      if (a.rows.length === 0) return { kind: "boolean", value: sub.not, pos };
      const list = a.rows.map((r) => literalOf(r[0] ?? null, pos));
      return { kind: "in", not: sub.not, expr: sub.expr!, list, pos };
    }
  }
}

/** `s` with each subquery in its expressions replaced by the literal its answer stands for. */
export async function resolveSubqueries(s: Select, run: (q: Query) => Promise<Answer>): Promise<Select> {
  const found: Subquery[] = [];
  for (const e of selectExprs(s)) {
    visit(e, (x) => {
      if (x.kind === "subquery") found.push(x);
    });
  }
  if (found.length === 0) return s;
  const outer = boundNames(s);
  const values = new Map<Subquery, Expr>();
  for (const sub of found) {
    checkUncorrelated(sub, outer);
    values.set(sub, replacement(sub, await evaluate(sub, run)));
  }
  // Top-down, so that a subquery is found by identity before its IN operand is rewritten.
  const m = (e: Expr): Expr => {
    if (e.kind !== "subquery") return mapChildren(e, m);
    const r = values.get(e) ?? e;
    return r.kind === "in" ? { ...r, expr: m(r.expr) } : r;
  };
  const from = (f: FromItem): FromItem =>
    f.kind === "join" ? { ...f, left: from(f.left), right: from(f.right), on: f.on === null ? null : m(f.on) } : f;
  return {
    ...s,
    // An item that was a subquery keeps the subquery's text as its name, as in MySQL.
    items: s.items.map((it) =>
      it.kind !== "expr"
        ? it
        : { ...it, expr: m(it.expr), alias: it.alias ?? (it.expr.kind === "subquery" ? it.text : null) },
    ),
    from: s.from.map(from),
    where: s.where === null ? null : m(s.where),
    groupBy: s.groupBy.map(m),
    having: s.having === null ? null : m(s.having),
    orderBy: s.orderBy.map((o) => ({ ...o, expr: m(o.expr) })),
  };
}
