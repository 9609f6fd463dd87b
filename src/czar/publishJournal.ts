/**
 * The publish journal: one entry per publish under way, in metadata (the same SQLite file, WAL),
 * written before each step. A publish is `prepared` (journaled before any worker publishes; the
 * record holds what metadata will record and which workers staged each chunk), then `committed`
 * (every worker that keeps the load has published its stage: the point of no return), then
 * recorded in metadata, then closed. A czar that dies leaves the entry; at its next start
 * `replayJournal` (replay.ts) takes a prepared publish back, unless every worker it staged on
 * shows it published (then it is past the point of no return too), and finishes a committed one.
 */
import { join } from "node:path";
import { QservError } from "../common/errors.js";
import type { DatabaseConfig, TableConfig } from "../common/ingestConfig.js";
import { readChunkInfo } from "../worker/upload.js";
import { readDirectorIndex } from "./directorIndexFiles.js";
import { type Metadata, REPLICATED_CHUNK } from "./metadata.js";

export type PublishStep = "prepared" | "committed";

/** What a journal entry holds: enough to record the load, or take it back, without the ingest. */
export interface PublishRecord {
  loadId: string;
  database: DatabaseConfig;
  table: TableConfig;
  stage: string;
  /** The publish's sequence number (Metadata.snapshotSeq): the workers label its rows with it. */
  seq: number;
  rows: number;
  files: string[];
  /** The workers each chunk (REPLICATED_CHUNK: the replicated table) was staged on. */
  targets: Array<[number, string[]]>;
  /** Partitioned tables: rows per chunk. */
  chunks?: Array<{ id: number; rows: number; overlapRows: number }>;
  /** The ingest's scratch directory (kept while the entry is open). */
  scratch: string;
  /** A director table: its partition output, which holds the load's director index. */
  partitionDir?: string;
  /** Once committed: the workers that keep each chunk. */
  placement?: Array<[number, string[]]>;
}

export interface JournalEntry {
  step: PublishStep;
  record: PublishRecord;
}

/** Writes the entry (a new publish, or its next step) before the step is taken. */
export function journalStep(meta: Metadata, step: PublishStep, record: PublishRecord): void {
  meta.writeJournal({
    loadId: record.loadId,
    db: record.database.database,
    table: record.table.table,
    step,
    record: JSON.stringify(record),
  });
}

/** Every publish the journal holds (under way, or left by a czar that died). */
export function journalEntries(meta: Metadata): JournalEntry[] {
  return meta.journal().map((r) => ({ step: r.step as PublishStep, record: JSON.parse(r.record) as PublishRecord }));
}

/**
 * A publish left open by a czar that died (its workers down at restart) holds its database:
 * another publish would take the same sequence number, and a load or drop of its table would
 * clear its stages. CONFLICT until a reconcile pass finishes it.
 */
export function refusePending(meta: Metadata, db: string, doing: string): void {
  const open = meta.journal().find((r) => r.db === db);
  if (open === undefined) return;
  throw new QservError(
    "CONFLICT",
    `cannot ${doing}: the publish of load ${open.loadId} (${open.db}.${open.table}) that a czar restart left open waits for its workers to be back (a repair or gc pass finishes it)`,
    { database: db, loadId: open.loadId },
  );
}

/** The workers each chunk is staged on, by chunk. */
export function targetsOf(r: PublishRecord): Map<number, string[]> {
  return new Map(r.targets);
}

/** Per worker, the chunks of `byChunk` it holds. */
export function chunksByWorker(byChunk: ReadonlyMap<number, readonly string[]>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [chunkId, ids] of byChunk) {
    for (const id of ids) out.set(id, [...(out.get(id) ?? []), chunkId]);
  }
  return out;
}

/**
 * Who keeps each chunk once the workers published, `failed` ones left out: a worker stays a
 * replica only if it published and held the chunk before (when another load placed it
 * meanwhile). `bare`: a chunk no worker keeps (the publish must be taken back), else null.
 */
export function placementOf(
  meta: Metadata,
  db: string,
  targets: ReadonlyMap<number, readonly string[]>,
  failed: ReadonlySet<string>,
): { placement: Map<number, string[]>; bare: number | null } {
  const placement = new Map<number, string[]>();
  for (const [chunkId, ids] of targets) {
    const held = meta.replicas(db, chunkId);
    const kept = ids.filter((id) => !failed.has(id) && (held.length === 0 || held.includes(id)));
    if (kept.length === 0) return { placement, bare: chunkId };
    placement.set(chunkId, kept);
  }
  return { placement, bare: null };
}

/**
 * Records the published load in metadata in one transaction (rows, chunk counts, placement,
 * director index, its sequence number); a load already recorded changes nothing.
 */
export function recordPublished(
  meta: Metadata,
  r: PublishRecord,
  placement: ReadonlyMap<number, readonly string[]>,
): void {
  const replicated = placement.get(REPLICATED_CHUNK);
  const index =
    r.partitionDir === undefined ? undefined : readDirectorIndex(r.partitionDir, readChunkInfo(r.partitionDir));
  meta.recordLoad({
    config: r.table,
    database: r.database,
    loadId: r.loadId,
    rows: r.rows,
    seq: r.seq,
    files: r.files,
    ...(r.chunks === undefined ? {} : { chunks: r.chunks }),
    ...(index === undefined ? {} : { directorIndex: index }),
    ...(replicated === undefined ? { placement } : { replicatedOn: replicated }),
  });
}

/** The scratch directories open entries still need (their partition outputs). */
export function journaledScratch(meta: Metadata): Set<string> {
  return new Set(journalEntries(meta).map((e) => e.record.scratch));
}

/** The partition output directory of an ingest's scratch directory. */
export function partitionOut(scratch: string): string {
  return join(scratch, "out");
}
