import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import { haltPoint, haltsAt } from "../common/haltPoint.js";
import { type DatabaseConfig, type TableConfig, tableDialect, tableDialectOverrides } from "../common/ingestConfig.js";
import type { Dialect, DialectOverrides } from "../partitioner/dialect.js";
import { copyInputRows, type HeaderOptions, Rejects } from "../partitioner/inputRows.js";
import { type ChunkInfo, partition } from "../partitioner/partition.js";
import type { WorkerClient } from "../worker/client.js";
import { NO_CHUNK } from "../worker/layout.js";
import { uploadPartition, uploadReplicated } from "../worker/upload.js";
import type { DatabaseLocks } from "./databaseLocks.js";
import { exportDirectorIndex, readDirectorIndex } from "./directorIndexFiles.js";
import { clearTable, context, dropStages, liveWorkers, onWorkers, publishStage } from "./ingestWorkers.js";
import { stageOfLoad } from "./loadIds.js";
import { type Metadata, REPLICATED_CHUNK, tableKind } from "./metadata.js";
import {
  chunksByWorker,
  journalEntries,
  journaledScratch,
  journalStep,
  type PublishRecord,
  partitionOut,
  placementOf,
  recordPublished,
  refusePending,
} from "./publishJournal.js";
import { RESERVED } from "./sql/lexer.js";

export interface IngestContext {
  meta: Metadata;
  clients: (workerId: string) => WorkerClient;
  /** Partition output and exported director indexes go to a temporary directory under here. */
  scratchDir: string;
  /** Workers per chunk (at most the number of workers). */
  replicas: number;
  /** Held exclusively while a load is published; queries hold their database shared. */
  locks?: DatabaseLocks;
  /**
   * A load into a worker that makes no progress this long (ms) fails, and the ingest with it
   * (default DEFAULT_LOAD_IDLE_TIMEOUT_MS; 0: no limit); the clean-up of a failed ingest's stages
   * waits no longer than this for a worker either.
   */
  loadIdleTimeoutMs?: number;
  /** Called as metadata records a load, before queries see it (listings taken before are stale). */
  onPublished?: () => void;
  /** Called as the workers start publishing a stage (`on`), and once it is recorded or rolled back. */
  onPublishing?: (db: string, table: string, stage: string, on: boolean) => void;
  log?: Logger;
}

export interface IngestRequest {
  database: DatabaseConfig;
  table: TableConfig;
  files: string[];
  /** Overrides the dialect the table config and file names imply. */
  dialect?: DialectOverrides;
  /** Each file starts with a header line: skipped, or (`columnsFromHeader`) mapping fields by name. */
  header?: boolean;
  columnsFromHeader?: boolean;
  /** The input format when neither the file names nor their bytes should decide (csv, tsv, parquet, fits). */
  format?: string;
  /** Columns of a Parquet/FITS file that the table lacks are left out (else the load stops). */
  dropExtraColumns?: boolean;
  /** NaN and infinities in a Parquet/FITS file load as NULL (else their rows are refused). */
  nanAsNull?: boolean;
  /** Bad rows go to this file (on the czar's host) with their reasons, and the load goes on. */
  rejectsFile?: string;
  /** Notices about the request already made (e.g. by parsing its config), returned with the result. */
  notices?: string[];
  /** What the input is, when not its files' paths, sizes and mtimes (an upload: a hash of its bytes). */
  identity?: string;
}

/** Where an ingest is: partitioning (input bytes read), uploading (chunk loads done), publishing. */
export type IngestProgress =
  | { phase: "partition"; rows: number; bytes: number; totalBytes: number }
  | { phase: "upload"; done: number; total: number }
  | { phase: "publish"; loadId: string };

export interface IngestOptions {
  /** Aborting it before the load is published rolls everything back (CANCELLED). */
  signal?: AbortSignal;
  onProgress?: (p: IngestProgress) => void;
}

export interface IngestResult {
  table: string;
  /** The load (see the load listing); an input loaded before answers its recorded load. */
  loadId: string;
  /** Rows of this load. */
  rows: number;
  /** Rows of the table, every load included. */
  tableRows: number;
  /** Chunks holding rows of the table (0 for a replicated table). */
  chunks: number;
  /** True when this input had been loaded before: nothing was applied. */
  duplicate: boolean;
  /** Rows refused and written to the rejects file. */
  rejected: number;
  /** Things the user should know (columns added to the schema, reserved words as names). */
  notices: string[];
  elapsedMs: number;
}

