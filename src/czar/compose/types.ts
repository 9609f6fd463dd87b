/** What the composition of queries passes around. */
import type { Value } from "../../common/rowCodec.js";
import type { SpoolBudget } from "../exec/spool.js";
import type { ColumnRef, Select } from "../sql/ast.js";
import type { MysqlType } from "../sql/resultTypes.js";

/** A query's answer: result column names (as MySQL names them), their MySQL types where known, rows. */
export interface Answer {
  columns: string[];
  types: Array<MysqlType | null>;
  rows: Value[][];
}

/** How composed queries reach the rest of the czar. */
export interface Parts {
  /** Runs a plain SELECT (no subquery, no derived table): distributed, or on the czar without FROM. */
  run(s: Select): Promise<Answer>;
  /** The column a one-table SELECT is scanned in by MySQL (its primary key), or null. */
  scanOrder(s: Select): ColumnRef | null;
  /** Whether `c` names a column of a table in the FROM list of `s` (false where `s` cannot be planned). */
  isTableColumn(s: Select, c: ColumnRef): boolean;
  /** Bytes of rows an answer combined on the czar may have (`--max-result-mb`): past it, TOO_LARGE. */
  maxResultBytes: number;
  /** Disk for the answers combined on the czar (without it, they are held in memory). */
  scratch?: SpoolBudget;
}
