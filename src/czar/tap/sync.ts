/**
 * `/tap/sync`: one ADQL query (LANG=ADQL, QUERY, REQUEST=doQuery, RESPONSEFORMAT/FORMAT, MAXREC)
 * parsed into the czar's AST, run by the czar (or on TAP_SCHEMA), written as VOTable or CSV.
 */
import { QservError } from "../../common/errors.js";
import type { Czar } from "../czar.js";
import type { Query, Statement } from "../sql/ast.js";
import { parseStatement } from "../sql/parser.js";
import { printMysql } from "../sql/printer.js";
import { describeResult, fieldOfResult } from "./fields.js";
import { queryTapSchema, readsTapSchema } from "./tapSchema.js";
import { DEFAULT_MAXREC, HARD_MAXREC } from "./vosi.js";
import { CONTENT_TYPE, type Serialization, writeResult } from "./votable.js";

/** RESPONSEFORMAT values (lower case, spaces removed) and what they ask for. */
const FORMATS: Record<string, Serialization> = {
  votable: "binary2",
  "application/x-votable+xml": "binary2",
  "text/xml": "binary2",
  "application/x-votable+xml;serialization=binary2": "binary2",
  "votable/b2": "binary2",
  binary2: "binary2",
  "votable/td": "tabledata",
  tabledata: "tabledata",
  "application/x-votable+xml;serialization=tabledata": "tabledata",
  csv: "csv",
  "text/csv": "csv",
  "text/csv;header=present": "csv",
  tsv: "tsv",
  "text/tab-separated-values": "tsv",
  json: "json",
  "application/json": "json",
};

const bad = (m: string) => new QservError("BAD_ARGUMENT", m);

export interface SyncAnswer {
  contentType: string;
  body: string;
}

/** `params`: the request's parameters, names upper-cased (DALI names are case-insensitive). */
export async function syncQuery(czar: Czar, params: Map<string, string>, signal: AbortSignal): Promise<SyncAnswer> {
  const request = params.get("REQUEST");
  if (request !== undefined && request !== "doQuery") throw bad(`REQUEST=${request} is not supported (doQuery is)`);
  const lang = params.get("LANG");
  if (lang === undefined) throw bad("LANG is required (LANG=ADQL)");
  if (!/^ADQL(-2\.[01])?$/i.test(lang)) throw bad(`LANG=${lang} is not supported (ADQL is)`);
  const adql = params.get("QUERY");
  if (adql === undefined || adql.trim() === "") throw bad("QUERY is required");
  if (params.has("UPLOAD")) throw new QservError("UNSUPPORTED", "UPLOAD is not supported");
  const fmtText = params.get("RESPONSEFORMAT") ?? params.get("FORMAT") ?? "votable";
  const format = FORMATS[fmtText.toLowerCase().replace(/\s+/g, "")];
  if (format === undefined)
    throw bad(`RESPONSEFORMAT=${fmtText} is not supported (votable, votable/td, csv, tsv, json)`);
  const maxText = params.get("MAXREC");
  const maxrec = maxText === undefined ? DEFAULT_MAXREC : Number(maxText);
  if (!/^\d+$/.test(maxText ?? "0")) throw bad(`MAXREC must be a non-negative integer, not '${maxText}'`);
  const limit = Math.min(maxrec, HARD_MAXREC);

  const stmt = parseStatement(adql, "adql");
  if (stmt.kind !== "select" && stmt.kind !== "union") {
    throw new QservError("UNSUPPORTED", "only SELECT queries are supported in ADQL");
  }
  // One row more than MAXREC tells whether the result overflowed.
  const q = capped(stmt, limit + 1);
  let fields: ReturnType<typeof queryTapSchema>["fields"];
  let rows: ReturnType<typeof queryTapSchema>["rows"];
  if (q.kind === "select" && readsTapSchema(q)) {
    ({ fields, rows } = queryTapSchema(czar.catalog, q));
  } else {
    const a = await czar.execute(printMysql(q), { database: null }, signal);
    fields = a.columns.map(fieldOfResult);
    if (q.kind === "select") fields = describeResult(fields, q, czar.catalog);
    rows = a.rows;
  }
  const overflow = rows.length > limit;
  const body = writeResult(
    { fields, rows: overflow ? rows.slice(0, limit) : rows, overflow, infos: { QUERY: adql } },
    format,
  );
  return { contentType: CONTENT_TYPE[format], body };
}

/** `q` returning at most `n` rows. */
function capped(q: Statement & Query, n: number): Query {
  const l = q.limit;
  if (l !== null && l.count <= n) return q;
  return { ...q, limit: { count: n, offset: l?.offset ?? null } };
}