/** Chunk loads in flight per worker. */
const UPLOAD_CONCURRENCY = 2;

/** See IngestContext.loadIdleTimeoutMs. */
export const DEFAULT_LOAD_IDLE_TIMEOUT_MS = 60_000;

/**
 * Tables being ingested, dropped or unloaded ("db.table"; "db.*": the whole database), per
 * metadata, with what is being done: a second such operation on the same table meanwhile is a CONFLICT.
 */
const inFlight = new WeakMap<Metadata, Map<string, string>>();

/**
 * Claims a table ("*": the whole database) for an ingest, drop or unload (`doing`, e.g.
 * "ingested"); CONFLICT when it, or its database, is claimed already. Returns the release.
 */
export function claimTable(meta: Metadata, db: string, table: string, doing: string): () => void {
  const busy = inFlight.get(meta) ?? new Map<string, string>();
  inFlight.set(meta, busy);
  const key = `${db}.${table}`;
  for (const [k, what] of busy) {
    if (k === key || k === `${db}.*` || (table === "*" && k.startsWith(`${db}.`))) {
      throw new QservError("CONFLICT", `table ${k} is being ${what}`);
    }
  }
  busy.set(key, doing);
  return () => busy.delete(key);
}

/**
 * Workers chosen for chunks no published load holds yet ("db:chunk"), per metadata: placement is
 * recorded only at publish, so concurrent loads of a database agree on new chunks through this.
 */
const reservedChunks = new WeakMap<Metadata, Map<string, string[]>>();

/** A load staged on the workers, ready to publish. */
interface Staged {
  rows: number;
  /** The workers each chunk (REPLICATED_CHUNK: the replicated table) was loaded into. */
  targets: Map<number, string[]>;
  /** Rows refused (written to the rejects file). */
  rejected: number;
  /** Partitioned tables: rows per chunk. */
  chunks?: Array<{ id: number; rows: number; overlapRows: number }>;
  /** A director table: its partition output (the load's director index). */
  partitionDir?: string;
}

/**
 * Loads one table (first load) or more rows into it (a later load, e.g. a new night of
 * observations) as one transaction: the rows are partitioned and loaded into a stage on the
 * workers, invisible to queries; then, under the database's exclusive lock, every worker
 * publishes its stage and metadata records the load in one transaction. A failure before the
 * publish (bad row, worker down, client gone) drops the stages: nothing was visible, metadata is
 * unchanged. A worker that fails to publish is dropped from its chunks' replicas as long as each
 * keeps another; else the workers that published take the load back and the ingest fails. So is
 * one that goes away while its chunks are loaded (UNAVAILABLE): the load goes on without it.
 *
 * Chunks go to live workers only; a chunk already held by a dead worker is loaded into its live
 * replicas and loses the dead one. Idempotent: the load id is derived from the config, the dialect
 * and the input files (path, size, mtime); the same input again returns the recorded result.
 */
