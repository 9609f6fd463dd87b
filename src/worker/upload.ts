import fs from "node:fs";
import path from "node:path";
import pLimit from "p-limit";
import { QservError } from "../common/errors.js";
import type { TableConfig } from "../common/ingestConfig.js";
import type { Dialect } from "../partitioner/dialect.js";
import { CHUNK_INFO, type ChunkInfo, chunkFile, overlapFile } from "../partitioner/partition.js";
import { type ChunkLoad, filePieces, type LoadCallOptions, loadHeader, type WorkerClient } from "./client.js";
import { NO_CHUNK } from "./layout.js";
import type { ColumnDef, LoadResponse } from "./messages.js";

export interface UploadResult {
  chunks: number;
  rows: number;
  overlapRows: number;
}

/** Column definitions in file order, typed from the table config. */
function columnDefs(names: readonly string[], table: TableConfig): ColumnDef[] {
  return names.map((name) => {
    const c = table.schema.find((s) => s.name === name);
    if (c === undefined) throw new QservError("BAD_CONFIG", `column ${name} is not in the config of ${table.table}`);
    return { name, mysqlType: c.type };
  });
}

export function readChunkInfo(dir: string): ChunkInfo {
  return JSON.parse(fs.readFileSync(path.join(dir, CHUNK_INFO), "utf8")) as ChunkInfo;
}

export interface UploadOptions {
  /** Load into this stage of the table rather than its live tables. */
  stage?: string;
  signal?: AbortSignal;
  /** A chunk load that makes no progress this long (ms) fails (0 or absent: no limit). */
  idleTimeoutMs?: number;
}

function loadOptions(o: UploadOptions): LoadCallOptions {
  return {
    ...(o.signal === undefined ? {} : { signal: o.signal }),
    ...(o.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: o.idleTimeoutMs }),
  };
}

/**
 * Loads a partitioner output directory into one worker, one atomic load per chunk (load id
 * `<loadId>:<chunkId>`, so a retried upload does not duplicate a chunk already committed).
 * `onChunk` hears of each chunk once it has committed.
 */
export async function uploadPartition(
  client: WorkerClient,
  dir: string,
  table: TableConfig,
  loadId: string,
  o: UploadOptions & { chunks?: ReadonlySet<number>; concurrency?: number; onChunk?: (chunkId: number) => void } = {},
): Promise<UploadResult> {
  const info = readChunkInfo(dir);
  const load: Omit<ChunkLoad, "loadId"> = {
    database: table.database,
    table: table.table,
    columns: columnDefs(info.columns, table),
    directorKey: table.directorKey,
    latitudeKey: table.latitudeKey,
    longitudeKey: table.longitudeKey,
    dialect: info.dialect,
    batch: info.rowFormat === "batch",
    ...(o.stage === undefined ? {} : { stage: o.stage }),
  };
  const limit = pLimit(o.concurrency ?? 2);
  const chunks = info.chunks.filter((c) => o.chunks === undefined || o.chunks.has(c.id));
  // The first failure in time is the cause; the loads failing after it may be its cancellations.
  // It cancels the loads under way and those not started (the upload has failed).
  let first: { e: unknown } | null = null;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (o.signal?.aborted) stop.abort();
  o.signal?.addEventListener("abort", onAbort, { once: true });
  const each = { ...o, signal: stop.signal };
  // Every load ends (commits or is rolled back) before this returns or throws.
  const settled = await Promise.allSettled(
    chunks.map((c) =>
      limit(async () => {
        stop.signal.throwIfAborted();
        const r = await client.load(
          loadHeader({ ...load, loadId: `${loadId}:${c.id}` }, c.id),
          filePieces([
            { part: "ROWS", file: path.join(dir, chunkFile(c.id)) },
            { part: "OVERLAP", file: path.join(dir, overlapFile(c.id)) },
          ]),
          loadOptions(each),
        );
        o.onChunk?.(c.id);
        return r;
      }).catch((e: unknown) => {
        if (first === null) {
          first = { e };
          stop.abort();
        }
        throw e;
      }),
    ),
  );
  o.signal?.removeEventListener("abort", onAbort);
  if (first !== null) throw (first as { e: unknown }).e;
  const results = settled.map((r) => (r as PromiseFulfilledResult<LoadResponse>).value);
  return {
    chunks: chunks.length,
    rows: results.reduce((n, r) => n + r.rows, 0),
    overlapRows: results.reduce((n, r) => n + r.overlapRows, 0),
  };
}

/** Loads the input files of a replicated (non-partitioned) table into one worker, atomically. */
export async function uploadReplicated(
  client: WorkerClient,
  files: readonly string[],
  table: TableConfig,
  dialect: Dialect,
  loadId: string,
  o: UploadOptions = {},
): Promise<UploadResult> {
  const header = loadHeader(
    {
      loadId,
      database: table.database,
      table: table.table,
      columns: table.schema.map((c) => ({ name: c.name, mysqlType: c.type })),
      directorKey: table.directorKey,
      dialect,
      ...(o.stage === undefined ? {} : { stage: o.stage }),
    },
    NO_CHUNK,
  );
  const r = await client.load(
    header,
    filePieces(files.map((file) => ({ part: "ROWS" as const, file }))),
    loadOptions(o),
  );
  return { chunks: 0, rows: r.rows, overlapRows: 0 };
}
