/**
 * Queries that cannot be split into per-chunk parts — window functions, GROUP_CONCAT, ROLLUP — run
 * gathered: the chunks send the columns the query uses (their WHERE and joins applied there),
 * and the whole query runs on the czar over those rows.
 */
import { badQuery } from "../analyze/bindings.js";
import { SizeGuard } from "../exec/resultLimit.js";
import { Scratch, scratchFull } from "../exec/scratch.js";
import type { Call, ColumnRef, Expr, ExprItem, Select, SelectItem, TableRef } from "../sql/ast.js";
import { itemName } from "../sql/ast.js";
import { printExpr } from "../sql/printer.js";
import { mysqlType } from "../sql/resultTypes.js";
import { unsupported } from "../sql/sqliteFunctions.js";
import { printSqlite } from "../sql/sqlitePrinter.js";
import { valueKind } from "../sql/valueKinds.js";
import { andAll, call, column, integer, mapChildren, visit } from "../sql/walk.js";
import { runInScanOrder } from "./scanOrder.js";
import { materialize, scratchColumns } from "./scratchTables.js";
import type { Answer, Parts } from "./types.js";

/** The select list's expressions. */
const itemExprs = (s: Select): Expr[] => s.items.flatMap((it) => (it.kind === "expr" ? [it.expr] : []));

/** GROUP BY, HAVING and ORDER BY: where a bare name may be a select alias. */
const clauseExprs = (s: Select): Expr[] => [
  ...s.groupBy,
  ...(s.having === null ? [] : [s.having]),
  ...s.orderBy.map((o) => o.expr),
];

/** The expressions the czar evaluates after gathering: all but WHERE and the FROM list. */
function gatheredExprs(s: Select): Expr[] {
  return [...itemExprs(s), ...clauseExprs(s)];
}

/** Whether `s` has a window function or a GROUP_CONCAT, or groups WITH ROLLUP. */
export function needsGathering(s: Select): boolean {
  let found = s.rollup;
  for (const e of gatheredExprs(s)) {
    visit(e, (x) => {
      if (x.kind === "window" || x.kind === "groupConcat") found = true;
      return !found;
    });
  }
  return found;
}

/**
 * The select list with select aliases in windows replaced by their items' expressions, as
 * MariaDB reads them: in a window's ORDER BY an alias comes before a column of its name, in its
 * PARTITION BY after one; an alias standing for a window function is refused there.
 */
function windowAliases(items: readonly SelectItem[], isTableColumn: (c: ColumnRef) => boolean): SelectItem[] {
  const byAlias = new Map<string, Expr>();
  for (const it of items) if (it.kind === "expr" && it.alias !== null) byAlias.set(it.alias.toLowerCase(), it.expr);
  const inSpec =
    (columnsFirst: boolean) =>
    (e: Expr): Expr => {
      const aliased = e.kind === "column" && e.table === null ? byAlias.get(e.name.toLowerCase()) : undefined;
      if (aliased === undefined || (columnsFirst && isTableColumn(e as ColumnRef))) {
        return mapChildren(e, inSpec(columnsFirst));
      }
      let window = false;
      visit(aliased, (x) => {
        if (x.kind === "window") window = true;
        return !window;
      });
      if (window) throw badQuery("Window function is not allowed in window specification", e.pos);
      return aliased;
    };
  const outside = (e: Expr): Expr => {
    if (e.kind !== "window") return mapChildren(e, outside);
    return {
      ...e,
      call: mapChildren(e.call, outside) as Call,
      partitionBy: e.partitionBy.map(inSpec(true)),
      orderBy: e.orderBy.map((o) => ({ ...o, expr: inSpec(false)(o.expr) })),
    };
  };
  return items.map((it) => (it.kind === "expr" ? { ...it, expr: outside(it.expr) } : it));
}

