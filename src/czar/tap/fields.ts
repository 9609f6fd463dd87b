/**
 * VOTable field types: from a table config's MySQL column type (TAP_SCHEMA, VOSI tables) and
 * from a result column's MySQL type (query results), so types come from the schema, not values.
 */
import type { ColumnConfig } from "../../common/ingestConfig.js";
import type { ResultColumnInfo } from "../czar.js";
import { T } from "../sql/resultTypes.js";

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
