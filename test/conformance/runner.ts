/**
 * The conformance runner: starts workers and a czar on loopback, ingests every itest case whose
 * data files exist, runs every query file through the czar and judges each reply against the
 * case's reference SQLite.
 */
import { rmSync } from "node:fs";
import { join, relative } from "node:path";
import { startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { makeTempDir } from "../support/fs.js";
import { itestCases, type QueryFile, queryFiles } from "../support/itest.js";
import { type CaseData, caseData } from "../support/itestData.js";
import { ITEST } from "../support/paths.js";
import { loadReferenceCase } from "../support/referenceDb.js";
import { czarIngest, czarQuery, type QueryReply } from "./czarHttp.js";
import { mysqlQuery } from "./czarMysql.js";
import { type Expected, expectedAnswer, ReferenceFailure } from "./expected.js";
import { judgeReply, type Outcome, skipReason } from "./judge.js";

export interface ConformanceOptions {
  /** Case folders ("case01"...); all present by default. */
  cases?: string[];
  /** Worker processes; 3 by default. */
  workers?: number;
  /** The front end queries go through; only HTTP so far. */
  /** The czar's front end the queries go through (ingest always goes over HTTP). */
  via?: "http" | "mysql";
  /** Progress and failure lines. */
  log?: (line: string) => void;
  /** Also log passes, skips and notes. */
  verbose?: boolean;
  /** Per query; 60 s by default. */
  queryTimeoutMs?: number;
  /** Per table load; 10 min by default. */
  ingestTimeoutMs?: number;
  /** Starts the system under test in `dir`; by default `workers` worker processes and a czar process. */
  start?: (dir: string) => Promise<SystemUnderTest>;
  /** Told each query's time at the client: its statements' round trips only, not the judging. */
  onTime?: (where: { case: string; file: string }, ms: number) => void;
}

/** What the runner talks to: a czar's base URL, and how to stop everything. */
export interface SystemUnderTest {
  url: string;
  /** The czar's MySQL protocol port (needed with via "mysql"). */
  mysqlPort?: number;
  stop(): Promise<void>;
}

export interface QueryRecord {
  case: string;
  /** The query file relative to the case's queries folder, or "ingest <Table>" / "reference". */
  file: string;
  reason: string;
}

export interface ConformanceSummary {
  passed: number;
  failed: number;
  skipped: number;
  failures: QueryRecord[];
  skips: QueryRecord[];
  /** Passes with a caveat (order not checked, a restated reference...). */
  notes: QueryRecord[];
}

type CzarProcess = Awaited<ReturnType<typeof startCzarProcess>>;

/** `n` worker processes and a czar over them, each in its own folder under `dir`. */
async function startCluster(dir: string, n: number): Promise<SystemUnderTest> {
  const workers: WorkerProcess[] = [];
  try {
    for (const w of await Promise.allSettled(
      Array.from({ length: n }, (_, i) => startWorkerProcess(join(dir, `worker${i + 1}`))),
    )) {
      if (w.status === "rejected") throw w.reason;
      workers.push(w.value);
    }
    // The runner's loads name files by path: anywhere on this machine (a test czar on loopback).
    const czar = await startCzarProcess(
      join(dir, "czar"),
      workers.map((w) => w.address),
      ["--ingest-root", "/"],
    );
    return { url: czar.url, mysqlPort: czar.mysqlPort, stop: () => stopAll(czar, workers) };
  } catch (e) {
    await stopAll(null, workers);
    throw e;
  }
}

async function stopAll(czar: CzarProcess | null, workers: WorkerProcess[]): Promise<void> {
  await Promise.allSettled([czar?.stop(), ...workers.map((w) => w.stop())]);
}

/** Counts one query's outcome and logs it (passes, skips and notes only when verbose). */
class Tally {
  readonly summary: ConformanceSummary = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [], notes: [] };
  constructor(
    private readonly log: (line: string) => void,
    private readonly verbose: boolean,
  ) {}

  fail(r: QueryRecord): void {
    this.summary.failed++;
    this.summary.failures.push(r);
    this.log(`FAIL ${r.case} ${r.file}: ${r.reason}`);
  }

  add(where: { case: string; file: string }, outcome: Outcome, ms: number): void {
    const s = this.summary;
    const tag = `${where.case} ${where.file}`;
    if (outcome.status === "fail") {
      this.fail({ ...where, reason: outcome.reason });
    } else if (outcome.status === "skip") {
      s.skipped++;
      s.skips.push({ ...where, reason: outcome.reason });
      if (this.verbose) this.log(`SKIP ${tag}: ${outcome.reason}`);
    } else {
      s.passed++;
      if (outcome.note !== undefined) s.notes.push({ ...where, reason: outcome.note });
      if (this.verbose) this.log(`PASS ${tag} (${ms} ms)${outcome.note ? ` — ${outcome.note}` : ""}`);
    }
  }
}

