import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import { type DatabaseConfig, type TableConfig, tableDialect, tableDialectOverrides } from "../common/ingestConfig.js";
import type { Dialect, DialectOverrides } from "../partitioner/dialect.js";
import { type ChunkInfo, partition } from "../partitioner/partition.js";
import type { WorkerClient } from "../worker/client.js";
import { NO_CHUNK } from "../worker/layout.js";
import { uploadPartition, uploadReplicated } from "../worker/upload.js";
import { exportDirectorIndex, readDirectorIndex } from "./directorIndexFiles.js";
import { type Metadata, type TableMeta, tableKind, type WorkerInfo } from "./metadata.js";

export interface IngestContext {
  meta: Metadata;
  clients: (workerId: string) => WorkerClient;
  /** Partition output and exported director indexes go to a temporary directory under here. */
  scratchDir: string;
  /** Workers per chunk (at most the number of workers). */
  replicas: number;
  log?: Logger;
}

export interface IngestRequest {
  database: DatabaseConfig;
  table: TableConfig;
  files: string[];
  /** Overrides the dialect the table config and file names imply. */
  dialect?: DialectOverrides;
}

export interface IngestResult {
  table: string;
  rows: number;
  /** Chunks holding rows of the table (0 for a replicated table). */
  chunks: number;
  elapsedMs: number;
}

/** Chunk loads in flight per worker. */
const UPLOAD_CONCURRENCY = 2;

/** Tables being ingested, per metadata: a second ingest of the same table meanwhile is a CONFLICT. */
const inFlight = new WeakMap<Metadata, Set<string>>();

/**
 * Loads one table into the cluster: partitions its files (partitioned tables), loads each chunk
 * into its workers (replicated tables: into every worker), then records the table in metadata in
 * one transaction, so that metadata never claims a table that did not load.
 *
 * Idempotent: the load id is derived from the config, the dialect and the input files (path,
 * size, mtime), and each chunk load's id from it (a worker never applies one twice). Ingesting
 * the same input again once the table is registered returns the recorded result; a table
 * registered from other input is a CONFLICT. A table that is not registered starts from a clean
 * slate: whatever an earlier failed attempt left of it on the workers is dropped first, and
 * again (best effort) when this attempt fails.
 */
export async function ingestTable(ctx: IngestContext, req: IngestRequest): Promise<IngestResult> {
  const t0 = performance.now();
  const { database: dbCfg, table } = req;
  const db = dbCfg.database;
  const name = `${db}.${table.table}`;
  if (table.database !== db) {
    throw new QservError("BAD_CONFIG", `table ${table.table} belongs to ${table.database}, not ${db}`);
  }
  if (req.files.length === 0) throw new QservError("BAD_ARGUMENT", `${name}: no input files given`);
  const loadId = loadIdOf(dbCfg, table, req.files, req.dialect);
  ctx.meta.createDatabase(dbCfg);

  const held = ctx.meta.table(db, table.table);
  if (held !== null) {
    if (ctx.meta.loadIdOf(db, table.table) !== loadId) {
      throw new QservError("CONFLICT", `table ${name} is already loaded (from other input)`, {
        database: db,
        table: table.table,
      });
    }
    return result(held, ctx.meta.tableChunks(db, table.table).length, t0);
  }
  const busy = inFlight.get(ctx.meta) ?? new Set<string>();
  inFlight.set(ctx.meta, busy);
  if (busy.has(name)) throw new QservError("CONFLICT", `table ${name} is being ingested`);
  busy.add(name);
  try {
    const workers = ctx.meta.workers();
    if (workers.length === 0) throw new QservError("UNAVAILABLE", `${name}: no workers are registered`);
    if (!Number.isInteger(ctx.replicas) || ctx.replicas < 1) {
      throw new QservError("BAD_ARGUMENT", `replicas must be a positive integer, got ${ctx.replicas}`);
    }
    await clearTable(ctx, workers, db, table.table);
    try {
      const meta =
        tableKind(table) === "replicated"
          ? await loadReplicated(ctx, req, workers, loadId)
          : await loadPartitioned(ctx, req, workers, loadId);
      const r = result(meta, ctx.meta.tableChunks(db, table.table).length, t0);
      ctx.log?.info({ database: db, ...r }, "table ingested");
      return r;
    } catch (e) {
      // Best effort: a later attempt clears what is left anyway.
      await clearTable(ctx, workers, db, table.table).catch((c: unknown) =>
        ctx.log?.warn({ database: db, table: table.table, err: c }, "could not clear a failed load"),
      );
      throw e;
    }
  } finally {
    busy.delete(name);
  }
}

