/**
 * Qserv's async forms on the MySQL port and POST /query, run as TAP async jobs (one store, one
 * runner): `SUBMIT SELECT ...` creates a LANG=SQL job writing JSON and answers its id;
 * `SELECT * FROM qserv_result(id)` reads a COMPLETED job's result file back as rows (while the
 * job runs it is refused, as Qserv does); `CANCEL id` aborts it. The same job is listed under
 * /tap/async and, while it runs, in SHOW PROCESSLIST.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { QservError } from "../../common/errors.js";
import type { ColumnType } from "../../common/jsonValue.js";
import type { Value } from "../../common/rowCodec.js";
import type { AsyncQueries, QueryAnswer, ResultColumnInfo, ResultSink, Session } from "../../czar/czar.js";
import { SizeGuard } from "../../czar/exec/resultLimit.js";
import { T } from "../../czar/sql/resultTypes.js";
import type { VoField } from "./fields.js";
import type { Job } from "./uwsJobs.js";
import type { JobRunner } from "./uwsRunner.js";

/** Rows handed to a sink at a time. */
const BATCH = 1000;

export class QservAsync implements AsyncQueries {
  constructor(private readonly runner: JobRunner) {}

  submit(sql: string, session: Session): string {
    const parameters: Record<string, string> = { LANG: "SQL", QUERY: sql, RESPONSEFORMAT: "json" };
    if (session.database !== null) parameters.DATABASE = session.database;
    const job = this.runner.store.create(parameters, session.user ?? null, null);
    this.runner.run(job);
    return job.id;
  }

  cancel(id: string, session: Session): void {
    const job = this.job(id, session);
    if (job.phase !== "PENDING" && job.phase !== "QUEUED" && job.phase !== "EXECUTING") {
      throw new QservError("BAD_QUERY", `Query ${id} is not running (${job.phase})`);
    }
    this.runner.abort(job);
  }

  async result(id: string, session: Session, maxBytes: number, sink?: ResultSink): Promise<QueryAnswer> {
    const t0 = performance.now();
    const job = this.job(id, session);
    if (job.phase !== "COMPLETED" || job.result === null) {
      const why = job.phase === "ERROR" ? `failed: ${job.error ?? "unknown error"}` : `is ${job.phase}`;
      const code = job.phase === "ERROR" || job.phase === "ABORTED" ? "BAD_QUERY" : "CONFLICT";
      throw new QservError(
        code,
        `Query ${id} ${why}: it has no result${code === "CONFLICT" ? " yet (still executing)" : ""}`,
      );
    }
    let fields: VoField[] = [];
    let columns: ResultColumnInfo[] = [];
    const rows: Value[][] = [];
    let batch: Value[][] = [];
    const guard = new SizeGuard(maxBytes);
    const hold = (b: Value[][]) => {
      guard.add(b);
      rows.push(...b);
    };
    const input = createReadStream(this.runner.store.path(id, job.result.file));
    try {
      for await (const line of createInterface({ input })) {
        if (columns.length === 0 && line.startsWith('{"metadata":')) {
          const head = /^\{"metadata":(.*),"data":\[/.exec(line);
          if (head === null) throw new QservError("INTERNAL", `job ${id}: unreadable result`);
          fields = JSON.parse(head[1]!) as VoField[];
          columns = fields.map(columnOf);
          if (sink !== undefined) await sink.header(columns);
          const rest = line.slice(head[0].length);
          if (rest.startsWith("[")) batch.push(decodeRow(rest, fields));
          continue;
        }
        if (line.startsWith("[")) batch.push(decodeRow(line, fields));
        if (batch.length >= BATCH) {
          if (sink !== undefined) await sink.rows(batch);
          else hold(batch);
          batch = [];
        }
      }
    } finally {
      input.destroy(); // also when the client went away mid-way
    }
    if (sink !== undefined && batch.length > 0) await sink.rows(batch);
    else hold(batch);
    const stats = { chunks: 0, retries: 0, elapsedMs: performance.now() - t0 };
    return { columns, rows, stats, streamed: sink !== undefined };
  }

  /** The job `session` may see; NOT_FOUND as Qserv says it, FORBIDDEN for another user's. */
  private job(id: string, session: Session): Job {
    let job: Job;
    try {
      job = this.runner.store.get(id);
    } catch {
      throw new QservError("NOT_FOUND", `No job found for ID=${id}`);
    }
    if (session.ownQueriesOnly === true && job.ownerId !== (session.user ?? null)) {
      throw new QservError("FORBIDDEN", `You are not owner of query ${id}`);
    }
    return job;
  }
}

/** A result column of the job's JSON metadata, typed as the job's columns were. */
function columnOf(f: VoField): ResultColumnInfo {
  const integer = (type: number) => ({
    name: f.name,
    type: "INTEGER" as ColumnType,
    mysql: { type, decimals: 0, unsigned: false, binary: false },
  });
  switch (f.datatype) {
    case "long":
      return integer(T.LONGLONG);
    case "int":
      return integer(T.LONG);
    case "short":
      return integer(T.SHORT);
    case "double":
    case "float":
      return { name: f.name, type: "REAL", mysql: null };
    default:
      return { name: f.name, type: "TEXT", mysql: null };
  }
}

/**
 * One row of the job's JSON result (`[v,...]` and an optional `,`): integers exact as BigInt,
 * reals as numbers, strings decoded, null as NULL.
 */
export function decodeRow(line: string, fields: readonly VoField[]): Value[] {
  const out: Value[] = [];
  let i = 1;
  while (i < line.length && line[i] !== "]") {
    const f = fields[out.length];
    if (line[i] === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === "\\" ? 2 : 1;
      out.push(JSON.parse(line.slice(i, j + 1)) as string);
      i = j + 1;
    } else {
      let j = i;
      while (line[j] !== "," && line[j] !== "]") j++;
      const tok = line.slice(i, j);
      const integer = f?.datatype === "long" || f?.datatype === "int" || f?.datatype === "short";
      out.push(tok === "null" ? null : integer ? BigInt(tok) : Number(tok));
      i = j;
    }
    if (line[i] === ",") i++;
  }
  return out;
}