/** Runs the conformance suite; never throws for a wrong answer, only when the cluster cannot start. */
export async function runConformance(opts: ConformanceOptions = {}): Promise<ConformanceSummary> {
  const tally = new Tally(opts.log ?? (() => {}), opts.verbose ?? false);
  const dir = makeTempDir("mq-conformance-");
  try {
    const sut = await (opts.start ?? ((d: string) => startCluster(d, opts.workers ?? 3)))(dir);
    try {
      const ask = queryVia(sut, opts.via ?? "http");
      for (const name of opts.cases ?? itestCases()) await runCase(sut.url, ask, name, opts, tally);
    } finally {
      await sut.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tally.summary;
}

/** Runs one statement on the system under test: query text, default database, time limit. */
type Ask = (query: string, database: string, timeoutMs: number) => Promise<QueryReply>;

function queryVia(sut: SystemUnderTest, via: "http" | "mysql"): Ask {
  if (via === "http") return (q, db, t) => czarQuery(sut.url, q, db, t);
  const port = sut.mysqlPort;
  if (port === undefined) throw new Error("the system under test has no MySQL port");
  return (q, db, t) => mysqlQuery(port, q, db, t);
}

/** One case: ingest, load the reference, run and judge every query file. */
async function runCase(url: string, ask: Ask, name: string, opts: ConformanceOptions, tally: Tally): Promise<void> {
  const data = caseData(name);
  await ingestCase(url, data, opts.ingestTimeoutMs ?? 600_000, opts.log ?? (() => {}), (r) => tally.fail(r));
  let reference: ReturnType<typeof loadReferenceCase>;
  try {
    reference = loadReferenceCase(data);
  } catch (e) {
    tally.fail({ case: name, file: "reference", reason: `cannot load the reference: ${(e as Error).message}` });
    return;
  }
  try {
    for (const q of queryFiles([name])) {
      const file = relative(join(ITEST, name, "queries"), join(ITEST, q.rel));
      const started = Date.now();
      let asked = 0;
      const timed: Ask = async (query, database, timeoutMs) => {
        const t = performance.now();
        try {
          return await ask(query, database, timeoutMs);
        } finally {
          asked += performance.now() - t;
        }
      };
      const outcome = await runQuery(timed, q, data, reference.db, opts.queryTimeoutMs ?? 60_000);
      tally.add({ case: name, file }, outcome, Date.now() - started);
      if (outcome.status !== "skip") opts.onTime?.({ case: name, file }, asked);
    }
  } finally {
    reference.db.close();
  }
}

/** Loads every table of the case whose data file exists, directors first. */
async function ingestCase(
  url: string,
  data: CaseData,
  timeoutMs: number,
  log: (line: string) => void,
  fail: (r: QueryRecord) => void,
): Promise<void> {
  for (const t of data.tables) {
    if (t.file === null) continue;
    const started = Date.now();
    const r = await czarIngest(url, { database: data.databaseJson, table: t.json, files: [t.file] }, timeoutMs);
    if (typeof r === "string") fail({ case: data.name, file: `ingest ${t.config.table}`, reason: r });
    else
      log(`${data.name}: ingested ${t.config.table}: ${r.rows} rows, ${r.chunks} chunks (${Date.now() - started} ms)`);
  }
}

/** One query: skipped, failed on the reference side, or run and judged. */
async function runQuery(
  ask: Ask,
  q: QueryFile,
  data: CaseData,
  db: ReturnType<typeof loadReferenceCase>["db"],
  timeoutMs: number,
): Promise<Outcome> {
  const skip = skipReason(q, data);
  if (skip !== null) return { status: "skip", reason: skip };
  let expected: Expected | null = null;
  if (q.expect === "answer") {
    try {
      expected = expectedAnswer(db, q, data);
    } catch (e) {
      if (!(e instanceof ReferenceFailure)) throw e;
      // The single database rejects the query: the cluster must reject it too.
      const r = await ask(q.qserv, data.database.database, timeoutMs);
      if (r.kind === "error")
        return { status: "pass", note: `both reject it: reference: ${e.message}; czar: ${r.message}` };
      return { status: "fail", reason: `reference: ${e.message}; the czar answered instead` };
    }
  }
  const reply = await ask(q.qserv, data.database.database, timeoutMs);
  if (q.expect === "error" && reply.kind === "answer") {
    // Answered where Qserv errs: still a failure, but say whether the rows are right.
    try {
      expected = expectedAnswer(db, q, data);
    } catch {
      // No reference answer for it: nothing to add.
    }
  }
  return judgeReply(q, expected, reply);
}
