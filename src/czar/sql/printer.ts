/**
 * Prints an AST as MySQL text that parses back to the same AST (positions aside). Parentheses
 * are added only where MySQL's precedence needs them; see the levels below, which mirror the
 * parser's.
 */
import type {
  BinaryOp,
  Expr,
  FromItem,
  Limit,
  OrderItem,
  Query,
  Select,
  SelectItem,
  SetItem,
  ShowFilter,
  Statement,
} from "./ast.js";
import { RESERVED } from "./lexer.js";

// Precedence levels, loosest first.
const OR = 1;
const XOR = 2;
const AND = 3;
const NOT = 4;
const COMPARE = 5; // comparisons and IS
const PREDICATE = 6; // IN, BETWEEN, LIKE
const BIT_OR = 7;
const UNARY = 13;
const PRIMARY = 14;

const BINARY_LEVEL: Record<BinaryOp, number> = {
  OR,
  XOR,
  AND,
  "=": COMPARE,
  "<=>": COMPARE,
  "<>": COMPARE,
  "<": COMPARE,
  "<=": COMPARE,
  ">": COMPARE,
  ">=": COMPARE,
  "|": BIT_OR,
  "&": 8,
  "<<": 9,
  ">>": 9,
  "+": 10,
  "-": 10,
  "*": 11,
  "/": 11,
  DIV: 11,
  MOD: 11,
  "^": 12,
};

function level(e: Expr): number {
  switch (e.kind) {
    case "binary":
      return BINARY_LEVEL[e.op];
    case "unary":
      return e.op === "NOT" ? NOT : UNARY;
    case "is":
      return COMPARE;
    case "between":
    case "in":
    case "like":
      return PREDICATE;
    case "subquery":
      return e.form === "in" ? PREDICATE : e.form === "exists" && e.not ? NOT : PRIMARY;
    default:
      return PRIMARY;
  }
}

/** An identifier, backquoted unless it is a plain non-reserved word. */
export function quoteIdent(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(name) && !RESERVED.has(name.toUpperCase())) return name;
  return `\`${name.replaceAll("`", "``")}\``;
}

const STRING_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  "'": "\\'",
  "\0": "\\0",
  "\n": "\\n",
  "\r": "\\r",
  "\x1a": "\\Z",
};

/** A single-quoted MySQL string literal. */
export function quoteString(value: string): string {
  let out = "'";
  for (const c of value) out += STRING_ESCAPES[c] ?? c;
  return `${out}'`;
}

function qualified(...parts: (string | null)[]): string {
  return parts
    .filter((p): p is string => p !== null)
    .map(quoteIdent)
    .join(".");
}

/** `e` printed so that it binds at least as tightly as `min`. */
function at(e: Expr, min: number): string {
  const s = printExpr(e);
  return level(e) < min ? `(${s})` : s;
}

