/**
 * Dispatch: runs a plan's jobs on the workers holding their chunks, a bounded number at a time,
 * each attempt under a deadline; a job whose worker fails or times out is retried (with backoff)
 * on the next replica, and one whose worker is late is hedged: asked of the next replica too, the
 * first to complete it giving its rows. A job's rows are handed on only once the job has completed, so a failed
 * attempt never leaves partial rows in the answer.
 */
import { setMaxListeners } from "node:events";
import { isQservError, QservError } from "../../common/errors.js";
import type { CombineSpec } from "../../common/partialCombine.js";
import type { Value } from "../../common/rowCodec.js";
import type { WorkerClient } from "../../worker/client.js";
import type { Job } from "../plan/planner.js";

/** Where chunks live and how to reach workers. */
export interface WorkerDirectory {
  /** Addresses of the workers known to hold all of the chunk, in preference order. */
  replicas(db: string, chunkId: number): string[];
  /** Resolves once `replicas` answers from what the workers hold now (e.g. after an ingest). */
  ready?(): Promise<void>;
  /** False when chunk contents changed since `ready` last resolved (ask it again). */
  fresh?(): boolean;
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
  /**
   * A call that sends nothing for this long (ms; or 3× the median chunk time of the query so
   * far, if longer) has its chunks asked of another live replica too: the first answer wins and
   * the other call is cancelled. 0 or absent: no hedging.
   */
  hedgeAfterMs?: number;
  signal: AbortSignal;
  /** The query's snapshot, passed to the workers (QueryRequest.snapshotSeq). */
  snapshotSeq?: number;
  /**
   * The partial rows of batched calls are combined by group on the worker (common/
   * partialCombine.ts): such a call's chunks complete together, its rows given with the first.
   */
  combine?: CombineSpec;
  /** Called as jobs complete. */
  onProgress?: (done: number, total: number) => void;
}