export async function ingestTable(
  ctx: IngestContext,
  req: IngestRequest,
  o: IngestOptions = {},
): Promise<IngestResult> {
  const t0 = performance.now();
  const { database: dbCfg, table } = req;
  const db = dbCfg.database;
  const name = `${db}.${table.table}`;
  if (table.database !== db) {
    throw new QservError("BAD_CONFIG", `table ${table.table} belongs to ${table.database}, not ${db}`);
  }
  if (req.files.length === 0) throw new QservError("BAD_ARGUMENT", `${name}: no input files given`);
  if (!Number.isInteger(ctx.replicas) || ctx.replicas < 1) {
    throw new QservError("BAD_ARGUMENT", `replicas must be a positive integer, got ${ctx.replicas}`);
  }
  const loadId = loadIdOf(dbCfg, table, req.identity ?? req.files, { ...req.dialect, ...binaryOptionsOf(req) });
  const notices = [...(req.notices ?? []), ...reservedNotices(table)];
  if (ctx.meta.database(db) !== null) ctx.meta.createDatabase(dbCfg); // CONFLICT on other partitioning
  const recorded = ctx.meta.loadRows(db, table.table, loadId);
  if (recorded !== null) return result(ctx, table, loadId, recorded, true, t0, 0, notices);
  ctx.meta.checkConfig(table);

  const release = claimTable(ctx.meta, db, table.table, "ingested");
  try {
    refusePending(ctx.meta, db, `ingest ${name}`);
  } catch (e) {
    release();
    throw e;
  }
  mkdirSync(ctx.scratchDir, { recursive: true });
  const tmp = mkdtempSync(join(ctx.scratchDir, `ingest-${name}-`));
  const stage = stageOfLoad(loadId);
  let live: string[] = [];
  const reserved: string[] = [];
  try {
    const all = ctx.meta.workers().map((w) => w.id);
    if (all.length === 0) throw new QservError("UNAVAILABLE", `${name}: no workers are registered`);
    live = await liveWorkers(ctx, all);
    if (live.length === 0) throw new QservError("UNAVAILABLE", `${name}: no worker is up`);
    // What crashed attempts left: their stages, and live rows of a table metadata does not know.
    await dropStages(ctx, live, db, table.table, "*");
    if (ctx.meta.table(db, table.table) === null) await clearTable(ctx, live, db, table.table);
    const staged =
      tableKind(table) === "replicated"
        ? await stageReplicated(ctx, req, live, loadId, stage, tmp, o)
        : await stagePartitioned(ctx, req, live, loadId, stage, tmp, reserved, o);
    await publish(ctx, req, loadId, stage, staged, tmp, o);
    const r = result(ctx, table, loadId, staged.rows, false, t0, staged.rejected, notices);
    ctx.log?.info({ database: db, ...r }, "table load published");
    return r;
  } catch (e) {
    if (journalEntries(ctx.meta).some((j) => j.record.loadId === loadId && j.step === "committed")) {
      // Past the point of no return: the replay of the journal records it.
      throw context(e, `${name} is published on its workers but not recorded yet (the next repair pass records it)`);
    }
    // Nothing is published: the stages go (best effort: a later attempt drops what is left); the
    // error reported is the ingest's, never the clean-up's.
    await dropStages(ctx, live, db, table.table, stage, idleMs(ctx)).catch((c: unknown) =>
      ctx.log?.warn({ database: db, table: table.table, err: String(c) }, "could not drop a failed load's stages"),
    );
    if (o.signal?.aborted) throw new QservError("CANCELLED", `ingest of ${name} cancelled: rolled back`);
    throw e;
  } finally {
    for (const k of reserved) reservedChunks.get(ctx.meta)?.delete(k);
    // A publish past its point of no return that failed keeps its journal entry: the next
    // reconcile pass finishes it, from the partition output here.
    if (!journaledScratch(ctx.meta).has(tmp)) rmSync(tmp, { recursive: true, force: true });
    release();
  }
}

function result(
  ctx: IngestContext,
  t: TableConfig,
  loadId: string,
  rows: number,
  duplicate: boolean,
  t0: number,
  rejected: number,
  notices: string[],
): IngestResult {
  return {
    table: t.table,
    loadId,
    rows,
    tableRows: ctx.meta.table(t.database, t.table)?.rows ?? 0,
    chunks: ctx.meta.tableChunks(t.database, t.table).length,
    duplicate,
    rejected,
    notices,
    elapsedMs: performance.now() - t0,
  };
}

/** Columns named by a word MySQL reserves: queries must backquote them. */
function reservedNotices(t: TableConfig): string[] {
  const names = t.schema.map((c) => c.name).filter((n) => RESERVED.has(n.toUpperCase()));
  if (names.length === 0) return [];
  return [
    `${t.table}: ${names.map((n) => `\`${n}\``).join(", ")} ${names.length > 1 ? "are words" : "is a word"} MySQL reserves: queries must quote ${names.length > 1 ? "them" : "it"} in backquotes, e.g. SELECT \`${names[0]}\` FROM ${t.table}`,
  ];
}

