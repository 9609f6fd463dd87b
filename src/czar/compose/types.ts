/** What the composition of queries passes around. */
import type { Value } from "../../common/rowCodec.js";
import type { Select } from "../sql/ast.js";
import type { MysqlType } from "../sql/resultTypes.js";

/** A query's answer: result column names (as MySQL names them), their MySQL types where known, rows. */
export interface Answer {
  columns: string[];
  types: Array<MysqlType | null>;
  rows: Value[][];
}

/** Runs a plain SELECT (no subquery, no derived table): distributed, or on the czar without FROM. */
export type SelectRunner = (s: Select) => Promise<Answer>;
