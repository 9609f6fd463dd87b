/**
 * Splits a SELECT into the query each chunk runs and the query that merges the chunks' rows.
 * Aggregates become partial aggregates per chunk and are recombined at the merge (COUNT → SUM of
 * counts, AVG → SUM / COUNT, MIN, MAX, SUM, BIT_AND/OR/XOR of the chunks' values; the variance
 * family from each chunk's count, mean and squared deviations; DISTINCT aggregates group the chunks by their
 * argument); GROUP BY runs per chunk and again at the merge; HAVING, ORDER BY, DISTINCT and LIMIT
 * run at the merge, and ORDER BY + LIMIT also per chunk where that is safe.
 */
import { QservError } from "../../common/errors.js";
import type { CombineSpec } from "../../common/partialCombine.js";
import { VAR_KINDS } from "../../sqlite/mysqlAggregates.js";
import { unsupported } from "../analyze/bindings.js";
import type { ColumnRef, Expr, OrderItem, Select, TableRef } from "../sql/ast.js";
import { printExpr } from "../sql/printer.js";
import { type MysqlType, mysqlType, T } from "../sql/resultTypes.js";
import { showsFirstRow, valueKind } from "../sql/valueKinds.js";
import { call, column, integer, mapChildren, visit } from "../sql/walk.js";
import { combineSpec } from "./combineSpec.js";

/** The table chunk rows are merged in; its columns are c0, c1, ... */
export const MERGE_TABLE = "_mq_merge";

/** The variance family: chunks send their moments (_MQ_VAR_PART), the czar combines them. */
const VARIANCES: Record<string, number> = {
  STD: VAR_KINDS.STDDEV_POP,
  STDDEV: VAR_KINDS.STDDEV_POP,
  STDDEV_POP: VAR_KINDS.STDDEV_POP,
  STDDEV_SAMP: VAR_KINDS.STDDEV_SAMP,
  VARIANCE: VAR_KINDS.VAR_POP,
  VAR_POP: VAR_KINDS.VAR_POP,
  VAR_SAMP: VAR_KINDS.VAR_SAMP,
};
const BITS = new Set(["BIT_AND", "BIT_OR", "BIT_XOR"]);
const SPLITTABLE = new Set(["COUNT", "SUM", "MIN", "MAX", "AVG", ...Object.keys(VARIANCES), ...BITS]);
const AGGREGATES = new Set([...SPLITTABLE, "GROUP_CONCAT", "JSON_ARRAYAGG", "JSON_OBJECTAGG"]);

export function isAggregateCall(e: Expr): boolean {
  return (e.kind === "call" && AGGREGATES.has(e.name.toUpperCase())) || e.kind === "groupConcat";
}

/** Whether `e` aggregates rows; a window function does not (an aggregate inside its arguments does). */
export function hasAggregate(e: Expr): boolean {
  let found = false;
  visit(e, (x) => {
    if (x.kind === "window") {
      found ||= [...x.call.args, ...x.partitionBy, ...x.orderBy.map((o) => o.expr)].some(hasAggregate);
      return false;
    }
    if (isAggregateCall(x)) found = true;
    return !found;
  });
  return found;
}

function hasColumn(e: Expr): boolean {
  let found = false;
  visit(e, (x) => {
    if (x.kind === "column") found = true;
    return !found;
  });
  return found;
}

/** The query each chunk runs, as parts: printed later with the chunk's table names. */
export interface ChunkQuery {
  /** Output expressions; chunk column i is printed `AS c<i>`. */
  items: Expr[];
  distinct: boolean;
  groupBy: Expr[];
  orderBy: OrderItem[];
  limit: number | null;
}

export type Split =
  /** Chunk rows are the answer: concatenated; `limit`/`offset` applied while streaming. */
  | { kind: "concat"; chunk: ChunkQuery; limit: number | null; offset: number }
  /**
   * Chunk rows go into MERGE_TABLE and `merge` computes the answer; `rowOrder` is the chunk
   * column holding each chunk group's first row order (null: none), `text` which chunk columns
   * hold text.
   */
  | {
      kind: "merge";
      chunk: ChunkQuery;
      merge: Select;
      rowOrder: ColumnRef | null;
      text: boolean[];
      types: Array<MysqlType | null>;
      /** How an aggregating query's partial rows combine by group before the merge (null: they don't). */
      combine: CombineSpec | null;
    };