export function printExpr(e: Expr): string {
  switch (e.kind) {
    case "integer":
    case "decimal":
      return e.text;
    case "string":
      return quoteString(e.value);
    case "hex":
      return e.digits.length % 2 === 0 ? `X'${e.digits}'` : `0x${e.digits}`;
    case "null":
      return "NULL";
    case "boolean":
      return e.value ? "TRUE" : "FALSE";
    case "column":
      return qualified(e.db, e.table, e.name);
    case "sysvar":
      return `@@${e.scope === null ? "" : `${e.scope}.`}${e.name}`;
    case "call": {
      const args = e.star ? "*" : e.args.map(printExpr).join(", ");
      return `${e.name}(${e.distinct ? "DISTINCT " : ""}${args})`;
    }
    case "unary": {
      if (e.op === "NOT") return `NOT ${at(e.operand, NOT)}`;
      const operand = at(e.operand, UNARY);
      // A space keeps `- -1` from reading as a `--` comment.
      return /^[-+]/.test(operand) ? `${e.op} ${operand}` : `${e.op}${operand}`;
    }
    case "binary": {
      const l = BINARY_LEVEL[e.op];
      return `${at(e.left, l)} ${e.op} ${at(e.right, l + 1)}`;
    }
    case "is":
      return `${at(e.expr, COMPARE)} IS ${e.not ? "NOT " : ""}${e.what}`;
    case "between":
      return `${at(e.expr, BIT_OR)} ${e.not ? "NOT " : ""}BETWEEN ${at(e.low, BIT_OR)} AND ${at(e.high, PREDICATE)}`;
    case "in":
      return `${at(e.expr, BIT_OR)} ${e.not ? "NOT " : ""}IN (${e.list.map(printExpr).join(", ")})`;
    case "like": {
      const esc = e.escape === null ? "" : ` ESCAPE ${at(e.escape, UNARY)}`;
      return `${at(e.expr, BIT_OR)} ${e.not ? "NOT " : ""}LIKE ${at(e.pattern, UNARY)}${esc}`;
    }
    case "case": {
      const parts = ["CASE"];
      if (e.operand !== null) parts.push(printExpr(e.operand));
      for (const w of e.whens) parts.push(`WHEN ${printExpr(w.condition)} THEN ${printExpr(w.result)}`);
      if (e.else !== null) parts.push(`ELSE ${printExpr(e.else)}`);
      parts.push("END");
      return parts.join(" ");
    }
    case "cast": {
      const params = e.type.params.length > 0 ? `(${e.type.params.join(", ")})` : "";
      return `CAST(${printExpr(e.expr)} AS ${e.type.name}${params})`;
    }
    case "groupConcat": {
      const order = e.orderBy.length === 0 ? "" : printOrderLimit(e.orderBy, null);
      const sep = e.separator === "," ? "" : ` SEPARATOR ${quoteString(e.separator)}`;
      return `GROUP_CONCAT(${e.distinct ? "DISTINCT " : ""}${e.args.map(printExpr).join(", ")}${order}${sep})`;
    }
    case "window": {
      const parts: string[] = [];
      if (e.partitionBy.length > 0) parts.push(`PARTITION BY ${e.partitionBy.map(printExpr).join(", ")}`);
      if (e.orderBy.length > 0) parts.push(printOrderLimit(e.orderBy, null).trim());
      if (e.frame !== null) parts.push(e.frame);
      return `${printExpr(e.call)} OVER (${parts.join(" ")})`;
    }
    case "subquery": {
      const q = `(${printQuery(e.query)})`;
      if (e.form === "exists") return `${e.not ? "NOT " : ""}EXISTS ${q}`;
      if (e.form === "in") return `${at(e.expr!, BIT_OR)} ${e.not ? "NOT " : ""}IN ${q}`;
      return q;
    }
  }
}

function printSelectItem(item: SelectItem): string {
  switch (item.kind) {
    case "allColumns":
      return item.table === null ? "*" : `${qualified(item.db, item.table)}.*`;
    case "expr":
      return item.alias === null ? printExpr(item.expr) : `${printExpr(item.expr)} AS ${quoteIdent(item.alias)}`;
  }
}

function printFrom(f: FromItem): string {
  switch (f.kind) {
    case "table":
      return `${qualified(f.db, f.name)}${f.alias === null ? "" : ` AS ${quoteIdent(f.alias)}`}`;
    case "derived":
      return `(${printQuery(f.select)}) AS ${quoteIdent(f.alias)}`;
    case "join": {
      const right = f.right.kind === "join" ? `(${printFrom(f.right)})` : printFrom(f.right);
      const type = f.natural && f.type === "INNER" ? "" : `${f.type} `;
      let s = `${printFrom(f.left)} ${f.natural ? "NATURAL " : ""}${type}JOIN ${right}`;
      if (f.on !== null) s += ` ON ${printExpr(f.on)}`;
      if (f.using !== null) s += ` USING (${f.using.map(quoteIdent).join(", ")})`;
      return s;
    }
  }
}

