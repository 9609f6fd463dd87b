/**
 * The expected answer of an itest query: its `noQserv` form (or a listed override) run in the
 * case's reference SQLite; for SHOW COLUMNS, the column names of the table's ingest config.
 */
import Database from "better-sqlite3";
import { toJsonValue } from "../../src/common/jsonValue.js";
import type { Value } from "../../src/common/rowCodec.js";
import type { QueryFile } from "../support/itest.js";
import type { CaseData } from "../support/itestData.js";
import type { Result } from "./compare.js";
import { type QueryShape, queryShape, stripComments } from "./queryShape.js";
import { REFERENCE_OVERRIDES, type ReferenceOverride } from "./referenceOverrides.js";
import type { Row } from "./values.js";

export interface Expected {
  result: Result;
  shape: QueryShape;
  /** SHOW COLUMNS: only the answer's `Field` column is compared. */
  fieldsOnly: boolean;
  /** The reference's rows without the query's LIMIT, computed on demand. */
  candidates: () => Row[] | null;
  /** Set when the reference ran a listed restatement instead of the file's text. */
  override: ReferenceOverride | null;
}

/** The reference could not produce an answer: a problem of the suite or the reference, reported as such. */
export class ReferenceFailure extends Error {}

/** Runs `sql` in the reference, values in their JSON form. */
export function referenceRows(db: Database.Database, sql: string): Result {
  const stmt = db.prepare(sql);
  if (!stmt.reader) throw new ReferenceFailure("the reference text returns no rows");
  const rows = stmt.raw(true).safeIntegers(true).all() as Value[][];
  return { columns: stmt.columns().map((c) => c.name), rows: rows.map((r) => r.map(toJsonValue)) };
}

const SHOW_COLUMNS =
  /^\s*SHOW\s+(?:FULL\s+)?(?:COLUMNS|FIELDS)\s+(?:FROM|IN)\s+([`\w.]+)(?:\s+(?:FROM|IN)\s+[`\w]+)?(?:\s+(LIKE|WHERE)\s+([\s\S]*?))?\s*;?\s*$/i;

/** `SHOW COLUMNS FROM t [LIKE p | WHERE e]`: the config's column names, filtered in a scratch SQLite. */
function showColumns(sql: string, data: CaseData): Result | null {
  const m = SHOW_COLUMNS.exec(stripComments(sql));
  if (m === null) return null;
  const name = (m[1] as string).replaceAll("`", "").split(".").pop() as string;
  const table = data.tables.find((t) => t.config.table === name);
  if (table === undefined) throw new ReferenceFailure(`SHOW COLUMNS: ${data.name} has no ingest config for ${name}`);
  const db = new Database(":memory:");
  try {
    db.exec("CREATE TABLE cols (Field TEXT, pos INTEGER)");
    const ins = db.prepare("INSERT INTO cols VALUES (?, ?)");
    for (const [i, c] of table.config.schema.entries()) ins.run(c.name, i);
    const filter =
      m[2] === undefined ? "" : m[2].toUpperCase() === "LIKE" ? `WHERE Field LIKE ${m[3]}` : `WHERE ${m[3]}`;
    const rows = db.prepare(`SELECT Field FROM cols ${filter} ORDER BY pos`).raw(true).all() as string[][];
    return { columns: ["Field"], rows };
  } catch (e) {
    throw new ReferenceFailure(`SHOW COLUMNS filter: ${(e as Error).message}`);
  } finally {
    db.close();
  }
}

/** The expected answer of `q`; throws ReferenceFailure when the reference cannot give one. */
export function expectedAnswer(db: Database.Database, q: QueryFile, data: CaseData): Expected {
  const shown = showColumns(q.plain, data);
  if (shown !== null) {
    const shape = { orderBy: true, orderKeys: [0], limit: false, unlimited: null };
    return { result: shown, shape, fieldsOnly: true, candidates: () => null, override: null };
  }
  const override = REFERENCE_OVERRIDES[q.rel] ?? null;
  const sql = override?.sql ?? q.plain;
  let result: Result;
  try {
    result = referenceRows(db, sql);
  } catch (e) {
    if (e instanceof ReferenceFailure) throw e;
    throw new ReferenceFailure(`SQLite rejects the noQserv form: ${(e as Error).message}`);
  }
  const shape = queryShape(sql, result.columns);
  let cached: Row[] | null | undefined;
  const candidates = (): Row[] | null => {
    if (cached === undefined) {
      try {
        cached = shape.unlimited === null ? null : referenceRows(db, shape.unlimited).rows;
      } catch {
        cached = null;
      }
    }
    return cached;
  };
  return { result, shape, fieldsOnly: false, candidates, override };
}