export async function runGathered(written: Select, parts: Parts): Promise<Answer> {
  const star = written.items.find((it) => it.kind === "allColumns");
  if (star !== undefined) throw unsupported("* in a query with window functions or GROUP_CONCAT", star.pos);
  const s: Select = { ...written, items: windowAliases(written.items, (c) => parts.isTableColumn(written, c)) };
  const aliases = new Set(
    s.items.flatMap((it) => (it.kind === "expr" && it.alias !== null ? [it.alias.toLowerCase()] : [])),
  );
  // Each distinct column reference becomes a gathered column _mq_g<i>. A select alias names its
  // item in GROUP BY, HAVING and ORDER BY; in the select list (windows' aliases already replaced)
  // a name is always the table's column, as in MySQL.
  const refs = new Map<string, { ref: ColumnRef; name: string }>();
  const isAlias = (c: ColumnRef) => c.table === null && aliases.has(c.name.toLowerCase());
  const gather = (aliasesSeen: boolean) => (e: Expr) =>
    visit(e, (x) => {
      if (x.kind === "column" && !(aliasesSeen && isAlias(x)) && !refs.has(printExpr(x)))
        refs.set(printExpr(x), { ref: x, name: `_mq_g${refs.size}` });
    });
  itemExprs(s).forEach(gather(false));
  clauseExprs(s).forEach(gather(true));
  const gathered = [...refs.values()];
  const inner: Select = {
    ...s,
    distinct: false,
    items:
      gathered.length === 0
        ? [{ kind: "expr", expr: { kind: "integer", text: "1", pos: s.pos }, alias: "_mq_g", text: "1", pos: s.pos }]
        : gathered.map((g) => ({ kind: "expr", expr: g.ref, alias: g.name, text: g.name, pos: g.ref.pos })),
    groupBy: [],
    rollup: false,
    having: null,
    orderBy: [],
    limit: null,
  };
  const rows = await runInScanOrder(inner, parts);
  const scratch = new Scratch(parts.scratch);
  try {
    const table = await materialize(scratch, "_mq_gathered", rows);
    const mapRefs =
      (aliasesSeen: boolean) =>
      (e: Expr): Expr => {
        if (e.kind === "column" && !(aliasesSeen && isAlias(e))) return column(null, refs.get(printExpr(e))!.name);
        return mapChildren(e, mapRefs(aliasesSeen));
      };
    const m = mapRefs(true);
    const items: ExprItem[] = s.items.map((it) => {
      const x = it as ExprItem;
      return { ...x, expr: mapRefs(false)(x.expr), alias: itemName(x) };
    });
    const from: TableRef = { kind: "table", db: null, name: table.name, alias: null, pos: s.pos };
    const outer: Select = {
      ...s,
      items,
      from: [from],
      where: null,
      groupBy: s.groupBy.map(m),
      having: s.having === null ? null : m(s.having),
      orderBy: s.orderBy.map((o) => ({ ...o, expr: m(o.expr) })),
    };
    const { isText, columnType } = scratchColumns([table]);
    // Stored in scan order: a group shows its first row's spelling, as in MySQL.
    const print = (q: Select) => printSqlite(q, { isText, rowOrder: column(null, "rowid") });
    return {
      columns: items.map((it) => it.alias!),
      types: items.map((it) => mysqlType(it.expr, columnType)),
      rows: await scratch.read(
        outer.rollup ? rollupSql(outer, print, isText) : print(outer),
        new SizeGuard(parts.maxResultBytes),
      ),
    };
  } catch (e) {
    throw scratchFull(e);
  } finally {
    scratch.close();
  }
}

/**
 * `GROUP BY g1, ..., gn WITH ROLLUP` as the union of the groupings by g1..gk, k = n..0, each
 * showing NULL for the keys it rolls up, sorted as MySQL shows them: by g1, its super-aggregate
 * row after its groups, then g2 within, and so on (text by its collation key).
 */
function rollupSql(s: Select, print: (q: Select) => string, isText: (c: ColumnRef) => boolean): string {
  const items = s.items as ExprItem[];
  // A key named by a select alias stands for that item's expression.
  const keys = s.groupBy.map((g) => {
    const item = g.kind === "column" && g.table === null ? items.find((it) => it.alias === g.name) : undefined;
    return item?.expr ?? g;
  });
  const isKey = (it: ExprItem, i: number) =>
    printExpr(it.expr) === printExpr(keys[i]!) ||
    (s.groupBy[i]!.kind === "column" && it.alias === printExpr(s.groupBy[i]!));
  const NULL: Expr = { kind: "null", pos: s.pos };
  // The items are renamed below: HAVING names them by their expressions instead.
  const byAlias = (e: Expr): Expr => {
    if (e.kind !== "column" || e.table !== null) return mapChildren(e, byAlias);
    return items.find((it) => it.alias?.toLowerCase() === e.name.toLowerCase())?.expr ?? e;
  };
  const levels: string[] = [];
  for (let k = keys.length; k >= 0; k--) {
    const rolled = (i: number) => i >= k;
    const visible = items.map((it, j) => {
      const r = keys.some((_, i) => rolled(i) && isKey(it, i));
      return { ...it, expr: r ? NULL : it.expr, alias: `_mq_c${j}` };
    });
    const hidden = keys.flatMap((key, i) => [
      { kind: "expr" as const, expr: integer(rolled(i) ? 1 : 0), alias: `_mq_r${i}`, text: "", pos: s.pos },
      { kind: "expr" as const, expr: rolled(i) ? NULL : key, alias: `_mq_k${i}`, text: "", pos: s.pos },
    ]);
    // Over no rows, MySQL's ROLLUP has no grand total either.
    const nonEmpty = k === 0 ? [call("COUNT", [integer(1)])] : [];
    const having = andAll([
      ...(s.having === null ? [] : [byAlias(s.having)]),
      ...nonEmpty.map((c) => ({ kind: "binary" as const, op: ">" as const, left: c, right: integer(0), pos: s.pos })),
    ]);
    levels.push(
      print({ ...s, rollup: false, items: [...visible, ...hidden], groupBy: keys.slice(0, k), having, limit: null }),
    );
  }
  const order = keys.flatMap((key, i) => [
    `_mq_r${i}`,
    valueKind(key, isText) === "text" ? `mysql_ci(_mq_k${i})` : `_mq_k${i}`,
  ]);
  const cols = items.map((_, j) => `_mq_c${j}`).join(", ");
  const limit = s.limit === null ? "" : ` LIMIT ${s.limit.count} OFFSET ${s.limit.offset ?? 0}`;
  return `SELECT ${cols} FROM (${levels.join(" UNION ALL ")}) ORDER BY ${order.join(", ")}${limit}`;
}
