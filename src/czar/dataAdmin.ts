/**
 * Taking data out: DROP TABLE, DROP DATABASE and unloading one load. Each is one step against
 * metadata, the commit record: under the database's exclusive lock (queries that started finish
 * first, later ones plan without it) metadata forgets the table or the load in one transaction,
 * then every live worker drops what it holds of it. A worker that is down, or fails, keeps rows
 * metadata no longer counts: its listing then differs from metadata, so queries pass its copies
 * over, and the next reconcile (czar start, repair and gc passes) takes back the publishes of
 * loads metadata does not record and gc drops what is left; a table is never served from it
 * again. A czar that dies after the metadata transaction leaves the same state: all out.
 */
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import { haltPoint, haltsAt } from "../common/haltPoint.js";
import type { WorkerClient } from "../worker/client.js";
import { NO_CHUNK } from "../worker/layout.js";
import type { DatabaseLocks } from "./databaseLocks.js";
import { claimTable } from "./ingest.js";
import { clearTable, context, liveWorkers } from "./ingestWorkers.js";
import { stageOfLoad } from "./loadIds.js";
import type { LoadInfo, Metadata, Removed } from "./metadata.js";
import { refusePending } from "./publishJournal.js";

export interface AdminContext {
  meta: Metadata;
  clients: (workerId: string) => WorkerClient;
  locks: DatabaseLocks;
  /** Called once metadata changed (listings of the workers taken before are stale). */
  onChanged?: () => void;
  log?: Logger;
}

/** What a drop or an unload did. */
export interface RemovalResult {
  /** False for DROP ... IF EXISTS of nothing. */
  removed: boolean;
  rows: number;
  /** Workers that could not be reached: they drop it when a reconcile or gc pass finds them up. */
  pending: string[];
  elapsedMs: number;
}

/** Per call to a worker. */
const WORKER_TIMEOUT_MS = 60_000;

/** Runs `fn` holding the table (or "*": database) claim and the database's exclusive lock. */
async function exclusively<T>(
  ctx: AdminContext,
  db: string,
  table: string,
  doing: string,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const release = claimTable(ctx.meta, db, table, doing);
  try {
    refusePending(ctx.meta, db, `${doing === "unloaded" ? "unload" : "drop"} ${table === "*" ? db : `${db}.${table}`}`);
    const unlock = await ctx.locks.exclusive(db, signal);
    try {
      return await fn();
    } finally {
      unlock();
    }
  } finally {
    release();
  }
}

/** On every live registered worker, `task`; the workers down or failing (logged). */
async function onLiveWorkers(
  ctx: AdminContext,
  what: string,
  task: (client: WorkerClient, id: string) => Promise<void>,
): Promise<string[]> {
  const all = ctx.meta.workers().map((w) => w.id);
  const live = await liveWorkers(ctx, all);
  const pending = all.filter((id) => !live.includes(id));
  await Promise.all(
    live.map(async (id) => {
      try {
        await task(ctx.clients(id), id);
      } catch (e) {
        pending.push(id);
        ctx.log?.warn({ worker: id, err: context(e, what).message }, "worker left for reconcile");
      }
    }),
  );
  if (pending.length > 0) ctx.log?.warn({ pending, what }, "workers down or failing: reconciled when back");
  return pending.sort();
}

/**
 * As when a publish fails: a worker that still holds the load's rows leaves the placement of
 * each such chunk that keeps a worker which took them out (gc drops its copy once it is back,
 * repair copies the chunk to R again), so it can never serve them, whatever its listing says.
 */
function leavePlacements(ctx: AdminContext, db: string, removed: Removed, pending: readonly string[]): void {
  for (const [chunkId, workers] of removed.chunks) {
    const placed = ctx.meta.replicas(db, chunkId);
    const stale = placed.filter((id) => workers.includes(id) && pending.includes(id));
    if (stale.length === 0 || stale.length === placed.length) continue;
    for (const id of stale) ctx.meta.removeReplica(db, chunkId, id);
    ctx.log?.warn(
      { database: db, chunkId, workers: stale },
      "workers holding unloaded rows leave the chunk's replicas",
    );
  }
}

function done(removed: Removed | null, pending: string[], t0: number): RemovalResult {
  return { removed: removed !== null, rows: removed?.rows ?? 0, pending, elapsedMs: performance.now() - t0 };
}

/**
 * DROP TABLE: refused (CONFLICT) for a director table that child tables follow: drop them
 * first (there is no CASCADE).
 */