/** Same config, same files (path, size, mtime; or the same identity) and reading options: same load id. */
function loadIdOf(db: DatabaseConfig, table: TableConfig, files: string[] | string, reading: object): string {
  const inputs =
    typeof files === "string"
      ? files
      : files.map((f) => {
          try {
            const st = statSync(f);
            return [resolve(f), st.size, st.mtimeMs];
          } catch (e) {
            throw new QservError("IO", `${f}: cannot read: ${(e as Error).message}`);
          }
        });
  const h = createHash("sha256").update(JSON.stringify([db, table, inputs, reading]));
  return `${db.database}.${table.table}.${h.digest("hex").slice(0, 16)}`;
}

/** Aborts the uploads when the caller's signal does, or when one of them fails (the others are moot). */
function linkedAbort(signal: AbortSignal | undefined): AbortController {
  const c = new AbortController();
  if (signal?.aborted) c.abort();
  signal?.addEventListener("abort", () => c.abort(), { once: true });
  return c;
}

function idleMs(ctx: IngestContext): number {
  return ctx.loadIdleTimeoutMs ?? DEFAULT_LOAD_IDLE_TIMEOUT_MS;
}

function cancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new QservError("CANCELLED", "ingest cancelled");
}

/**
 * One publish of the database at a time, beside its queries, journaled (publishJournal.ts): the
 * entry is written (prepared), every worker publishes its chunks under the publish's sequence
 * number, which the snapshots of queries running meanwhile leave out; a worker that fails leaves
 * the replicas of those chunks, unless a chunk would have none left (then the load is taken back);
 * the entry says committed (the point of no return: a czar that dies from here on finishes the
 * publish when it starts again); metadata records the load and its number in one transaction
 * (the queries after it see the load); the entry is closed. An error past the point of no return
 * leaves the entry open: the next reconcile pass finishes the publish.
 */
async function publish(
  ctx: IngestContext,
  req: IngestRequest,
  loadId: string,
  stage: string,
  staged: Staged,
  tmp: string,
  o: IngestOptions,
): Promise<void> {
  const { database: dbCfg, table } = req;
  const db = dbCfg.database;
  const unlockWriter = (await ctx.locks?.writer(db, o.signal)) ?? (() => {});
  let unlockShared = () => {};
  let publishing = false;
  try {
    unlockShared = (await ctx.locks?.shared(db, o.signal)) ?? (() => {});
    cancelled(o.signal);
    const seq = ctx.meta.snapshotSeq(db) + 1;
    ctx.onPublishing?.(db, table.table, stage, true);
    publishing = true;
    o.onProgress?.({ phase: "publish", loadId });
    const chunksOf = chunksByWorker(staged.targets);
    const t0 = performance.now();
    // Crash tests halt the czar at each step (see README, "A czar that dies").
    await haltPoint("publish:locked", ctx.log);
    const record: PublishRecord = {
      loadId,
      database: dbCfg,
      table,
      stage,
      seq,
      rows: staged.rows,
      files: req.files.map((f) => resolve(f)),
      targets: [...staged.targets],
      ...(staged.chunks === undefined ? {} : { chunks: staged.chunks }),
      scratch: tmp,
      ...(staged.partitionDir === undefined ? {} : { partitionDir: staged.partitionDir }),
    };
    journalStep(ctx.meta, "prepared", record);
    await haltPoint("publish:journal", ctx.log);
    if (haltsAt("publish:partial")) {
      await publishStage(ctx, "publish", new Map([...chunksOf].slice(0, 1)), db, table.table, stage, seq);
      await haltPoint("publish:partial", ctx.log);
    }
    const failed = await publishStage(ctx, "publish", chunksOf, db, table.table, stage, seq);
    await haltPoint("publish:workers", ctx.log);
    const { placement, bare } = placementOf(ctx.meta, db, staged.targets, new Set(failed.keys()));
    if (bare !== null) {
      await unpublish(ctx, db, table.table, stage, chunksOf, failed);
      ctx.meta.closeJournal(loadId);
      const why = [...failed.values()].map((e) => e.message).join("; ");
      throw new QservError(
        "UNAVAILABLE",
        `${db}.${table.table}: no worker of chunk ${bare} could publish the load: rolled back (${why})`,
      );
    }
    journalStep(ctx.meta, "committed", { ...record, placement: [...placement] });
    await haltPoint("publish:committed", ctx.log);
    if (failed.size > 0) {
      ctx.log?.warn(
        { workers: [...failed.keys()], err: [...failed.values()].map(String) },
        "publish failed: replicas dropped",
      );
      // Best effort: a worker that is back gets rid of its stage now (else at the next reconcile).
      await dropStages(ctx, [...failed.keys()], db, table.table, stage).catch(() => {});
    }
    recordPublished(ctx.meta, record, placement);
    ctx.onPublished?.();
    await haltPoint("publish:recorded", ctx.log);
    ctx.meta.closeJournal(loadId);
    ctx.log?.info({ database: db, table: table.table, ms: Math.round(performance.now() - t0) }, "published");
  } finally {
    if (publishing) ctx.onPublishing?.(db, table.table, stage, false);
    unlockShared();
    unlockWriter();
  }
}

