/**
 * VOTable field types: from a table config's MySQL column type (TAP_SCHEMA, VOSI tables) and
 * from a result column's MySQL type (query results), so types come from the schema, not values.
 */
import type { ColumnConfig } from "../../common/ingestConfig.js";
import type { CzarCatalog } from "../../czar/catalog.js";
import type { ResultColumnInfo } from "../../czar/czar.js";
import type { Select } from "../../czar/sql/ast.js";
import { T } from "../../czar/sql/resultTypes.js";
import { tableRefs } from "../../czar/sql/walk.js";

export type VoDatatype = "long" | "int" | "short" | "double" | "float" | "char" | "unsignedByte";

export interface VoField {
  name: string;
  datatype: VoDatatype;
  /** "*" variable, "n" fixed, "n*" at most n; absent for scalars. */
  arraysize?: string;
  xtype?: string;
  unit?: string;
  ucd?: string;
  description?: string;
  /** An integer column's declared null value (VOTable VALUES null), written for NULL. */
  nullValue?: string;
}

/** The VOTable type of a MySQL column type as written in a config, e.g. "bigint(20) NOT NULL". */
export function fieldOfConfig(c: ColumnConfig): VoField {
  const t = c.type.toLowerCase();
  const unsigned = /\bunsigned\b/.test(t);
  const meta = { name: c.name, unit: c.unit, ucd: c.ucd, description: c.description };
  const n = /^\w+\s*\((\d+)/.exec(t)?.[1];
  let f: Omit<VoField, "name">;
  if (/^bigint/.test(t)) f = { datatype: "long" };
  else if (/^(int|integer|mediumint)\b/.test(t)) f = { datatype: unsigned ? "long" : "int" };
  else if (/^(smallint|tinyint|bool)/.test(t)) f = { datatype: unsigned && /^smallint/.test(t) ? "int" : "short" };
  else if (/^float/.test(t)) f = { datatype: "float" };
  else if (/^(double|real|decimal|numeric)/.test(t)) f = { datatype: "double" };
  else if (/^char/.test(t)) f = { datatype: "char", arraysize: n ?? "1" };
  else if (/^varchar/.test(t)) f = { datatype: "char", arraysize: n === undefined ? "*" : `${n}*` };
  else if (/^(datetime|timestamp)/.test(t)) f = { datatype: "char", arraysize: "*", xtype: "timestamp" };
  else if (/^(binary|varbinary|\w*blob)/.test(t)) f = { datatype: "unsignedByte", arraysize: "*" };
  else f = { datatype: "char", arraysize: "*" };
  return { ...meta, ...f };
}

/** The VOTable type of a result column: the MySQL type the planner derived, else the storage class. */
export function fieldOfResult(c: ResultColumnInfo): VoField {
  const m = c.mysql;
  if (m !== undefined && m !== null) {
    switch (m.type) {
      case T.LONGLONG:
        return { name: c.name, datatype: "long" };
      case T.LONG:
      case T.INT24:
        return { name: c.name, datatype: m.unsigned ? "long" : "int" };
      case T.SHORT:
      case T.TINY:
        return { name: c.name, datatype: m.unsigned && m.type === T.SHORT ? "int" : "short" };
      case T.FLOAT:
        return { name: c.name, datatype: "float" };
      case T.DOUBLE:
      case T.NEWDECIMAL:
        return { name: c.name, datatype: "double" };
      case T.DATETIME:
        return { name: c.name, datatype: "char", arraysize: "*", xtype: "timestamp" };
      default:
        return { name: c.name, datatype: m.binary ? "unsignedByte" : "char", arraysize: "*" };
    }
  }
  switch (c.type) {
    case "INTEGER":
      return { name: c.name, datatype: "long" };
    case "REAL":
      return { name: c.name, datatype: "double" };
    case "BLOB":
      return { name: c.name, datatype: "unsignedByte", arraysize: "*" };
    default:
      return { name: c.name, datatype: "char", arraysize: "*" };
  }
}

/**
 * Unit, UCD and description of the result columns that are table columns as they are (a column
 * reference not renamed, or one of `*`), taken from the FROM tables' configs.
 */
export function describeResult(fields: VoField[], s: Select, catalog: CzarCatalog): VoField[] {
  const tables = tableRefs(s.from).flatMap((t) => {
    const m = t.db === null ? null : catalog.table(t.db, t.name);
    return m === null ? [] : [{ alias: (t.alias ?? t.name).toLowerCase(), columns: m.config.schema }];
  });
  const star = s.items.filter((it) => it.kind === "allColumns").map((it) => it.table?.toLowerCase() ?? null);
  const plain = new Map<string, string | null>(); // result name → the column's table, if named
  for (const it of s.items) {
    if (it.kind === "expr" && it.expr.kind === "column" && (it.alias === null || it.alias === it.expr.name)) {
      plain.set(it.expr.name.toLowerCase(), it.expr.table?.toLowerCase() ?? null);
    }
  }
  return fields.map((f) => {
    const name = f.name.toLowerCase();
    const from = plain.has(name) ? plain.get(name)! : star.length > 0 ? (star.includes(null) ? null : star) : undefined;
    if (from === undefined) return f;
    const t = tables.find(
      (t) =>
        (from === null || (Array.isArray(from) ? from.includes(t.alias) : t.alias === from)) &&
        t.columns.some((c) => c.name.toLowerCase() === name),
    );
    const c = t?.columns.find((c) => c.name.toLowerCase() === name);
    return c === undefined ? f : { ...f, unit: c.unit, ucd: c.ucd, description: c.description };
  });
}