export interface DispatchStats {
  jobs: number;
  retries: number;
  /** Calls hedged: late, so their chunks were asked of another replica as well. */
  hedges: number;
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

/** Chunks per worker call at most; fewer when there are few jobs (see batchSize). */
const MAX_BATCH = 32;

/**
 * How many jobs go to a worker in one call: enough that the per-call cost (a gRPC stream, the
 * worker's bookkeeping) is shared by many chunks, few enough that every slot gets about four
 * calls and a slow worker or a retry does not hold up the end. 1 for small queries.
 */
function batchSize(jobs: number, concurrency: number): number {
  return Math.max(1, Math.min(MAX_BATCH, Math.ceil(jobs / (concurrency * 4))));
}

/** A job waiting to run: its replicas in the order to try them (set when first considered), and the attempts made. */
interface Pending {
  job: Job;
  order: string[] | null;
  attempt: number;
  /** Its rows were handed on (by whichever call completed it first). */
  done: boolean;
}

/**
 * Runs every job; `sink` receives each completed job's rows (in completion order; a job's slot
 * stays taken until its sink call settles, which is how a slow consumer holds dispatch back) and returns
 * false once it needs no more, which cancels the jobs still running. Jobs bound for the same
 * worker go to it in batches (one call, the chunks run in turn, each ending with a chunkDone);
 * when a call fails, the chunks it completed are kept and the rest are tried again.
 */
export async function dispatch(
  database: string,
  jobs: readonly Job[],
  dir: WorkerDirectory,
  o: DispatchOptions,
  sink: (rows: Value[][], job: Job) => boolean | Promise<boolean>,
): Promise<DispatchStats> {
  // Replicas are chosen for every job at once, from listings no change has made stale since:
  // a publish recorded later must not leave a job without replicas.
  do await dir.ready?.();
  while (dir.fresh?.() === false);
  const stop = new AbortController();
  // Every call in flight and every backoff listens to it: more than Node's default of 10.
  setMaxListeners(0, stop.signal);
  const onAbort = () => stop.abort();
  o.signal.addEventListener("abort", onAbort, { once: true });
  const slots = Math.max(1, o.concurrency);
  const perCall = batchSize(jobs.length, slots);
  const stats: DispatchStats = { jobs: jobs.length, retries: 0, hedges: 0 };
  let done = 0;
  let failure: QservError | null = null;
  /** Workers found unreachable during this query: later jobs try them last. */
  const down = new Set<string>();
  /** Chunks no replica answered; once there is one, the query fails, and jobs only name theirs. */
  const missing: number[] = [];
  let lastError: QservError | null = null;

  // Spread jobs over the replicas that are up; those known down (to the health monitor, or
  // failed in this query) come last.
  const isDown = (r: string) => down.has(r) || dir.isDown?.(r) === true;
  const orderOf = (p: Pending): string[] => {
    if (p.order !== null) return p.order;
    const replicas = dir.replicas(database, p.job.chunkId);
    const up = replicas.filter((r) => !isDown(r));
    const start = p.job.chunkId >= 0 ? p.job.chunkId % (up.length || 1) : Math.floor(Math.random() * up.length);
    p.order = [...up.slice(start), ...up.slice(0, start), ...replicas.filter((r) => !up.includes(r))];
    return p.order;
  };
  const queue: Pending[] = jobs.map((job) => ({ job, order: null, attempt: 0, done: false }));
  for (const p of queue) orderOf(p);
  /** Where the job's next attempt goes: its replica for that attempt, or the next not found down since. */
  const target = (p: Pending): string | undefined => {
    const order = orderOf(p);
    for (let k = 0; k < order.length; k++) {
      const w = order[(p.attempt + k) % order.length]!;
      if (!down.has(w)) return w;
    }
    return order[p.attempt % order.length];
  };

  /** The next call: the first runnable job and more of those bound for the same worker. */
  const take = (): Pending[] | null => {
    while (queue.length > 0) {
      const lead = queue.shift()!;
      const address = target(lead);
      if (missing.length > 0 || address === undefined) {
        if (orderOf(lead).every((w) => down.has(w))) missing.push(lead.job.chunkId);
        continue;
      }
      const batch = [lead];
      for (let i = 0; i < queue.length && batch.length < perCall; ) {
        if (target(queue[i]!) === address) batch.push(...queue.splice(i, 1));
        else i++;
      }
      return batch;
    }
    return null;
  };

  const deliver = async (p: Pending, rows: Value[][]): Promise<void> => {
    if (!(await sink(rows, p.job))) stop.abort();
    o.onProgress?.(++done, jobs.length);
  };
  const complete = async (p: Pending, rows: Value[][]): Promise<void> => {
    // A hedged chunk may complete on two replicas: the first answer wins, the other is dropped.
    if (p.done) return;
    p.done = true;
    await deliver(p, rows);
  };
  /** A combined call's chunks, all at once (the rows with the first); none if another call completed one. */
  const completeAll = async (ps: Pending[], rows: Value[][], address: string): Promise<void> => {
    if (ps.some((p) => p.done))
      throw new QservError("CANCELLED", `${address}: some chunks of the combined call were answered by another call`);
    for (const p of ps) p.done = true;
    for (const [i, p] of ps.entries()) await deliver(p, i === 0 ? rows : []);
  };

  /**
   * One call to `address` for `batch`; each chunk's rows are handed on as it completes there.
   * `onEvent` hears of every message the worker sends (the call is alive).
   */
  const attempt = async (batch: Pending[], address: string, signal: AbortSignal, onEvent: () => void) => {
    const lead = batch[0]!;
    const combined = o.combine !== undefined && batch.length > 1;
    const spec =
      batch.length === 1
        ? { chunkId: lead.job.chunkId, subChunkIds: lead.job.subChunkIds, sql: lead.job.sql }
        : { chunkId: lead.job.chunkId, sql: "", chunks: batch.map((p) => p.job), ...combineFields(o.combine) };
    let completed = 0;
    let rows: Value[][] = [];
    const events = dir.client(address).query(
      {
        queryId: o.queryId,
        database,
        ...spec,
        ...(o.snapshotSeq === undefined ? {} : { snapshotSeq: o.snapshotSeq }),
      },
      { signal, timeoutMs: o.attemptTimeoutMs * batch.length },
    );
    for await (const ev of events) {
      onEvent();
      if (ev.kind === "rows") for (const r of ev.rows) rows.push(r);
      else if (ev.kind === "chunkDone") {
        const p = batch[completed++];
        if (p === undefined) throw new QservError("INTERNAL", `${address}: more chunks done than asked`);
        if (combined) continue; // the batch completes as a whole, below
        await complete(p, rows);
        rows = [];
        if (signal.aborted) return;
      }
    }
    if (signal.aborted) return;
    if (batch.length === 1) await complete(lead, rows);
    else if (completed < batch.length)
      throw new QservError("UNAVAILABLE", `${address}: batch ended after ${completed} of ${batch.length} chunks`);
    else if (combined) await completeAll(batch, rows, address);
  };

  /** Per-chunk times of the jobs completed so far in this query (for the hedge delay). */
  const chunkMs: number[] = [];
  /** How long a call may go without a message before its chunks are asked of another replica too. */
  const hedgeDelay = (): number => {
    const base = o.hedgeAfterMs ?? 0;
    if (chunkMs.length < 8) return base;
    const sorted = [...chunkMs].sort((a, b) => a - b);
    return Math.max(base, 3 * sorted[Math.floor(sorted.length / 2)]!);
  };

  /**
   * A hedge for a call that is late: the chunks of `batch` not done yet, each sent to its next
   * live replica (one call per replica); whichever call completes a chunk first gives its rows.
   */
  const hedge = (batch: Pending[], address: string, signal: AbortSignal, onAllDone: () => void) => {
    const byReplica = new Map<string, Pending[]>();
    for (const p of batch) {
      const alt = p.done ? undefined : orderOf(p).find((w) => w !== address && !isDown(w));
      if (alt !== undefined) byReplica.set(alt, [...(byReplica.get(alt) ?? []), p]);
    }
    if (byReplica.size === 0) return null;
    stats.hedges++;
    const calls = [...byReplica].map(([alt, hedged]) =>
      attempt(hedged, alt, signal, () => {}).then(
        () => {
          // The hedge won: later jobs of this query keep away from the late worker.
          if (!signal.aborted) down.add(address);
          if (batch.every((p) => p.done)) onAllDone();
        },
        () => {}, // the call that was late may still answer; its outcome decides
      ),
    );
    return Promise.all(calls).then(() => {});
  };

  const runCall = async (batch: Pending[]): Promise<void> => {
    const lead = batch[0]!;
    const retrying = batch.filter((p) => p.attempt > 0).length;
    if (retrying > 0) {
      stats.retries += retrying;
      await sleep(Math.min(1000, 50 * 2 ** (lead.attempt - 1)), stop.signal);
      if (stop.signal.aborted) return;
    }
    const address = target(lead)!;
    const primary = new AbortController();
    const secondary = new AbortController();
    const primarySignal = AbortSignal.any([stop.signal, primary.signal]);
    let hedging: Promise<void> | null = null;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      const delay = hedgeDelay();
      if (delay > 0 && hedging === null) {
        timer = setTimeout(() => {
          hedging = hedge(batch, address, AbortSignal.any([stop.signal, secondary.signal]), () => primary.abort());
        }, delay);
      }
    };
    const started = performance.now();
    arm();
    try {
      await attempt(batch, address, primarySignal, arm);
      chunkMs.push((performance.now() - started) / batch.length);
    } catch (e) {
      if (stop.signal.aborted) return;
      // A hedge still running may yet complete the chunks: wait for it before retrying them.
      clearTimeout(timer);
      await hedging;
      if (batch.every((p) => p.done) || stop.signal.aborted) return;
      const err = isQservError(e) ? e : new QservError("INTERNAL", String(e));
      if (!retryable(err)) throw err;
      if (err.code === "UNAVAILABLE") down.add(address);
      lastError = err;
      // The chunk under way failed here: its next attempt goes to its next replica, as do the
      // untried ones after it when the worker is gone; otherwise those stay with it.
      const left = batch.filter((p) => !p.done);
      left.forEach((p, i) => {
        if (i === 0 || down.has(address)) p.attempt++;
      });
      for (const p of left.reverse()) {
        if (p.attempt >= o.maxAttempts) missing.push(p.job.chunkId);
        else queue.unshift(p);
      }
    } finally {
      clearTimeout(timer);
      // Only a hedge listens to it (an abort makes a DOMException, a cost per call otherwise).
      if (hedging !== null) secondary.abort();
      await hedging;
    }
  };

  const runner = async (): Promise<void> => {
    for (let batch = take(); batch !== null && !stop.signal.aborted; batch = take()) {
      try {
        await runCall(batch);
      } catch (e) {
        failure ??= isQservError(e) ? e : new QservError("INTERNAL", String(e));
        stop.abort();
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: slots }, runner));
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
  const why = last === null ? "no replica known to hold all of their rows" : `last error: ${last.message}`;
  return new QservError(
    "UNAVAILABLE",
    `no replica answered for chunk${ids.length > 1 ? "s" : ""} ${shown} of ${database}${workers}; ${why}`,
    { chunks: ids },
  );
}

/** The QueryRequest fields asking a worker to combine a batch's partial rows (none without a spec). */
function combineFields(spec: CombineSpec | undefined): { combineOps?: string[]; combineOrder?: number } {
  return spec === undefined ? {} : { combineOps: spec.ops, combineOrder: spec.orderColumn };
}