/**
 * Takes a load back from the workers that published it; one that cannot be reached keeps rows
 * metadata does not count, so it leaves the replicas of those chunks.
 */
async function unpublish(
  ctx: IngestContext,
  db: string,
  table: string,
  stage: string,
  chunksOf: ReadonlyMap<string, number[]>,
  failed: ReadonlyMap<string, unknown>,
): Promise<void> {
  const published = new Map([...chunksOf].filter(([id]) => !failed.has(id)));
  const stuck = await publishStage(ctx, "unpublish", published, db, table, stage);
  for (const [id, e] of stuck) {
    ctx.log?.error({ worker: id, err: e.message }, "could not take a load back: the worker leaves those chunks");
    for (const chunkId of published.get(id) ?? []) ctx.meta.removeReplica(db, chunkId, id);
  }
}

/** The options that say how input files are read (header, format, Parquet/FITS column rules), those set only. */
function binaryOptionsOf(req: IngestRequest): HeaderOptions {
  return {
    ...(req.header ? { header: true } : {}),
    ...(req.columnsFromHeader ? { columnsFromHeader: true } : {}),
    ...(req.format ? { format: req.format } : {}),
    ...(req.dropExtraColumns ? { dropExtraColumns: true } : {}),
    ...(req.nanAsNull ? { nanAsNull: true } : {}),
  };
}

function sameDialect(a: Dialect, b: Dialect): boolean {
  return a.delimiter === b.delimiter && a.quote === b.quote && a.escape === b.escape && a.nullToken === b.nullToken;
}

/**
 * A replicated table goes whole to every live worker; a later load of it to the live workers
 * holding the database's replicated tables.
 */
async function stageReplicated(
  ctx: IngestContext,
  req: IngestRequest,
  live: string[],
  loadId: string,
  stage: string,
  tmp: string,
  o: IngestOptions,
): Promise<Staged> {
  const { table } = req;
  const dialect = tableDialect(table, req.files[0] as string, req.dialect);
  for (const f of req.files) {
    if (!sameDialect(tableDialect(table, f, req.dialect), dialect)) {
      throw new QservError(
        "BAD_ARGUMENT",
        `${f}: its format differs from ${req.files[0]}'s: load one format per ingest`,
      );
    }
  }
  // The rows checked (with the user's file and line) and in the schema's order, in one file.
  const rejects = new Rejects(req.rejectsFile);
  const files = [join(tmp, "rows.txt")];
  try {
    await copyInputRows(req.files, table.schema, dialect, req, files[0] as string, rejects.reject);
  } finally {
    rejects.close();
  }
  const held =
    ctx.meta.table(table.database, table.table) === null ? null : ctx.meta.replicas(table.database, NO_CHUNK);
  const ids = held === null ? live : held.filter((id) => live.includes(id));
  if (ids.length === 0) {
    throw new QservError("UNAVAILABLE", `${table.database}.${table.table}: none of its workers (${held}) is up`);
  }
  let done = 0;
  o.onProgress?.({ phase: "upload", done, total: ids.length });
  const uploads = linkedAbort(o.signal);
  const loaded = await onWorkers(
    ids,
    async (id) => {
      try {
        const r = await uploadReplicated(ctx.clients(id), files, table, dialect, `${loadId}:${NO_CHUNK}`, {
          stage,
          signal: uploads.signal,
          idleTimeoutMs: idleMs(ctx),
        });
        o.onProgress?.({ phase: "upload", done: ++done, total: ids.length });
        return r;
      } catch (e) {
        throw context(e, `loading ${table.database}.${table.table} into worker ${id}`);
      }
    },
    () => uploads.abort(),
  );
  const rows = loaded[0]?.rows ?? 0;
  if (loaded.some((r) => r.rows !== rows)) {
    throw new QservError("INTERNAL", `${table.table}: workers loaded different row counts`, {
      rows: loaded.map((r) => r.rows),
    });
  }
  return { rows, rejected: rejects.count, targets: new Map([[REPLICATED_CHUNK, ids]]) };
}

