/**
 * Queries made of queries: UNION, subqueries in FROM (and the WITH queries the parser inlines as
 * such), subqueries in expressions. Each SELECT without any of these runs as usual (distributed
 * over the chunks, or on the czar without FROM); their answers are combined on the czar in a
 * scratch SQLite database with MySQL's semantics (the same SQLite printer as chunk queries).
 */
import { QservError } from "../../common/errors.js";
import { checkColumns } from "../analyze/bindings.js";
import { SizeGuard } from "../exec/resultLimit.js";
import { Scratch, scratchFull } from "../exec/scratch.js";
import type {
  ColumnRef,
  ExprItem,
  FromItem,
  OrderItem,
  Query,
  Select,
  SelectItem,
  TableRef,
  Union,
} from "../sql/ast.js";
import { itemName } from "../sql/ast.js";
import { mysqlType } from "../sql/resultTypes.js";
import { unsupported } from "../sql/sqliteFunctions.js";
import { printSqlite } from "../sql/sqlitePrinter.js";
import { column, tableRefs } from "../sql/walk.js";
import { needsGathering, runGathered } from "./gather.js";
import { runInScanOrder } from "./scanOrder.js";
import { type Materialized, materialize, scratchColumns } from "./scratchTables.js";
import { hasSubqueries, resolveSubqueries } from "./subqueries.js";
import type { Answer, Parts } from "./types.js";

function hasDerived(from: readonly FromItem[]): boolean {
  return from.some((f) => f.kind === "derived" || (f.kind === "join" && hasDerived([f.left, f.right])));
}

/** Whether a statement needs composing (a UNION, a subquery in FROM or in an expression). */
export function isComposite(q: Query): boolean {
  return q.kind === "union" || hasDerived(q.from) || hasSubqueries(q) || needsGathering(q);
}

/** Runs a query, composing the answers of its parts on the czar where it has parts. */
export async function runQuery(q: Query, parts: Parts): Promise<Answer> {
  if (q.kind === "union") return runUnion(q, parts);
  const s = await resolveSubqueries(q, (sub) => runQuery(sub, parts));
  if (hasDerived(s.from)) return runOverDerived(s, parts);
  return needsGathering(s) ? runGathered(s, parts) : runInScanOrder(s, parts);
}

/**
 * A SELECT whose FROM holds derived tables only: each is answered, stored in a scratch table of
 * its alias's name, and the SELECT runs over them on the czar.
 */
async function runOverDerived(s: Select, parts: Parts): Promise<Answer> {
  const scratch = new Scratch(parts.scratch);
  try {
    const tables = new Map<string, Materialized>();
    const replace = async (f: FromItem): Promise<FromItem> => {
      if (f.kind === "table") throw unsupported("a join of a table with a subquery in FROM", f.pos);
      if (f.kind === "join") return { ...f, left: await replace(f.left), right: await replace(f.right) };
      const key = f.alias.toLowerCase();
      if (tables.has(key)) throw new QservError("BAD_QUERY", `Not unique table/alias: '${f.alias}'`);
      tables.set(key, await materialize(scratch, f.alias, await runQuery(f.select, parts)));
      const ref: TableRef = { kind: "table", db: null, name: f.alias, alias: null, pos: f.pos };
      return ref;
    };
    const from: FromItem[] = [];
    for (const f of s.from) from.push(await replace(f));
    const order = [...tables.values()];
    const items = s.items.flatMap((it): SelectItem[] => (it.kind === "expr" ? [it] : expandStar(it, order)));
    const { isText, columnType } = scratchColumns(order);
    const query: Select = { ...s, from, items };
    // Every name must be a column of the derived tables (or an alias where one may stand).
    checkColumns(
      query,
      tableRefs(from).map((ref) => ({ name: ref.name, ref, columns: tables.get(ref.name.toLowerCase())!.columns })),
      "",
    );
    // One table: its rows are in the order they came, which a group's first row follows.
    const rowOrder = from.length === 1 && from[0]!.kind === "table" ? column(null, "rowid") : undefined;
    const sql = printSqlite(query, { isText, ...(rowOrder === undefined ? {} : { rowOrder }) });
    const rows = await scratch.read(sql, new SizeGuard(parts.maxResultBytes));
    const exprs = items as ExprItem[];
    return { columns: exprs.map(itemName), types: exprs.map((it) => mysqlType(it.expr, columnType)), rows };
  } catch (e) {
    throw scratchFull(e);
  } finally {
    scratch.close();
  }
}

