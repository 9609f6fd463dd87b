/** Traversal and construction helpers over the SQL AST. */
import type {
  Between,
  Binary,
  Call,
  ColumnRef,
  DecimalLit,
  Expr,
  FromItem,
  IntegerLit,
  Pos,
  Select,
  TableRef,
} from "./ast.js";

/** The direct sub-expressions of `e`. */
export function children(e: Expr): Expr[] {
  switch (e.kind) {
    case "call":
      return e.args;
    case "unary":
      return [e.operand];
    case "binary":
      return [e.left, e.right];
    case "is":
      return [e.expr];
    case "between":
      return [e.expr, e.low, e.high];
    case "in":
      return [e.expr, ...e.list];
    case "like":
      return e.escape === null ? [e.expr, e.pattern] : [e.expr, e.pattern, e.escape];
    case "case": {
      const out: Expr[] = e.operand === null ? [] : [e.operand];
      for (const w of e.whens) out.push(w.condition, w.result);
      if (e.else !== null) out.push(e.else);
      return out;
    }
    case "cast":
      return [e.expr];
    case "subquery":
      // The query is a scope of its own: only the IN operand belongs to this one.
      return e.expr === null ? [] : [e.expr];
    case "groupConcat":
      return [...e.args, ...e.orderBy.map((o) => o.expr)];
    case "window":
      return [e.call, ...e.partitionBy, ...e.orderBy.map((o) => o.expr)];
    default:
      return [];
  }
}

/**
 * `f` remembered per node and resolver (`r`, e.g. a column's type): for analyses the printer asks
 * at every level of a tree, which would otherwise be quadratic in its height. `f` recurses
 * through the returned function.
 */
export function memoPerNode<R extends object, V>(f: (e: Expr, r: R) => V): (e: Expr, r: R) => V {
  const memo = new WeakMap<R, WeakMap<Expr, { v: V }>>();
  return (e, r) => {
    let m = memo.get(r);
    if (m === undefined) {
      m = new WeakMap();
      memo.set(r, m);
    }
    let hit = m.get(e);
    if (hit === undefined) {
      hit = { v: f(e, r) };
      m.set(e, hit);
    }
    return hit.v;
  };
}

/** Calls `fn` on `e` and every sub-expression, parents first; `fn` returning false skips a subtree. */
export function visit(e: Expr, fn: (e: Expr) => unknown): void {
  if (fn(e) === false) return;
  for (const c of children(e)) visit(c, fn);
}

/** A copy of `e` whose direct sub-expressions are replaced by `m(sub)`. */
export function mapChildren(e: Expr, m: (e: Expr) => Expr): Expr {
  switch (e.kind) {
    case "call":
      return { ...e, args: e.args.map(m) };
    case "unary":
      return { ...e, operand: m(e.operand) };
    case "binary":
      return { ...e, left: m(e.left), right: m(e.right) };
    case "is":
      return { ...e, expr: m(e.expr) };
    case "between":
      return { ...e, expr: m(e.expr), low: m(e.low), high: m(e.high) };
    case "in":
      return { ...e, expr: m(e.expr), list: e.list.map(m) };
    case "like":
      return { ...e, expr: m(e.expr), pattern: m(e.pattern), escape: e.escape === null ? null : m(e.escape) };
    case "case":
      return {
        ...e,
        operand: e.operand === null ? null : m(e.operand),
        whens: e.whens.map((w) => ({ condition: m(w.condition), result: m(w.result) })),
        else: e.else === null ? null : m(e.else),
      };
    case "cast":
      return { ...e, expr: m(e.expr) };
    case "subquery":
      return e.expr === null ? e : { ...e, expr: m(e.expr) };
    case "groupConcat":
      return { ...e, args: e.args.map(m), orderBy: e.orderBy.map((o) => ({ ...o, expr: m(o.expr) })) };
    case "window": {
      const call = m(e.call);
      if (call.kind !== "call") throw new Error("mapChildren: a window's function must stay a call");
      return {
        ...e,
        call,
        partitionBy: e.partitionBy.map(m),
        orderBy: e.orderBy.map((o) => ({ ...o, expr: m(o.expr) })),
      };
    }
    default:
      return e;
  }
}

/** A copy of `e` with each sub-expression replaced by `fn(sub)` (bottom-up, so `fn` sees mapped children). */
export function mapExpr(e: Expr, fn: (e: Expr) => Expr): Expr {
  return fn(mapChildren(e, (x) => mapExpr(x, fn)));
}

/** Every expression of a SELECT (items, join conditions, WHERE, GROUP BY, HAVING, ORDER BY). */
export function selectExprs(s: Select): Expr[] {
  const out: Expr[] = [];
  for (const it of s.items) if (it.kind === "expr") out.push(it.expr);
  const from = (f: FromItem): void => {
    if (f.kind === "join") {
      from(f.left);
      from(f.right);
      if (f.on !== null) out.push(f.on);
    }
  };
  for (const f of s.from) from(f);
  if (s.where !== null) out.push(s.where);
  out.push(...s.groupBy);
  if (s.having !== null) out.push(s.having);
  for (const o of s.orderBy) out.push(o.expr);
  return out;
}

/** The table references of a FROM list, left to right (derived tables excluded). */
export function tableRefs(from: readonly FromItem[]): TableRef[] {
  const out: TableRef[] = [];
  const walk = (f: FromItem): void => {
    if (f.kind === "table") out.push(f);
    else if (f.kind === "join") {
      walk(f.left);
      walk(f.right);
    }
  };
  for (const f of from) walk(f);
  return out;
}

/** The terms of a top-level AND chain. */
export function conjuncts(e: Expr | null): Expr[] {
  if (e === null) return [];
  if (e.kind === "binary" && e.op === "AND") return [...conjuncts(e.left), ...conjuncts(e.right)];
  return [e];
}

/** The terms of a top-level OR chain. */
export function disjuncts(e: Expr): Expr[] {
  if (e.kind === "binary" && e.op === "OR") return [...disjuncts(e.left), ...disjuncts(e.right)];
  return [e];
}

const NOWHERE: Pos = { line: 0, column: 0 };

/** `a AND b AND ...`, or null for no terms. */
export function andAll(terms: readonly Expr[]): Expr | null {
  let out: Expr | null = null;
  for (const t of terms) out = out === null ? t : binary("AND", out, t);
  return out;
}

export function binary(op: Binary["op"], left: Expr, right: Expr): Binary {
  return { kind: "binary", op, left, right, pos: left.pos };
}

export function column(table: string | null, name: string): ColumnRef {
  return { kind: "column", db: null, table, name, pos: NOWHERE };
}

export function call(name: string, args: Expr[], pos: Pos = NOWHERE): Call {
  return { kind: "call", name, distinct: false, star: false, args, pos };
}

export function integer(n: number | bigint): IntegerLit {
  return { kind: "integer", text: String(n), pos: NOWHERE };
}

/** A real literal, exact to the double (17 significant digits). */
export function decimal(x: number): DecimalLit {
  return { kind: "decimal", text: x.toPrecision(17), pos: NOWHERE };
}

export function between(expr: Expr, low: Expr, high: Expr): Between {
  return { kind: "between", not: false, expr, low, high, pos: expr.pos };
}

/** A numeric literal (optionally signed), else null. */
export function numberOf(e: Expr): number | null {
  if (e.kind === "integer" || e.kind === "decimal") return Number(e.text);
  if (e.kind === "unary" && (e.op === "-" || e.op === "+")) {
    const v = numberOf(e.operand);
    return v === null ? null : e.op === "-" ? -v : v;
  }
  return null;
}