export interface SplitOptions {
  /** Whether a column holds text (compared, grouped and sorted by the collation). */
  isText: (c: ColumnRef) => boolean;
  /** The rows' order in MySQL (the director key), which picks a group's first row; null: none. */
  rowOrder: Expr | null;
  /** A column's MySQL type (null: unknown). */
  columnType: (c: ColumnRef) => MysqlType | null;
}

/** Chunk output columns, deduplicated by expression text. */
class ChunkColumns {
  readonly exprs: Expr[] = [];
  private readonly index = new Map<string, number>();

  add(e: Expr): ColumnRef {
    const key = printExpr(e);
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.exprs.length;
      this.exprs.push(e);
      this.index.set(key, i);
    }
    return column(null, `c${i}`);
  }
}

/**
 * ORDER BY / HAVING / GROUP BY terms with select-list aliases and positions (`ORDER BY 2`)
 * replaced by the items' expressions. `isTableColumn` tells a bare name that is also a table
 * column (GROUP BY prefers the column, as MySQL does).
 */
export function resolveAliases(
  e: Expr,
  s: Select,
  clause: "order" | "group" | "having",
  isTableColumn: (c: ColumnRef) => boolean,
): Expr {
  const items = s.items.flatMap((it) => (it.kind === "expr" ? [it] : []));
  if (clause !== "having" && e.kind === "integer") {
    const n = Number(e.text);
    const it = items[n - 1];
    if (it === undefined) {
      throw new QservError("BAD_QUERY", `Unknown column '${n}' in '${clause} clause'`, {
        line: e.pos.line,
        column: e.pos.column,
      });
    }
    return it.expr;
  }
  const sub = (x: Expr): Expr => {
    if (x.kind === "column" && x.table === null) {
      if (clause === "group" && isTableColumn(x)) return x;
      const it = items.find((i) => i.alias !== null && i.alias.toLowerCase() === x.name.toLowerCase());
      if (it !== undefined) return it.expr;
      return x;
    }
    return mapChildren(x, sub);
  };
  return sub(e);
}

/** Whether `s` groups rows: GROUP BY, or an aggregate in its select list, HAVING or ORDER BY. */
export function isAggregating(s: Select): boolean {
  return (
    s.groupBy.length > 0 ||
    s.items.some((it) => it.kind === "expr" && hasAggregate(it.expr)) ||
    (s.having !== null && hasAggregate(s.having)) ||
    s.orderBy.some((o) => hasAggregate(o.expr))
  );
}

