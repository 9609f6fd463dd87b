/** Runs a plan: dispatches its jobs and turns their rows into the answer (concatenated or merged). */
import { FlushingCombiner } from "../../common/partialCombine.js";
import type { Value } from "../../common/rowCodec.js";
import type { MergeStep, Plan } from "../plan/planner.js";
import { MERGE_TABLE } from "../plan/split.js";
import { type DispatchOptions, type DispatchStats, dispatch, type WorkerDirectory } from "./dispatch.js";
import { SizeGuard } from "./resultLimit.js";
import { asSqlError, createScratchTable, rowInserter, Scratch } from "./scratch.js";
import type { SpoolBudget } from "./spool.js";

export interface ExecuteOptions extends DispatchOptions {
  /** Bytes of rows the czar may hold for one query. */
  maxResultBytes: number;
  /** Disk for the rows merged or gathered on the czar (without it, they are held in memory). */
  scratch?: SpoolBudget;
  /**
   * When given, a plan whose rows need no merge hands them on here as its chunks complete
   * (calls never overlap; dispatch waits for each), instead of holding them: the answer's rows
   * are then empty and `streamed` is true.
   */
  stream?: (rows: Value[][]) => Promise<void>;
}

export interface Execution {
  rows: Value[][];
  stats: DispatchStats;
  streamed: boolean;
}

async function concat(
  plan: Plan,
  step: Extract<MergeStep, { kind: "concat" }>,
  dir: WorkerDirectory,
  o: ExecuteOptions,
): Promise<Execution> {
  const out: Value[][] = [];
  const guard = new SizeGuard(o.maxResultBytes);
  let skip = step.offset;
  let sent = 0;
  let chain = Promise.resolve();
  const stats = await dispatch(plan.database, plan.jobs, dir, o, (rows) => {
    const keep: Value[][] = [];
    for (const r of rows) {
      if (step.limit !== null && sent >= step.limit) break;
      if (skip > 0) {
        skip--;
        continue;
      }
      keep.push(r);
      sent++;
    }
    const more = step.limit === null || sent < step.limit;
    guard.add(keep);
    if (o.stream === undefined) {
      for (const r of keep) out.push(r);
      return more;
    }
    const stream = o.stream;
    chain = chain.then(() => (keep.length > 0 ? stream(keep) : undefined));
    return chain.then(() => more);
  });
  await chain;
  return { rows: out, stats, streamed: o.stream !== undefined };
}

async function merge(
  plan: Plan,
  step: Extract<MergeStep, { kind: "merge" }>,
  dir: WorkerDirectory,
  o: ExecuteOptions,
): Promise<Execution> {
  const scratch = new Scratch(o.scratch);
  const { db } = scratch;
  try {
    createScratchTable(
      db,
      MERGE_TABLE,
      Array.from({ length: step.ncols }, (_, i) => `c${i}`),
    );
    const inserter = rowInserter(db, MERGE_TABLE, step.ncols);
    const insert = (rows: Value[][]) => {
      scratch.hold(rows);
      inserter(rows);
    };
    // Partials combined by group in a hash map first: only one row per group reaches SQLite.
    const combiner = step.combine === undefined ? null : new FlushingCombiner(step.combine, insert);
    const options = step.combine === undefined ? o : { ...o, combine: step.combine };
    const stats = await dispatch(plan.database, plan.jobs, dir, options, (rows) => {
      if (combiner === null) insert(rows);
      else combiner.add(rows);
      return true;
    });
    combiner?.end();
    return { rows: await scratch.read(step.sql, new SizeGuard(o.maxResultBytes)), stats, streamed: false };
  } catch (e) {
    throw asSqlError(e);
  } finally {
    scratch.close();
  }
}

async function gather(
  plan: Plan,
  step: Extract<MergeStep, { kind: "gather" }>,
  dir: WorkerDirectory,
  o: ExecuteOptions,
): Promise<Execution> {
  const scratch = new Scratch(o.scratch);
  const { db } = scratch;
  const stats: DispatchStats = { jobs: 0, retries: 0, hedges: 0 };
  try {
    for (const t of step.tables) {
      createScratchTable(db, t.name, t.columns);
      const insert = rowInserter(db, t.name, t.columns.length);
      const s = await dispatch(plan.database, t.jobs, dir, o, (rows) => {
        scratch.hold(rows);
        insert(rows);
        return true;
      });
      stats.jobs += s.jobs;
      stats.retries += s.retries;
      stats.hedges += s.hedges;
    }
    return { rows: await scratch.read(step.sql, new SizeGuard(o.maxResultBytes)), stats, streamed: false };
  } catch (e) {
    throw asSqlError(e);
  } finally {
    scratch.close();
  }
}

export function executePlan(plan: Plan, dir: WorkerDirectory, o: ExecuteOptions): Promise<Execution> {
  switch (plan.merge.kind) {
    case "concat":
      return concat(plan, plan.merge, dir, o);
    case "merge":
      return merge(plan, plan.merge, dir, o);
    case "gather":
      return gather(plan, plan.merge, dir, o);
  }
}
