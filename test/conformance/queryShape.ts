/**
 * What of a reference query's shape the comparison needs: ORDER BY (and which result columns
 * hold its keys), LIMIT, and the same query without its LIMIT.
 */
import type { Expr, Select } from "../../src/czar/sql/ast.js";
import { parseStatement } from "../../src/czar/sql/parser.js";

export interface QueryShape {
  orderBy: boolean;
  /** Result column of each ORDER BY key; null when some key is not a plain selected column. */
  orderKeys: number[] | null;
  limit: boolean;
  /** The text without its LIMIT clause; null without LIMIT or when it cannot be cut off. */
  unlimited: string | null;
}

/** SQL text without `--`, `#` and `/* *\/` comments (quoted text kept). */
export function stripComments(sql: string): string {
  let out = "";
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      while (j < sql.length && sql[j] !== c) j += sql[j] === "\\" && c !== "`" ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if ((c === "-" && sql.startsWith("--", i)) || c === "#") {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
      out += " ";
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The statement without a final `LIMIT n [, m | OFFSET m]`, or null when it has none. */
export function withoutLimit(sql: string): string | null {
  const text = stripComments(sql).trim().replace(/;\s*$/, "");
  const cut = text.replace(/\s+LIMIT\s+\d+(\s*,\s*\d+|\s+OFFSET\s+\d+)?\s*$/i, "");
  return cut === text ? null : cut;
}

/** A deep copy without `pos` fields, for structural comparison of expressions. */
function shape(x: unknown): string {
  return JSON.stringify(x, (k, v) => (k === "pos" ? undefined : v));
}

/** The result column an ORDER BY expression names, or null. */
function keyColumn(e: Expr, sel: Select, columns: readonly string[]): number | null {
  const lower = columns.map((c) => c.toLowerCase());
  const unique = (name: string): number | null => {
    const i = lower.indexOf(name.toLowerCase());
    return i >= 0 && lower.lastIndexOf(name.toLowerCase()) === i ? i : null;
  };
  if (e.kind === "integer") {
    const n = Number(e.text);
    return n >= 1 && n <= columns.length ? n - 1 : null;
  }
  // Item positions are result positions only when no `*` widens the list.
  const plain = sel.items.every((it) => it.kind === "expr");
  const item = plain ? sel.items.findIndex((it) => it.kind === "expr" && shape(it.expr) === shape(e)) : -1;
  if (item >= 0 && item < columns.length) return item;
  if (e.kind === "column" && e.table === null) return unique(e.name);
  if (e.kind === "column" && !plain) return unique(e.name);
  return null;
}

/** The shape of `sql` (the text the reference runs), given the reference's result columns. */
export function queryShape(sql: string, columns: readonly string[]): QueryShape {
  let stmt: ReturnType<typeof parseStatement> | null = null;
  try {
    stmt = parseStatement(sql);
  } catch {
    // The project's parser may not take every reference text; then guess from the text.
  }
  if (stmt === null || stmt.kind !== "select") {
    const text = stripComments(sql);
    const limit = /\bLIMIT\s+\d+/i.test(text);
    return {
      orderBy: /\bORDER\s+BY\b/i.test(text),
      orderKeys: null,
      limit,
      unlimited: limit ? withoutLimit(sql) : null,
    };
  }
  const sel = stmt;
  const keys = sel.orderBy.map((o) => keyColumn(o.expr, sel, columns));
  return {
    orderBy: sel.orderBy.length > 0,
    orderKeys: keys.every((k) => k !== null) ? (keys as number[]) : null,
    limit: sel.limit !== null,
    unlimited: sel.limit !== null ? withoutLimit(sql) : null,
  };
}
