/**
 * Dispatch: runs a plan's jobs on the workers holding their chunks, a bounded number at a time,
 * each attempt under a deadline; a job whose worker fails or times out is retried (with backoff)
 * on the next replica. A job's rows are handed on only once the job has completed, so a failed
 * attempt never leaves partial rows in the answer.
 */
import { setMaxListeners } from "node:events";
import pLimit from "p-limit";
import { isQservError, QservError } from "../../common/errors.js";
import type { Value } from "../../common/rowCodec.js";
import type { WorkerClient } from "../../worker/client.js";
import type { Job } from "../plan/planner.js";

/** Where chunks live and how to reach workers. */
export interface WorkerDirectory {
  /** Addresses of the workers holding the chunk, in preference order. */
  replicas(db: string, chunkId: number): string[];
  client(address: string): Pick<WorkerClient, "query">;
  /** True for a worker known to be down: tried after the others. */
  isDown?(address: string): boolean;
}

export interface DispatchOptions {
  queryId: string;
  /** Jobs in flight at once. */
  concurrency: number;
  /** Milliseconds one attempt of a job may take. */
  attemptTimeoutMs: number;
  /** Attempts per job, over its replicas in turn. */
  maxAttempts: number;
  signal: AbortSignal;
  /** Called as jobs complete. */
  onProgress?: (done: number, total: number) => void;
}

export interface DispatchStats {
  jobs: number;
  retries: number;
}

/** Errors worth another replica: the worker, not the query, failed. */
function retryable(e: QservError): boolean {
  return e.code === "UNAVAILABLE" || e.code === "NOT_FOUND" || e.code === "INTERNAL" || e.code === "CANCELLED";
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

/**
 * Runs every job; `sink` receives each completed job's rows (in completion order; a job's slot
 * stays taken until its sink call settles, which is how a slow consumer holds dispatch back) and returns
 * false once it needs no more, which cancels the jobs still running.
 */
export async function dispatch(
  database: string,
  jobs: readonly Job[],
  dir: WorkerDirectory,
  o: DispatchOptions,
  sink: (rows: Value[][], job: Job) => boolean | Promise<boolean>,
): Promise<DispatchStats> {
  const stop = new AbortController();
  // Every job in flight and every backoff listens to it: more than Node's default of 10.
  setMaxListeners(0, stop.signal);
  const onAbort = () => stop.abort();
  o.signal.addEventListener("abort", onAbort, { once: true });
  const limit = pLimit(Math.max(1, o.concurrency));
  const stats: DispatchStats = { jobs: jobs.length, retries: 0 };
  let done = 0;
  let failure: QservError | null = null;
  /** Workers found unreachable during this query: later jobs try them last. */
  const down = new Set<string>();
  /** Chunks no replica answered; once there is one, the query fails, and jobs only name theirs. */
  const missing: number[] = [];
  let lastError: QservError | null = null;

  const runJob = async (job: Job): Promise<void> => {
    const replicas = dir.replicas(database, job.chunkId);
    if (missing.length > 0 || replicas.length === 0) {
      if (replicas.every((w) => down.has(w))) missing.push(job.chunkId);
      return;
    }
    // Spread jobs over the replicas that are up; those known down (to the health monitor, or
    // failed in this query) come last.
    const isDown = (r: string) => down.has(r) || dir.isDown?.(r) === true;
    const up = replicas.filter((r) => !isDown(r));
    const start = job.chunkId >= 0 ? job.chunkId % (up.length || 1) : Math.floor(Math.random() * up.length);
    const order = [...up.slice(start), ...up.slice(0, start), ...replicas.filter((r) => !up.includes(r))];
    for (let attempt = 0; attempt < o.maxAttempts; attempt++) {
      if (stop.signal.aborted) return;
      if (attempt > 0) {
        stats.retries++;
        await sleep(Math.min(1000, 50 * 2 ** (attempt - 1)), stop.signal);
      }
      const address = order[attempt % order.length]!;
      const rows: Value[][] = [];
      try {
        const spec = { queryId: o.queryId, database, chunkId: job.chunkId, subChunkIds: job.subChunkIds, sql: job.sql };
        for await (const ev of dir
          .client(address)
          .query(spec, { signal: stop.signal, timeoutMs: o.attemptTimeoutMs })) {
          if (ev.kind === "rows") for (const r of ev.rows) rows.push(r);
        }
      } catch (e) {
        if (stop.signal.aborted) return;
        const err = isQservError(e) ? e : new QservError("INTERNAL", String(e));
        if (!retryable(err)) throw err;
        if (err.code === "UNAVAILABLE") down.add(address);
        lastError = err;
        continue;
      }
      if (stop.signal.aborted) return;
      if (!(await sink(rows, job))) stop.abort();
      o.onProgress?.(++done, jobs.length);
      return;
    }
    missing.push(job.chunkId);
  };

  try {
    await Promise.all(
      jobs.map((job) =>
        limit(async () => {
          if (stop.signal.aborted) return;
          try {
            await runJob(job);
          } catch (e) {
            failure ??= isQservError(e) ? e : new QservError("INTERNAL", String(e));
            stop.abort();
          }
        }),
      ),
    );
  } finally {
    o.signal.removeEventListener("abort", onAbort);
  }
  if (o.signal.aborted) throw new QservError("CANCELLED", "query cancelled");
  if (failure !== null) throw failure;
  if (missing.length > 0) throw missingChunks(database, missing, down, lastError);
  return stats;
}

/** Every replica of some chunks failed: the error names them (and the workers found down). */
function missingChunks(database: string, chunks: number[], down: Set<string>, last: QservError | null): QservError {
  const ids = [...chunks].sort((a, b) => a - b);
  const shown = ids.length > 20 ? `${ids.slice(0, 20).join(", ")}, ... (${ids.length} in all)` : ids.join(", ");
  const workers = down.size > 0 ? `; workers down: ${[...down].sort().join(", ")}` : "";
  const why = last === null ? "no worker holds them" : `last error: ${last.message}`;
  return new QservError(
    "UNAVAILABLE",
    `no replica answered for chunk${ids.length > 1 ? "s" : ""} ${shown} of ${database}${workers}; ${why}`,
    { chunks: ids },
  );
}
