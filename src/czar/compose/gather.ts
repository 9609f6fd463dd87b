/**
 * Queries that cannot be split into per-chunk parts — window functions, GROUP_CONCAT — run
 * gathered: the chunks send the columns the query uses (their WHERE and joins applied there),
 * and the whole query runs on the czar over those rows.
 */
import { SizeGuard } from "../exec/resultLimit.js";
import { scratchDb, selectRows } from "../exec/scratch.js";
import type { ColumnRef, Expr, ExprItem, Select, TableRef } from "../sql/ast.js";
import { itemName } from "../sql/ast.js";
import { printExpr } from "../sql/printer.js";
import { mysqlType } from "../sql/resultTypes.js";
import { unsupported } from "../sql/sqliteFunctions.js";
import { printSqlite } from "../sql/sqlitePrinter.js";
import { column, mapChildren, visit } from "../sql/walk.js";
import { runInScanOrder } from "./scanOrder.js";
import { materialize, scratchColumns } from "./scratchTables.js";
import type { Answer, Parts } from "./types.js";

/** The expressions the czar evaluates after gathering: all but WHERE and the FROM list. */
function gatheredExprs(s: Select): Expr[] {
  return [
    ...s.items.flatMap((it) => (it.kind === "expr" ? [it.expr] : [])),
    ...s.groupBy,
    ...(s.having === null ? [] : [s.having]),
    ...s.orderBy.map((o) => o.expr),
  ];
}

/** Whether `s` has a window function or a GROUP_CONCAT. */
export function needsGathering(s: Select): boolean {
  let found = false;
  for (const e of gatheredExprs(s)) {
    visit(e, (x) => {
      if (x.kind === "window" || x.kind === "groupConcat") found = true;
      return !found;
    });
  }
  return found;
}

export async function runGathered(s: Select, parts: Parts): Promise<Answer> {
  const star = s.items.find((it) => it.kind === "allColumns");
  if (star !== undefined) throw unsupported("* in a query with window functions or GROUP_CONCAT", star.pos);
  const aliases = new Set(
    s.items.flatMap((it) => (it.kind === "expr" && it.alias !== null ? [it.alias.toLowerCase()] : [])),
  );
  // Each distinct column reference becomes a gathered column _mq_g<i>; select aliases stay.
  const refs = new Map<string, { ref: ColumnRef; name: string }>();
  const isAlias = (c: ColumnRef) => c.table === null && aliases.has(c.name.toLowerCase());
  for (const e of gatheredExprs(s)) {
    visit(e, (x) => {
      if (x.kind === "column" && !isAlias(x) && !refs.has(printExpr(x)))
        refs.set(printExpr(x), { ref: x, name: `_mq_g${refs.size}` });
    });
  }
  const gathered = [...refs.values()];
  const inner: Select = {
    ...s,
    distinct: false,
    items:
      gathered.length === 0
        ? [{ kind: "expr", expr: { kind: "integer", text: "1", pos: s.pos }, alias: "_mq_g", text: "1", pos: s.pos }]
        : gathered.map((g) => ({ kind: "expr", expr: g.ref, alias: g.name, text: g.name, pos: g.ref.pos })),
    groupBy: [],
    having: null,
    orderBy: [],
    limit: null,
  };
  const rows = await runInScanOrder(inner, parts);
  const db = scratchDb();
  try {
    const table = materialize(db, "_mq_gathered", rows);
    const m = (e: Expr): Expr => {
      if (e.kind === "column" && !isAlias(e)) return column(null, refs.get(printExpr(e))!.name);
      return mapChildren(e, m);
    };
    const items: ExprItem[] = s.items.map((it) => {
      const x = it as ExprItem;
      return { ...x, expr: m(x.expr), alias: itemName(x) };
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
    return {
      columns: items.map((it) => it.alias!),
      types: items.map((it) => mysqlType(it.expr, columnType)),
      // Stored in scan order: a group shows its first row's spelling, as in MySQL.
      rows: selectRows(
        db,
        printSqlite(outer, { isText, rowOrder: column(null, "rowid") }),
        [],
        new SizeGuard(parts.maxResultBytes),
      ),
    };
  } finally {
    db.close();
  }
}