function printSelect(s: Select): string {
  let out = `SELECT ${s.distinct ? "DISTINCT " : ""}${s.items.map(printSelectItem).join(", ")}`;
  if (s.from.length > 0) out += ` FROM ${s.from.map(printFrom).join(", ")}`;
  if (s.where !== null) out += ` WHERE ${printExpr(s.where)}`;
  if (s.groupBy.length > 0) out += ` GROUP BY ${s.groupBy.map(printExpr).join(", ")}${s.rollup ? " WITH ROLLUP" : ""}`;
  if (s.having !== null) out += ` HAVING ${printExpr(s.having)}`;
  return out + printOrderLimit(s.orderBy, s.limit);
}

function printOrderLimit(orderBy: readonly OrderItem[], limit: Limit | null): string {
  let out = "";
  if (orderBy.length > 0) {
    out += ` ORDER BY ${orderBy.map((o) => `${printExpr(o.expr)}${o.desc ? " DESC" : ""}`).join(", ")}`;
  }
  if (limit !== null) out += ` LIMIT ${limit.count}${limit.offset === null ? "" : ` OFFSET ${limit.offset}`}`;
  return out;
}

/** A SELECT or a UNION; a union's branches are parenthesized. */
export function printQuery(q: Query): string {
  if (q.kind === "select") return printSelect(q);
  const branch = (b: Query) => `(${printQuery(b)})`;
  return `${branch(q.left)} UNION ${q.all ? "ALL " : ""}${branch(q.right)}${printOrderLimit(q.orderBy, q.limit)}`;
}

function printFilter(f: ShowFilter | null): string {
  if (f === null) return "";
  return f.kind === "like" ? ` LIKE ${quoteString(f.pattern)}` : ` WHERE ${printExpr(f.expr)}`;
}

function printSetItem(item: SetItem): string {
  switch (item.kind) {
    case "names": {
      if (item.charset === null) return "NAMES DEFAULT";
      const collate = item.collate === null ? "" : ` COLLATE ${quoteIdent(item.collate)}`;
      return `NAMES ${quoteIdent(item.charset)}${collate}`;
    }
    case "variable":
      return `${item.scope === null ? "" : `${item.scope} `}${quoteIdent(item.name)} = ${printExpr(item.value)}`;
  }
}

/** The statement as MySQL text (one line, no trailing semicolon). */
export function printMysql(stmt: Statement): string {
  switch (stmt.kind) {
    case "select":
    case "union":
      return printQuery(stmt);
    case "showDatabases":
      return `SHOW DATABASES${printFilter(stmt.filter)}`;
    case "showTables":
      return `SHOW ${stmt.full ? "FULL " : ""}TABLES${stmt.db === null ? "" : ` FROM ${quoteIdent(stmt.db)}`}${printFilter(stmt.filter)}`;
    case "showColumns":
      return `SHOW ${stmt.full ? "FULL " : ""}COLUMNS FROM ${qualified(stmt.db, stmt.table)}${printFilter(stmt.filter)}`;
    case "describe":
      return `DESCRIBE ${qualified(stmt.db, stmt.table)}`;
    case "showProcesslist":
      return `SHOW ${stmt.full ? "FULL " : ""}PROCESSLIST`;
    case "kill":
      return `KILL ${stmt.query ? "QUERY " : ""}${stmt.id}`;
    case "submit":
      return `SUBMIT ${printQuery(stmt.query)}`;
    case "qservResult":
      return `SELECT * FROM qserv_result(${stmt.id})`;
    case "cancel":
      return `CANCEL ${stmt.id}`;
    case "use":
      return `USE ${quoteIdent(stmt.db)}`;
    case "set":
      return `SET ${stmt.items.map(printSetItem).join(", ")}`;
    case "dropTable":
      return `DROP TABLE ${stmt.ifExists ? "IF EXISTS " : ""}${qualified(stmt.db, stmt.table)}`;
    case "dropDatabase":
      return `DROP DATABASE ${stmt.ifExists ? "IF EXISTS " : ""}${quoteIdent(stmt.db)}`;
  }
}
