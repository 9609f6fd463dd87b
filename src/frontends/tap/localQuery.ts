/**
 * A SELECT answered on the czar from a small SQLite database of its own (TAP_SCHEMA, uploaded
 * tables): printed for SQLite, result columns typed from the columns they read, else from values.
 */
import type Database from "better-sqlite3";
import { QservError } from "../../common/errors.js";
import type { Value } from "../../common/rowCodec.js";
import { selectRows } from "../../czar/exec/scratch.js";
import type { Select } from "../../czar/sql/ast.js";
import { printSqlite } from "../../czar/sql/sqlitePrinter.js";
import type { VoField } from "./fields.js";

/**
 * Runs `s` on `db`; `declared(table, column)` gives the field of a column read as it is (its
 * name set to the result column's), `label` names the database in errors.
 */
export function queryLocal(
  db: Database.Database,
  s: Select,
  label: string,
  declared: (table: string, column: string) => VoField | undefined = () => undefined,
): { fields: VoField[]; rows: Value[][] } {
  const sql = printSqlite(s);
  let stmt: Database.Statement;
  try {
    stmt = db.prepare(sql);
  } catch (e) {
    if (e instanceof QservError) throw e;
    throw new QservError("BAD_QUERY", `${label}: ${(e as Error).message} (line ${s.pos.line}, column ${s.pos.column})`);
  }
  const rows = selectRows(db, sql);
  const fields = stmt.columns().map((c, i): VoField => {
    const d = c.table !== null && c.column !== null ? declared(c.table, c.column) : undefined;
    if (d !== undefined) return { ...d, name: c.name };
    const t = (c.type ?? "").toUpperCase();
    const v = rows.find((r) => r[i] !== null)?.[i];
    if (t === "INTEGER") return { name: c.name, datatype: "int" };
    if (t === "" && typeof v === "bigint") return { name: c.name, datatype: "long" };
    if ((t === "" || t === "REAL") && typeof v === "number") return { name: c.name, datatype: "double" };
    return { name: c.name, datatype: "char", arraysize: "*" };
  });
  return { fields, rows };
}
