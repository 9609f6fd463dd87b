/** Whether an itest query runs at all, and whether the czar's reply to it is right. */
import type { QueryFile } from "../support/itest.js";
import { tablesNamed } from "../support/itest.js";
import type { CaseData } from "../support/itestData.js";
import { compareResults, type Result, type Verdict } from "./compare.js";
import type { QueryReply } from "./czarHttp.js";
import type { Expected } from "./expected.js";

export type Outcome =
  | { status: "pass"; note?: string }
  | { status: "fail"; reason: string }
  | { status: "skip"; reason: string };

/** Why `q` is not run, or null: a known Qserv failure, or a table whose data file is absent. */
export function skipReason(q: QueryFile, data: CaseData): string | null {
  if (q.expect === "fixme") return "known Qserv failure (*.FIXME)";
  const named = new Set([...tablesNamed(q.plain), ...tablesNamed(q.qserv)].map((t) => t.toLowerCase()));
  const absent = data.tables.filter((t) => t.file === null && named.has(t.config.table.toLowerCase()));
  if (absent.length === 0) return null;
  const names = absent.map((t) => t.config.table).join(", ");
  return `names ${names}, whose data file is not in the dataset`;
}

/** The answer's `Field` column alone (SHOW COLUMNS), or its first column. */
function fieldColumn(r: Result): Result {
  const i = Math.max(
    0,
    r.columns.findIndex((c) => c.toLowerCase() === "field"),
  );
  return { columns: ["Field"], rows: r.rows.map((row) => [row[i] ?? null]) };
}

/** The reply's rows against the reference's, as the query's pragmas and shape allow. */
function compare(q: QueryFile, expected: Expected, result: Result): Verdict {
  return compareResults(expected.result, expected.fieldsOnly ? fieldColumn(result) : result, {
    noheader: q.noheader,
    sortresult: q.sortresult,
    orderBy: expected.shape.orderBy,
    orderKeys: expected.shape.orderKeys,
    limit: expected.shape.limit,
    candidates: expected.candidates,
  });
}

function describeError(reply: Extract<QueryReply, { kind: "error" }>): string {
  return `${reply.code} (HTTP ${reply.status}): ${reply.message}${reply.where}`;
}

/**
 * Judges the czar's reply to `q`; `expected` is the reference's answer (for `answer` queries, and
 * where one exists for `error` queries that got an answer, to say whether it was right).
 */
export function judgeReply(q: QueryFile, expected: Expected | null, reply: QueryReply): Outcome {
  if (reply.kind === "failed") return { status: "fail", reason: reply.detail };
  switch (q.expect) {
    case "error": {
      if (reply.kind === "error") return { status: "pass" };
      const got = `expected an error (Qserv rejects this query), got ${reply.result.rows.length} rows`;
      if (expected === null) return { status: "fail", reason: got };
      const v = compare(q, expected, reply.result);
      // Old Qserv rejected some queries for its own limits; the right answer is no failure.
      if (v.ok) return { status: "pass", note: `${got}, equal to the reference's answer` };
      return { status: "fail", reason: `${got}, unlike the reference's: ${v.reason}` };
    }
    case "qservOnly":
      return reply.kind === "answer"
        ? { status: "pass", note: "valid for Qserv but not plain SQL: answered, rows not checked" }
        : { status: "fail", reason: `Qserv answers this query; got ${describeError(reply)}` };
    case "fixme":
      return { status: "skip", reason: "known Qserv failure (*.FIXME)" };
    case "answer": {
      if (reply.kind === "error") return { status: "fail", reason: describeError(reply) };
      if (expected === null) return { status: "fail", reason: "no reference answer" };
      const v = compare(q, expected, reply.result);
      const notes = [
        v.ok ? v.note : undefined,
        expected.override ? `reference restated: ${expected.override.why}` : undefined,
      ];
      const note = notes.filter((n) => n !== undefined).join("; ");
      if (!v.ok) return { status: "fail", reason: v.reason + (note === "" ? "" : ` [${note}]`) };
      return note === "" ? { status: "pass" } : { status: "pass", note };
    }
  }
}