/** Splits `s` (stars expanded, aliases resolved in groupBy/having/orderBy) for chunk + merge. */
export function splitSelect(
  s: Select,
  o: SplitOptions = { isText: () => false, rowOrder: null, columnType: () => null },
): Split {
  const isText = (e: Expr) => valueKind(e, o.isText) === "text";
  const typeOf = (e: Expr) => mysqlType(e, o.columnType);
  const items = s.items.map((it) => {
    if (it.kind !== "expr") throw new QservError("INTERNAL", "splitSelect: * not expanded");
    return it.expr;
  });
  const aggregate = s.having !== null || isAggregating(s);
  const offset = s.limit?.offset ?? 0;
  const pushedLimit = s.limit === null ? null : s.limit.count + offset;
  if (!aggregate && !s.distinct && s.orderBy.length === 0) {
    return {
      kind: "concat",
      chunk: { items, distinct: false, groupBy: [], orderBy: [], limit: pushedLimit },
      limit: s.limit?.count ?? null,
      offset,
    };
  }
  const cols = new ChunkColumns();
  const distinctArgs: Expr[] = [];
  const split = (e: Expr): Expr => {
    if (e.kind === "call" && isAggregateCall(e)) return splitAggregate(e);
    if (!hasAggregate(e)) return hasColumn(e) ? cols.add(e) : e;
    return mapChildren(e, split);
  };
  const splitAggregate = (e: Extract<Expr, { kind: "call" }>): Expr => {
    const name = e.name.toUpperCase();
    if (!SPLITTABLE.has(name)) throw unsupported(`the aggregate ${e.name}() over several chunks`, e.pos);
    const arg = e.args[0];
    if (arg !== undefined && name in VARIANCES) {
      if (e.distinct) throw unsupported(`${e.name}(DISTINCT ...)`, e.pos);
      return call("_MQ_VAR_MERGE", [cols.add(call("_MQ_VAR_PART", [arg])), integer(VARIANCES[name]!)]);
    }
    if (arg !== undefined && BITS.has(name)) {
      // Over bits, a merge of the chunks' partial results is the aggregate again.
      if (e.distinct) throw unsupported(`${e.name}(DISTINCT ...)`, e.pos);
      return call(name, [cols.add(call(`_MQ_${name}_PART`, [arg]))]);
    }
    if (e.distinct && name !== "MIN" && name !== "MAX") {
      if (arg === undefined || (e.args.length !== 1 && name !== "COUNT"))
        throw unsupported(`${e.name}(DISTINCT ...) of several expressions`, e.pos);
      distinctArgs.push(...e.args);
      return { ...e, args: e.args.map((a) => cols.add(a)) };
    }
    const plain = { ...e, distinct: false };
    if ((name === "MIN" || name === "MAX") && o.rowOrder !== null && arg !== undefined && isText(arg)) {
      // Text: the chunks' extremes with the row order of their rows, ties going to the first row.
      const order = cols.add(call(`_MQ_${name}_ORDER`, [arg]));
      return call(`_MQ_${name}`, [cols.add(plain), order]);
    }
    switch (name) {
      case "COUNT":
        return call("COALESCE", [call("SUM", [cols.add(plain)]), integer(0)]);
      case "SUM":
        return call("SUM", [cols.add(plain)]);
      case "MIN":
      case "MAX":
        return call(name, [cols.add(plain)]);
      default: {
        // AVG
        if (arg === undefined) throw unsupported("AVG()", e.pos);
        const sum = cols.add(call("SUM", [arg]));
        const count = cols.add(call("COUNT", [arg]));
        const t = typeOf(e);
        if (t?.type === T.NEWDECIMAL) {
          // Exact: MySQL's DECIMAL average, at its scale.
          return call("_MQ_DIV", [call("SUM", [sum]), call("SUM", [count]), integer(t.decimals)]);
        }
        return { kind: "binary", op: "/", left: call("SUM", [sum]), right: call("SUM", [count]), pos: e.pos };
      }
    }
  };
  const mergeItems = items.map(split);
  const mergeGroup = s.groupBy.map(split);
  const mergeHaving = s.having === null ? null : split(s.having);
  const visibleCols = cols.exprs.length;
  const mergeOrder = s.orderBy.map((x) => ({ ...x, expr: split(x.expr) }));
  const picks = aggregate && o.rowOrder !== null && items.some((e) => showsFirstRow(e, s.groupBy, o.isText));
  const rowOrder = picks && o.rowOrder !== null ? cols.add(call("MIN", [o.rowOrder])) : null;
  if (s.distinct && !aggregate && cols.exprs.length > visibleCols) {
    throw new QservError("BAD_QUERY", "ORDER BY terms of a SELECT DISTINCT must be in the select list", {
      line: s.pos.line,
      column: s.pos.column,
    });
  }
  const pushOrder = !aggregate && pushedLimit !== null;
  const mergeFrom: TableRef = { kind: "table", db: null, name: MERGE_TABLE, alias: null, pos: s.pos };
  const chunkGroupBy =
    aggregate && (s.groupBy.length > 0 || distinctArgs.length > 0) ? [...s.groupBy, ...distinctArgs] : [];
  const combine = aggregate
    ? combineSpec({
        items: cols.exprs,
        groupBy: chunkGroupBy,
        orderColumn: rowOrder?.name ?? null,
        isText,
        isAggregate: isAggregateCall,
        typeOf,
      })
    : null;
  return {
    kind: "merge",
    chunk: {
      items: cols.exprs,
      distinct: s.distinct && !aggregate,
      groupBy: chunkGroupBy,
      orderBy: pushOrder ? s.orderBy : [],
      limit: pushOrder ? pushedLimit : null,
    },
    merge: {
      kind: "select",
      distinct: s.distinct,
      items: mergeItems.map((expr) => ({ kind: "expr", expr, alias: null, text: "", pos: s.pos })),
      from: [mergeFrom],
      where: null,
      groupBy: mergeGroup,
      rollup: false,
      having: mergeHaving,
      orderBy: mergeOrder,
      limit: s.limit,
      pos: s.pos,
    },
    rowOrder,
    text: cols.exprs.map(isText),
    types: cols.exprs.map(typeOf),
    combine,
  };
}