export async function dropTable(
  ctx: AdminContext,
  db: string,
  table: string,
  o: { ifExists?: boolean; signal?: AbortSignal } = {},
): Promise<RemovalResult> {
  const t0 = performance.now();
  return exclusively(ctx, db, table, "dropped", o.signal, async () => {
    if (ctx.meta.table(db, table) === null) {
      if (o.ifExists === true) return done(null, [], t0);
      throw new QservError("NOT_FOUND", `Unknown table '${db}.${table}'`, { database: db, table });
    }
    const children = ctx.meta.childTables(db, table);
    if (children.length > 0) {
      throw new QservError(
        "CONFLICT",
        `cannot drop ${db}.${table}: child tables follow it (${children.join(", ")}); drop them first`,
        { database: db, table, children },
      );
    }
    await haltPoint("drop:locked", ctx.log);
    const removed = ctx.meta.dropTable(db, table);
    ctx.onChanged?.();
    await haltPoint("drop:recorded", ctx.log);
    const pending = await onLiveWorkers(ctx, `dropping ${db}.${table}`, (_c, id) => clearTable(ctx, [id], db, table));
    ctx.onChanged?.();
    ctx.log?.info({ database: db, table, rows: removed.rows, pending }, "table dropped");
    return done(removed, pending, t0);
  });
}

/** DROP DATABASE: every table, every chunk file and replicated file of it. */
export async function dropDatabase(
  ctx: AdminContext,
  db: string,
  o: { ifExists?: boolean; signal?: AbortSignal } = {},
): Promise<RemovalResult> {
  const t0 = performance.now();
  return exclusively(ctx, db, "*", "dropped", o.signal, async () => {
    if (ctx.meta.database(db) === null) {
      if (o.ifExists === true) return done(null, [], t0);
      throw new QservError("NOT_FOUND", `Can't drop database '${db}'; database doesn't exist`, { database: db });
    }
    await haltPoint("drop:locked", ctx.log);
    const removed = ctx.meta.dropDatabase(db);
    ctx.onChanged?.();
    await haltPoint("drop:recorded", ctx.log);
    const pending = await onLiveWorkers(ctx, `dropping database ${db}`, async (client) => {
      const held = (await client.list(db, { timeoutMs: WORKER_TIMEOUT_MS })).databases.find((d) => d.name === db);
      if (held === undefined) return;
      const files = held.chunks.map((c) => c.chunkId);
      if (held.tables.some((t) => !t.partitioned)) files.push(NO_CHUNK);
      for (const chunkId of files) await client.drop({ database: db, chunkId, table: "" });
      for (const table of new Set(held.staged.map((s) => s.table))) {
        await client.dropStage({ database: db, table, stage: "*" }, { timeoutMs: WORKER_TIMEOUT_MS });
      }
    });
    ctx.onChanged?.();
    ctx.log?.info({ database: db, rows: removed.rows, pending }, "database dropped");
    return done(removed, pending, t0);
  });
}

/**
 * Takes exactly one load's rows out of every chunk, overlap table and replica, and its keys out
 * of the director index; the table goes with its last load. Refused (CONFLICT) for a load of a
 * director table that child tables follow (their rows may be placed by its keys).
 */
export async function unload(
  ctx: AdminContext,
  loadId: string,
  o: { signal?: AbortSignal } = {},
): Promise<RemovalResult & { load: LoadInfo }> {
  const t0 = performance.now();
  const found = ctx.meta.load(loadId);
  if (found === null) throw new QservError("NOT_FOUND", `no load ${loadId} is recorded (see mini-qserv loads)`);
  const { database: db, table } = found;
  return exclusively(ctx, db, table, "unloaded", o.signal, async () => {
    const load = ctx.meta.load(loadId);
    if (load === null) throw new QservError("NOT_FOUND", `no load ${loadId} is recorded (see mini-qserv loads)`);
    const children = ctx.meta.childTables(db, table);
    if (children.length > 0) {
      throw new QservError(
        "CONFLICT",
        `cannot unload ${loadId}: child tables follow ${db}.${table} (${children.join(", ")}); drop them first`,
        { loadId, children },
      );
    }
    await haltPoint("unload:locked", ctx.log);
    const removed = ctx.meta.unrecordLoad(db, table, loadId);
    ctx.onChanged?.();
    await haltPoint("unload:recorded", ctx.log);
    const chunksOf = new Map<string, number[]>();
    for (const [chunkId, workers] of removed.chunks) {
      for (const id of workers) chunksOf.set(id, [...(chunksOf.get(id) ?? []), chunkId]);
    }
    const req = (chunkIds: number[]) => ({ database: db, table, stage: stageOfLoad(loadId), chunkIds });
    if (haltsAt("unload:partial")) {
      // Crash tests halt the czar once one worker has taken the load out.
      const [id, chunkIds] = [...chunksOf][0] ?? ["", []];
      await ctx.clients(id).unpublish(req(chunkIds), { timeoutMs: WORKER_TIMEOUT_MS });
      await haltPoint("unload:partial", ctx.log);
    }
    const pending = await onLiveWorkers(ctx, `unloading ${loadId}`, async (client, id) => {
      const chunkIds = chunksOf.get(id);
      if (chunkIds !== undefined) await client.unpublish(req(chunkIds), { timeoutMs: WORKER_TIMEOUT_MS });
    });
    leavePlacements(ctx, db, removed, pending);
    ctx.onChanged?.();
    ctx.log?.info({ loadId, rows: removed.rows, tableDropped: removed.tableDropped, pending }, "load unloaded");
    return {
      ...done(
        removed,
        pending.filter((id) => chunksOf.has(id)),
        t0,
      ),
      load,
    };
  });
}
