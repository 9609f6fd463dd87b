/**
 * A TAP query (LANG=ADQL, QUERY, REQUEST=doQuery, RESPONSEFORMAT/FORMAT, MAXREC): checked and
 * parsed into the czar's AST, then run by the czar (or on TAP_SCHEMA) with its rows written, as
 * they come, to a result document. Sync and async jobs both run here.
 */
import { QservError } from "../../common/errors.js";
import type { Value } from "../../common/rowCodec.js";
import type { Czar, ResultColumnInfo } from "../../czar/czar.js";
import type { Query, Statement } from "../../czar/sql/ast.js";
import { parseStatement } from "../../czar/sql/parser.js";
import { printMysql } from "../../czar/sql/printer.js";
import { describeResult, fieldOfResult, type VoField } from "./fields.js";
import type { Params } from "./params.js";
import { queryTapSchema, readsTapSchema } from "./tapSchema.js";
import { engineUploads, queryUploads, readsOnlyUploads, type UploadedTable, uploadedTables } from "./upload.js";
import { DEFAULT_MAXREC, HARD_MAXREC } from "./vosi.js";
import { type Output, ResultWriter, type Serialization } from "./votable.js";

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

export interface TapQuery {
  adql: string;
  format: Serialization;
  /** Rows written at most (MAXREC, within the hard limit). */
  limit: number;
  /** The query, asking one row more than `limit` (that row tells of an overflow). */
  query: Query;
  /** Tables of UPLOAD, as TAP_UPLOAD.name. */
  uploads: UploadedTable[];
  /** The default database (LANG=SQL jobs of SUBMIT: the submitting session's). */
  database: string | null;
}

/** The query `params` ask for; a bad parameter or query throws (BAD_ARGUMENT, SYNTAX_ERROR, UNSUPPORTED). */
export function tapQuery(params: Params): TapQuery {
  const request = params.get("REQUEST");
  if (request !== undefined && request !== "doQuery") throw bad(`REQUEST=${request} is not supported (doQuery is)`);
  const lang = params.get("LANG");
  if (lang === undefined) throw bad("LANG is required (LANG=ADQL)");
  // SQL: Qserv's own (MySQL) dialect, the async jobs of SUBMIT; their rows are not limited.
  const sql = /^SQL$/i.test(lang);
  if (!sql && !/^ADQL(-2\.[01])?$/i.test(lang)) throw bad(`LANG=${lang} is not supported (ADQL is)`);
  const adql = params.get("QUERY");
  if (adql === undefined || adql.trim() === "") throw bad("QUERY is required");
  const upload = params.get("UPLOAD");
  const uploads = upload === undefined ? [] : uploadedTables(upload, params.files);
  const fmtText = params.get("RESPONSEFORMAT") ?? params.get("FORMAT") ?? "votable";
  const format = FORMATS[fmtText.toLowerCase().replace(/\s+/g, "")];
  if (format === undefined)
    throw bad(`RESPONSEFORMAT=${fmtText} is not supported (votable, votable/td, csv, tsv, json)`);
  const maxText = params.get("MAXREC");
  if (!/^\d+$/.test(maxText ?? "0")) throw bad(`MAXREC must be a non-negative integer, not '${maxText}'`);
  const maxrec = maxText === undefined ? DEFAULT_MAXREC : Number(maxText);
  const limit = sql ? Number.MAX_SAFE_INTEGER : Math.min(maxrec, HARD_MAXREC);
  const stmt = parseStatement(adql, sql ? "mysql" : "adql");
  if (stmt.kind !== "select" && stmt.kind !== "union") {
    throw new QservError("UNSUPPORTED", `not supported: statements other than SELECT in ${sql ? "SQL" : "ADQL"}`);
  }
  const query = sql ? stmt : capped(stmt, limit + 1);
  return { adql, format, limit, query, uploads, database: params.get("DATABASE") ?? null };
}

/** `q` returning at most `n` rows. */
function capped(q: Statement & Query, n: number): Query {
  const l = q.limit;
  if (l !== null && l.count <= n) return q;
  return { ...q, limit: { count: n, offset: l?.offset ?? null } };
}

/** Rows of an answer the czar holds whole, written at a time. */
const BATCH = 1000;

export interface TapRun {
  rows: number;
  overflow: boolean;
  /** Bytes of the document. */
  bytes: number;
}

/**
 * Runs `t`, writing its document to `out` as rows come; `user` is who SHOW PROCESSLIST names.
 * Nothing is written before the czar has the header (an error before it is the caller's to answer).
 */
export async function runTapQuery(
  czar: Czar,
  t: TapQuery,
  out: Output,
  signal: AbortSignal,
  user = "tap",
): Promise<TapRun> {
  if (signal.aborted) throw new QservError("CANCELLED", "the query was cancelled before it started");
  const w = new ResultWriter(t.format, out);
  const infos = { QUERY: t.adql };
  let overflow = false;
  const take = async (rows: readonly Value[][]) => {
    const room = t.limit - w.rowCount;
    if (rows.length > room) overflow = true;
    const keep = rows.length > room ? rows.slice(0, room) : rows;
    if (keep.length > 0) await w.rows(keep);
  };
  const whole = async (fields: VoField[], rows: readonly Value[][]) => {
    await w.start(fields, infos);
    for (let i = 0; i < rows.length; i += BATCH) await take(rows.slice(i, i + BATCH));
  };
  const q = t.query;
  if (q.kind === "select" && readsOnlyUploads(q)) {
    const a = queryUploads(q, t.uploads);
    await whole(a.fields, a.rows);
  } else if (q.kind === "select" && readsTapSchema(q)) {
    const a = queryTapSchema(czar.catalog, q);
    await whole(a.fields, a.rows);
  } else {
    const fieldsOf = (cols: ResultColumnInfo[]) => {
      const f = cols.map(fieldOfResult);
      return q.kind === "select" ? describeResult(f, q, czar.catalog) : f;
    };
    const session = { database: t.database, user, uploads: engineUploads(t.uploads) };
    const a = await czar.execute(printMysql(q), session, signal, {
      header: (cols) => w.start(fieldsOf(cols), infos),
      rows: take,
    });
    if (!a.streamed) await whole(fieldsOf(a.columns), a.rows);
  }
  await w.end(overflow);
  return { rows: w.rowCount, overflow, bytes: w.bytes };
}
