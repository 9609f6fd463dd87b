/** SHOW DATABASES / TABLES / COLUMNS and DESCRIBE, answered from the czar's metadata. */
import { QservError } from "../common/errors.js";
import type { Value } from "../common/rowCodec.js";
import { quoteIdent } from "../sqlite/types.js";
import type { CzarCatalog } from "./catalog.js";
import { createScratchTable, insertRows, scratchDb, selectRows } from "./exec/scratch.js";
import type { Describe, ShowColumns, ShowDatabases, ShowFilter, ShowTables } from "./sql/ast.js";
import { printSqliteExpr } from "./sql/sqlitePrinter.js";

export interface Listing {
  columns: string[];
  rows: Value[][];
}

/** Applies `LIKE 'pattern'` (on the first column) or `WHERE expr` to a listing. */
function filtered(l: Listing, f: ShowFilter | null): Listing {
  if (f === null) return l;
  const db = scratchDb();
  try {
    createScratchTable(db, "t", l.columns);
    insertRows(db, "t", l.columns.length, l.rows);
    const rows =
      f.kind === "like"
        ? selectRows(db, `SELECT * FROM t WHERE ${quoteIdent(l.columns[0]!)} LIKE ?`, [f.pattern])
        : selectRows(db, `SELECT * FROM t WHERE ${printSqliteExpr(f.expr)}`);
    return { columns: l.columns, rows };
  } catch (e) {
    if (e instanceof QservError) throw e;
    throw new QservError("BAD_QUERY", `bad SHOW filter: ${(e as Error).message}`);
  }
}

function dbOrError(cat: CzarCatalog, name: string | null): string {
  if (name === null) throw new QservError("BAD_QUERY", "No database selected");
  if (cat.database(name) === null) throw new QservError("BAD_QUERY", `Unknown database '${name}'`);
  return name;
}

export function showDatabases(cat: CzarCatalog, s: ShowDatabases): Listing {
  return filtered({ columns: ["Database"], rows: cat.databases().map((d) => [d.database]) }, s.filter);
}

export function showTables(cat: CzarCatalog, s: ShowTables, current: string | null): Listing {
  const db = dbOrError(cat, s.db ?? current);
  const rows: Value[][] = cat.tables(db).map((t) => (s.full ? [t.name, "BASE TABLE"] : [t.name]));
  const columns = s.full ? [`Tables_in_${db}`, "Table_type"] : [`Tables_in_${db}`];
  return filtered({ columns, rows }, s.filter);
}

/** MySQL's DESCRIBE columns from a config type such as "bigint(20) NOT NULL DEFAULT '0'". */
function describeType(mysqlType: string): { type: string; nullable: boolean; dflt: string | null } {
  const m = /^(.*?)(\s+NOT\s+NULL|\s+NULL|\s+DEFAULT\s|\s+AUTO_INCREMENT|\s+COMMENT\s|$)/i.exec(mysqlType.trim());
  const type = (m?.[1] ?? mysqlType).trim();
  const nullable = !/\bNOT\s+NULL\b/i.test(mysqlType);
  const d = /\bDEFAULT\s+('((?:[^']|'')*)'|\S+)/i.exec(mysqlType);
  let dflt: string | null = null;
  if (d !== null)
    dflt = d[2] !== undefined ? d[2].replaceAll("''", "'") : d[1]!.toUpperCase() === "NULL" ? null : d[1]!;
  return { type, nullable, dflt };
}

export function showColumns(cat: CzarCatalog, s: ShowColumns | Describe, current: string | null): Listing {
  const db = dbOrError(cat, s.db ?? current);
  const t = cat.table(db, s.table);
  if (t === null) throw new QservError("BAD_QUERY", `Table '${db}.${s.table}' doesn't exist`);
  const rows: Value[][] = t.config.schema.map((c) => {
    const d = describeType(c.type);
    const isKey = t.kind !== "replicated" && c.name === t.config.directorKey;
    return [c.name, d.type, d.nullable ? "YES" : "NO", isKey ? "MUL" : "", d.dflt, ""];
  });
  const l = { columns: ["Field", "Type", "Null", "Key", "Default", "Extra"], rows };
  return s.kind === "describe" ? l : filtered(l, s.filter);
}