function result(meta: TableMeta, chunks: number, t0: number): IngestResult {
  return { table: meta.name, rows: meta.rows, chunks, elapsedMs: performance.now() - t0 };
}

/** Same config, same files (path, size, mtime) and dialect: same load id. */
function loadIdOf(db: DatabaseConfig, table: TableConfig, files: string[], dialect?: DialectOverrides): string {
  const inputs = files.map((f) => {
    try {
      const st = statSync(f);
      return [resolve(f), st.size, st.mtimeMs];
    } catch (e) {
      throw new QservError("IO", `${f}: cannot read: ${(e as Error).message}`);
    }
  });
  const h = createHash("sha256").update(JSON.stringify([db, table, inputs, dialect ?? {}]));
  return `${db.database}.${table.table}.${h.digest("hex").slice(0, 16)}`;
}

/** The error with what was being done in front of its message, its code kept. */
function context(e: unknown, what: string): QservError {
  if (e instanceof QservError) return new QservError(e.code, `${what}: ${e.message}`, { ...e.details });
  return new QservError("INTERNAL", `${what}: ${e instanceof Error ? e.message : String(e)}`);
}

/** Runs one task per worker, all of them to the end; throws the first failure. */
async function onWorkers<T>(workers: ReadonlyArray<string>, task: (workerId: string) => Promise<T>): Promise<T[]> {
  const settled = await Promise.allSettled(workers.map(task));
  const failed = settled.find((s) => s.status === "rejected");
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/** Drops every piece of the table the workers hold (chunks, or the replicated table). */
async function clearTable(ctx: IngestContext, workers: WorkerInfo[], db: string, table: string): Promise<void> {
  await onWorkers(
    workers.map((w) => w.id),
    async (id) => {
      try {
        const client = ctx.clients(id);
        const held = (await client.list(db)).databases.find((d) => d.name === db);
        if (held === undefined) return;
        const chunks = held.chunks.filter((c) => c.tables.some((t) => t.table === table)).map((c) => c.chunkId);
        if (held.tables.some((t) => t.name === table && !t.partitioned)) chunks.push(NO_CHUNK);
        for (const chunkId of new Set(chunks)) await client.drop({ database: db, chunkId, table });
        if (chunks.length > 0) ctx.log?.info({ worker: id, database: db, table, chunks: chunks.length }, "cleared");
      } catch (e) {
        throw context(e, `clearing ${db}.${table} on worker ${id}`);
      }
    },
  );
}

function sameDialect(a: Dialect, b: Dialect): boolean {
  return a.delimiter === b.delimiter && a.quote === b.quote && a.escape === b.escape && a.nullToken === b.nullToken;
}

/** A replicated table goes whole to every worker. */
async function loadReplicated(
  ctx: IngestContext,
  req: IngestRequest,
  workers: WorkerInfo[],
  loadId: string,
): Promise<TableMeta> {
  const { table, files } = req;
  const dialect = tableDialect(table, files[0] as string, req.dialect);
  for (const f of files) {
    if (!sameDialect(tableDialect(table, f, req.dialect), dialect)) {
      throw new QservError("BAD_ARGUMENT", `${f}: its format differs from ${files[0]}'s: load one format per ingest`);
    }
  }
  const ids = workers.map((w) => w.id);
  const loaded = await onWorkers(ids, async (id) => {
    try {
      return await uploadReplicated(ctx.clients(id), files, table, dialect, `${loadId}:${NO_CHUNK}`);
    } catch (e) {
      throw context(e, `loading ${table.database}.${table.table} into worker ${id}`);
    }
  });
  const rows = loaded[0]?.rows ?? 0;
  if (loaded.some((r) => r.rows !== rows)) {
    throw new QservError("INTERNAL", `${table.table}: workers loaded different row counts`, {
      rows: loaded.map((r) => r.rows),
    });
  }
  return ctx.meta.registerTable({ config: table, loadId, rows, replicatedOn: ids });
}

/**
 * A partitioned table: partitioned into a temporary directory under scratchDir, each chunk
 * loaded into its workers. A child table's rows that have no position are placed through its
 * director's index, exported from metadata into that directory in the partitioner's format
 * (metadata is the one copy of every index, so nothing else under scratchDir must survive).
 */
async function loadPartitioned(
  ctx: IngestContext,
  req: IngestRequest,
  workers: WorkerInfo[],
  loadId: string,
): Promise<TableMeta> {
  const { database: dbCfg, table } = req;
  const db = dbCfg.database;
  const directors = [table.directorTable, table.directorTable2 ?? ""].filter((d) => d !== "");
  for (const d of directors) {
    if (ctx.meta.table(db, d)?.kind !== "director") {
      throw new QservError(
        "NOT_FOUND",
        `${table.table} follows director ${db}.${d}, which is not loaded: load it first`,
      );
    }
  }
  mkdirSync(ctx.scratchDir, { recursive: true });
  const tmp = mkdtempSync(join(ctx.scratchDir, `ingest-${db}.${table.table}-`));
  try {
    const dirs = directors.map((d, i) => {
      const dir = join(tmp, `director${i + 1}`);
      exportDirectorIndex(ctx.meta, dbCfg, d, dir);
      return dir;
    });
    const out = join(tmp, "out");
    const { info } = await partition({
      database: dbCfg,
      table,
      files: req.files,
      outDir: out,
      dialect: tableDialectOverrides(table, req.dialect),
      ...(table.directorTable !== "" ? { directorDir: dirs[0] as string } : {}),
      ...(table.directorTable2 ? { director2Dir: dirs[1] as string } : {}),
    }).catch((e: unknown) => {
      throw context(e, `partitioning ${db}.${table.table}`);
    });

    const replicas = Math.min(ctx.replicas, workers.length);
    if (replicas < ctx.replicas) {
      ctx.log?.warn({ replicas: ctx.replicas, workers: workers.length }, "fewer workers than replicas");
    }
    const placement = ctx.meta.assignChunks(
      db,
      info.chunks.map((c) => c.id),
      workers.map((w) => w.id),
      replicas,
    );
    const perWorker = new Map<string, Set<number>>();
    for (const [chunkId, ids] of placement) {
      for (const id of ids) perWorker.set(id, (perWorker.get(id) ?? new Set()).add(chunkId));
    }
    await onWorkers([...perWorker.keys()], async (id) => {
      const chunks = perWorker.get(id) as Set<number>;
      try {
        const r = await uploadPartition(ctx.clients(id), out, table, loadId, {
          chunks,
          concurrency: UPLOAD_CONCURRENCY,
        });
        checkLoaded(info, chunks, r.rows, r.overlapRows);
      } catch (e) {
        throw context(e, `loading ${db}.${table.table} into worker ${id}`);
      }
    });

    return ctx.meta.registerTable({
      config: table,
      loadId,
      rows: info.totals.rows,
      chunks: info.chunks.map((c) => ({ id: c.id, rows: c.nrec[0], overlapRows: c.nrec[1] })),
      ...(tableKind(table) === "director" ? { directorIndex: readDirectorIndex(out, info) } : {}),
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The rows a worker reports loading must be those the partitioner wrote for its chunks. */
function checkLoaded(info: ChunkInfo, chunks: ReadonlySet<number>, rows: number, overlapRows: number): void {
  let want = 0;
  let wantOverlap = 0;
  for (const c of info.chunks) {
    if (!chunks.has(c.id)) continue;
    want += c.nrec[0];
    wantOverlap += c.nrec[1];
  }
  if (rows !== want || overlapRows !== wantOverlap) {
    throw new QservError(
      "INTERNAL",
      `loaded ${rows} rows and ${overlapRows} overlap rows, the partitioner wrote ${want} and ${wantOverlap}`,
    );
  }
}