/**
 * A partitioned table: partitioned into `tmp`, each chunk loaded into the stage on its live
 * workers. A child table's rows that have no position are placed through its director's index,
 * exported from metadata into `tmp` in the partitioner's format.
 */
async function stagePartitioned(
  ctx: IngestContext,
  req: IngestRequest,
  live: string[],
  loadId: string,
  stage: string,
  tmp: string,
  reserved: string[],
  o: IngestOptions,
): Promise<Staged> {
  const { database: dbCfg, table } = req;
  const db = dbCfg.database;
  const name = `${db}.${table.table}`;
  const directors = [table.directorTable, table.directorTable2 ?? ""].filter((d) => d !== "");
  for (const d of directors) {
    if (ctx.meta.table(db, d)?.kind !== "director") {
      throw new QservError(
        "NOT_FOUND",
        `${table.table} follows director ${db}.${d}, which is not loaded: load it first`,
      );
    }
  }
  const dirs = directors.map((d, i) => {
    const dir = join(tmp, `director${i + 1}`);
    exportDirectorIndex(ctx.meta, dbCfg, d, dir);
    return dir;
  });
  const out = partitionOut(tmp);
  const t0 = performance.now();
  const totalBytes = req.files.reduce((n, f) => n + statSync(f).size, 0);
  const { info } = await partition({
    database: dbCfg,
    table,
    files: req.files,
    outDir: out,
    dialect: tableDialectOverrides(table, req.dialect),
    batch: process.env.MINI_QSERV_LOAD_FORMAT !== "text",
    ...binaryOptionsOf(req),
    ...(req.rejectsFile === undefined ? {} : { rejectsFile: req.rejectsFile }),
    ...(table.directorTable !== "" ? { directorDir: dirs[0] as string } : {}),
    ...(table.directorTable2 ? { director2Dir: dirs[1] as string } : {}),
    progress: {
      update(rows, bytes) {
        cancelled(o.signal); // stops the partitioner
        o.onProgress?.({ phase: "partition", rows, bytes, totalBytes });
      },
      stop() {},
    },
  }).catch((e: unknown) => {
    cancelled(o.signal);
    throw context(e, `partitioning ${name}`);
  });
  const partitionMs = Math.round(performance.now() - t0);
  const director = tableKind(table) === "director";
  if (director && table.uniquePrimaryKey !== false) {
    const dup = ctx.meta.heldDirectorKey(db, table.table, readDirectorIndex(out, info));
    if (dup !== null) {
      throw new QservError(
        "CONFLICT",
        `${name}: duplicate director key ${table.directorKey}=${dup}: an earlier load of the table holds it`,
        { database: db, table: table.table, key: dup },
      );
    }
  }
  const targets = placeChunks(ctx, db, info, live, reserved);
  const chunksOf = new Map<string, Set<number>>();
  for (const [chunkId, ids] of targets) {
    for (const id of ids) chunksOf.set(id, (chunksOf.get(id) ?? new Set()).add(chunkId));
  }
  const total = [...chunksOf.values()].reduce((n, s) => n + s.size, 0);
  let done = 0;
  o.onProgress?.({ phase: "upload", done, total });
  const uploads = linkedAbort(o.signal);
  const lost = new Map<string, QservError>();
  await onWorkers(
    [...chunksOf.keys()],
    async (id) => {
      const chunks = chunksOf.get(id) as Set<number>;
      try {
        const r = await uploadPartition(ctx.clients(id), out, table, loadId, {
          chunks,
          concurrency: UPLOAD_CONCURRENCY,
          stage,
          signal: uploads.signal,
          idleTimeoutMs: idleMs(ctx),
          onChunk: () => o.onProgress?.({ phase: "upload", done: ++done, total }),
        });
        checkLoaded(info, chunks, r.rows, r.overlapRows);
      } catch (e) {
        const err = context(e, `loading ${name} into worker ${id}`);
        // A worker gone mid-load: its chunks keep their other targets (checked below).
        if (err.code === "UNAVAILABLE" && !uploads.signal.aborted) lost.set(id, err);
        else throw err;
      }
    },
    () => uploads.abort(),
  );
  if (lost.size > 0) await goAround(ctx, targets, lost, db, table.table, stage);
  ctx.log?.info({ table: name, partitionMs, uploadMs: Math.round(performance.now() - t0) - partitionMs }, "staged");
  return {
    rows: info.totals.rows,
    rejected: info.totals.rejected,
    targets,
    chunks: info.chunks.map((c) => ({ id: c.id, rows: c.nrec[0], overlapRows: c.nrec[1] })),
    ...(director ? { partitionDir: out } : {}),
  };
}

