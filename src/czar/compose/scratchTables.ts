/** Answers stored in the czar's scratch SQLite database, and how queries over them see their columns. */
import { QservError } from "../../common/errors.js";
import { createScratchTable, insertRowsInTurns, type Scratch } from "../exec/scratch.js";
import type { ColumnRef } from "../sql/ast.js";
import type { MysqlType } from "../sql/resultTypes.js";
import type { Answer } from "./types.js";

/** A scratch table holding an answer; its text columns are known for MySQL's comparisons. */
export interface Materialized {
  name: string;
  columns: string[];
  types: Array<MysqlType | null>;
  text: Set<string>;
}

function textColumns(a: Answer): Set<string> {
  const out = new Set<string>();
  a.columns.forEach((c, i) => {
    if (a.rows.some((r) => typeof r[i] === "string")) out.add(c.toLowerCase());
  });
  return out;
}

/** Stores an answer as table `name` (its columns must be distinct, as MySQL requires). */
export async function materialize(scratch: Scratch, name: string, a: Answer): Promise<Materialized> {
  const seen = new Set<string>();
  for (const c of a.columns) {
    if (seen.has(c.toLowerCase())) throw new QservError("BAD_QUERY", `Duplicate column name '${c}'`);
    seen.add(c.toLowerCase());
  }
  scratch.hold(a.rows);
  createScratchTable(scratch.db, name, a.columns);
  await insertRowsInTurns(scratch.db, name, a.columns.length, a.rows);
  return { name, columns: a.columns, types: a.types, text: textColumns(a) };
}

/** What the SQLite printer and the type derivation need to know of the columns of some tables. */
export function scratchColumns(tables: readonly Materialized[]): {
  isText: (c: ColumnRef) => boolean;
  columnType: (c: ColumnRef) => MysqlType | null;
} {
  const owners = (c: ColumnRef): Materialized[] => {
    const name = c.name.toLowerCase();
    if (c.table !== null) return tables.filter((m) => m.name.toLowerCase() === c.table!.toLowerCase());
    return tables.filter((m) => m.columns.some((x) => x.toLowerCase() === name));
  };
  return {
    isText: (c) => owners(c).some((m) => m.text.has(c.name.toLowerCase())),
    columnType: (c) => {
      const m = owners(c)[0];
      const i = m?.columns.findIndex((x) => x.toLowerCase() === c.name.toLowerCase()) ?? -1;
      return m === undefined || i < 0 ? null : (m.types[i] ?? null);
    },
  };
}
