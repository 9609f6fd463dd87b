/** What ingest asks of its workers besides loading: who is up, clean-up of stages and leftovers, publishing. */
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import type { WorkerClient } from "../worker/client.js";
import { NO_CHUNK } from "../worker/layout.js";

export interface WorkerAccess {
  clients: (workerId: string) => WorkerClient;
  log?: Logger;
}

/** How long a worker may take to answer a status call before ingest counts it as down. */
export const STATUS_TIMEOUT_MS = 2000;

/** The error with what was being done in front of its message, its code kept. */
export function context(e: unknown, what: string): QservError {
  if (e instanceof QservError) return new QservError(e.code, `${what}: ${e.message}`, { ...e.details });
  return new QservError("INTERNAL", `${what}: ${e instanceof Error ? e.message : String(e)}`);
}

/**
 * Runs one task per worker, all of them to the end; throws the first failure (in time: the
 * cause, not the cancellations it may trigger through `onFailure`).
 */
export async function onWorkers<T>(
  workers: ReadonlyArray<string>,
  task: (workerId: string) => Promise<T>,
  onFailure?: () => void,
): Promise<T[]> {
  let first: { e: unknown } | null = null;
  const settled = await Promise.allSettled(
    workers.map((id) =>
      task(id).catch((e: unknown) => {
        if (first === null) {
          first = { e };
          onFailure?.();
        }
        throw e;
      }),
    ),
  );
  if (first !== null) throw (first as { e: unknown }).e;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/** The workers of `ids` that answer a status call in time, in the order given. */
export async function liveWorkers(w: WorkerAccess, ids: ReadonlyArray<string>): Promise<string[]> {
  const up = await Promise.all(
    ids.map((id) =>
      w
        .clients(id)
        .status({ timeoutMs: STATUS_TIMEOUT_MS })
        .then(
          () => true,
          () => false,
        ),
    ),
  );
  const down = ids.filter((_, i) => !up[i]);
  if (down.length > 0) w.log?.warn({ down }, "workers down: ingest goes around them");
  return ids.filter((_, i) => up[i]);
}

/** Drops every live piece of the table the workers hold (chunks, or the replicated table). */
export async function clearTable(w: WorkerAccess, workers: ReadonlyArray<string>, db: string, table: string) {
  await onWorkers(workers, async (id) => {
    try {
      const client = w.clients(id);
      const held = (await client.list(db)).databases.find((d) => d.name === db);
      if (held === undefined) return;
      const chunks = held.chunks.filter((c) => c.tables.some((t) => t.table === table)).map((c) => c.chunkId);
      if (held.tables.some((t) => t.name === table && !t.partitioned)) chunks.push(NO_CHUNK);
      for (const chunkId of new Set(chunks)) await client.drop({ database: db, chunkId, table });
      if (chunks.length > 0) w.log?.info({ worker: id, database: db, table, chunks: chunks.length }, "cleared");
    } catch (e) {
      throw context(e, `clearing ${db}.${table} on worker ${id}`);
    }
  });
}

/** Drops a stage of the table ("*": every stage) on each worker; throws the first failure. */
export async function dropStages(
  w: WorkerAccess,
  workers: ReadonlyArray<string>,
  db: string,
  table: string,
  stage: string,
  /** Per worker call (0 or absent: no limit). */
  timeoutMs = 0,
): Promise<void> {
  await onWorkers(workers, async (id) => {
    try {
      await w.clients(id).dropStage({ database: db, table, stage }, timeoutMs > 0 ? { timeoutMs } : {});
    } catch (e) {
      throw context(e, `dropping stage ${stage} of ${db}.${table} on worker ${id}`);
    }
  });
}

/** Publishes (or unpublishes) the stage on each worker (its chunks); the workers where it failed, with why. */
export async function publishStage(
  w: WorkerAccess,
  op: "publish" | "unpublish",
  chunksOf: ReadonlyMap<string, number[]>,
  db: string,
  table: string,
  stage: string,
  /** The publish's sequence number (see Metadata.snapshotSeq). */
  seq = 0,
): Promise<Map<string, QservError>> {
  const failed = new Map<string, QservError>();
  await Promise.all(
    [...chunksOf].map(async ([id, chunkIds]) => {
      try {
        await w.clients(id)[op]({ database: db, table, stage, chunkIds, ...(seq > 0 ? { seq } : {}) });
      } catch (e) {
        failed.set(
          id,
          context(e, `${op === "publish" ? "publishing" : "unpublishing"} ${db}.${table} on worker ${id}`),
        );
      }
    }),
  );
  return failed;
}