/**
 * Takes the workers a load failed on (gone mid-load) off the targets of their chunks, as a publish
 * that fails on a worker does; throws the first failure when a chunk would have no target left.
 */
async function goAround(
  ctx: IngestContext,
  targets: Map<number, string[]>,
  lost: ReadonlyMap<string, QservError>,
  db: string,
  table: string,
  stage: string,
): Promise<void> {
  for (const [chunkId, ids] of targets) {
    const left = ids.filter((id) => !lost.has(id));
    if (left.length === 0) throw lost.get(ids[0] as string) as QservError;
    targets.set(chunkId, left);
  }
  ctx.log?.warn(
    { workers: [...lost.keys()], err: [...lost.values()].map(String) },
    "load failed on workers: their chunks keep their other replicas",
  );
  // Best effort: a worker that is back drops its part of the stage now (else at the table's next load).
  await dropStages(ctx, [...lost.keys()], db, table, stage).catch(() => {});
}

/**
 * The live workers to load each chunk into: a chunk already placed goes to its live replicas
 * (UNAVAILABLE when none is up), a new one to `replicas` live workers (fewer when fewer are up),
 * or to those a load under way chose for it. Chunks this load chooses for are added to `reserved`.
 */
function placeChunks(
  ctx: IngestContext,
  db: string,
  info: ChunkInfo,
  live: string[],
  reserved: string[],
): Map<number, string[]> {
  const replicas = Math.min(ctx.replicas, live.length);
  if (replicas < ctx.replicas) {
    ctx.log?.warn({ replicas: ctx.replicas, live: live.length }, "fewer live workers than replicas");
  }
  const plan = ctx.meta.planChunks(
    db,
    info.chunks.map((c) => c.id),
    live,
    replicas,
    new Map(info.chunks.map((c) => [c.id, c.nrec[0] + c.nrec[1]])),
  );
  const pending = reservedChunks.get(ctx.meta) ?? new Map<string, string[]>();
  reservedChunks.set(ctx.meta, pending);
  const recorded = ctx.meta.chunkContents(db);
  const out = new Map<number, string[]>();
  for (const [chunkId, planned] of plan) {
    let ids = planned;
    const key = `${db}:${chunkId}`;
    if (ctx.meta.replicas(db, chunkId).length === 0) {
      if (recorded.has(chunkId)) {
        // Rows of earlier loads are there, but no worker is known to hold them: a new file would lack them.
        throw new QservError("UNAVAILABLE", `${db}: chunk ${chunkId} holds rows of earlier loads but has no replica`);
      }
      const chosen = pending.get(key);
      if (chosen !== undefined) ids = chosen;
      else {
        pending.set(key, ids);
        reserved.push(key);
      }
    }
    const up = ids.filter((id) => live.includes(id));
    if (up.length === 0) {
      throw new QservError("UNAVAILABLE", `${db}: chunk ${chunkId} is held by ${ids.join(", ")}, none of which is up`);
    }
    out.set(chunkId, up);
  }
  return out;
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