function expandStar(it: Extract<SelectItem, { kind: "allColumns" }>, tables: readonly Materialized[]): ExprItem[] {
  const from = it.table === null ? tables : tables.filter((m) => m.name.toLowerCase() === it.table!.toLowerCase());
  if (from.length === 0) throw new QservError("BAD_QUERY", `Unknown table '${it.table}'`, { ...it.pos });
  return from.flatMap((m) =>
    m.columns.map((c) => ({ kind: "expr" as const, expr: column(m.name, c), alias: null, text: c, pos: it.pos })),
  );
}

/**
 * A UNION: both sides answered, then combined on the czar (duplicates removed unless ALL, text
 * compared as MySQL's default collation does), with the union's ORDER BY (result columns by name or position)
 * and LIMIT. The result columns take the left side's names.
 */
async function runUnion(u: Union, parts: Parts): Promise<Answer> {
  const left = await runQuery(u.left, parts);
  const right = await runQuery(u.right, parts);
  if (left.columns.length !== right.columns.length) {
    throw new QservError("BAD_QUERY", "The used SELECT statements have a different number of columns", { ...u.pos });
  }
  const scratch = new Scratch(parts.scratch);
  try {
    const cols = left.columns.map((_, i) => `c${i}`);
    const l = await materialize(scratch, "_mq_left", { columns: cols, types: left.types, rows: left.rows });
    const r = await materialize(scratch, "_mq_right", { columns: cols, types: right.types, rows: right.rows });
    // Text compares as utf8mb4_general_ci (by its key); a group of equal rows shows its first row.
    const key = (c: string) => (l.text.has(c) || r.text.has(c) ? `mysql_ci(${c})` : c);
    const both = [l, r]
      .map((m, i) => `SELECT ${cols.join(", ")}, ${i} * 4294967296 + rowid AS _mq_ord FROM ${m.name}`)
      .join(" UNION ALL ");
    let sql = u.all
      ? `SELECT ${cols.join(", ")} FROM (${both})`
      : `SELECT ${cols.map((c) => `mysql_pick(${c}, _mq_ord) AS ${c}`).join(", ")} FROM (${both}) GROUP BY ${cols.map(key).join(", ")}`;
    if (u.orderBy.length > 0) {
      const keys = u.orderBy.map((o) => `${key(cols[unionOrderColumn(o, left.columns)]!)}${o.desc ? " DESC" : ""}`);
      sql = `SELECT * FROM (${sql}) ORDER BY ${keys.join(", ")}`;
    }
    if (u.limit !== null) sql += ` LIMIT ${u.limit.count} OFFSET ${u.limit.offset ?? 0}`;
    const types = left.types.map((t, i) => t ?? right.types[i] ?? null);
    return { columns: left.columns, types, rows: await scratch.read(sql, new SizeGuard(parts.maxResultBytes)) };
  } catch (e) {
    throw scratchFull(e);
  } finally {
    scratch.close();
  }
}

/** The result column an ORDER BY key of a union names, by name or position. */
function unionOrderColumn(o: OrderItem, columns: readonly string[]): number {
  const e = o.expr;
  let i = -1;
  if (e.kind === "integer") i = Number(e.text) - 1;
  else if (e.kind === "column" && e.table === null)
    i = columns.findIndex((c) => c.toLowerCase() === e.name.toLowerCase());
  else throw unsupported("ORDER BY an expression over a UNION (name a result column)", o.pos);
  if (i < 0 || i >= columns.length) {
    const what = e.kind === "integer" ? e.text : (e as ColumnRef).name;
    throw new QservError("BAD_QUERY", `Unknown column '${what}' in 'order clause'`, { ...o.pos });
  }
  return i;
}
