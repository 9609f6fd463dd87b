/** What a replica of a chunk must hold, and whether a worker's listing shows it does. */
import type { ListResponse } from "../worker/messages.js";
import { addStage, type StagesByChunk } from "./loadIds.js";
import { type Metadata, REPLICATED_CHUNK } from "./metadata.js";

export interface TableRows {
  table: string;
  rows: number;
  overlapRows: number;
  /**
   * The stages whose rows these are, sorted: in metadata, of the loads it records there; in a
   * listing, of the published stages the worker keeps records of (undefined: none listed).
   */
  stages?: readonly string[];
}

/** Per chunk of a database (REPLICATED_CHUNK: its replicated tables), the tables and rows it holds. */
export function expectedContents(meta: Metadata, db: string): Map<number, TableRows[]> {
  const replicated = meta
    .tables(db)
    .filter((t) => t.kind === "replicated")
    .map((t) => ({ table: t.name, rows: t.rows, overlapRows: 0 }));
  // The replicated tables first: a repair copies them before the chunks that may join them.
  const out = new Map<number, TableRows[]>(replicated.length > 0 ? [[REPLICATED_CHUNK, replicated]] : []);
  const stages = meta.loadStages(db);
  for (const [chunkId, tables] of meta.chunkContents(db)) {
    const byTable = stages.get(chunkId);
    out.set(
      chunkId,
      tables.map((t) => ({ ...t, stages: byTable?.get(t.table) ?? [] })),
    );
  }
  return out;
}

/** A worker's holdings as its List reported them: database → chunk → table → rows. */
export type Holdings = Map<string, Map<number, Map<string, TableRows>>>;

/**
 * `publishing` is true for a stage being published right now: its rows are left out (queries leave
 * them out by their snapshot), so a worker mid-publish still holds what metadata records.
 */
export function holdingsOf(
  list: ListResponse,
  publishing: (db: string, table: string, stage: string) => boolean = () => false,
): { held: Holdings; chunks: number; bytes: number } {
  const held: Holdings = new Map();
  let chunks = 0;
  let bytes = 0;
  for (const d of list.databases) {
    const files = new Map<number, Map<string, TableRows>>();
    for (const c of d.chunks) {
      files.set(c.chunkId, new Map(c.tables.map((t) => [t.table, t])));
      chunks++;
      bytes += c.bytes;
    }
    const replicated = d.tables.filter((t) => !t.partitioned);
    if (replicated.length > 0) {
      files.set(
        REPLICATED_CHUNK,
        new Map(replicated.map((t) => [t.name, { table: t.name, rows: t.rows, overlapRows: 0 }])),
      );
    }
    // Per chunk, per table: the published stages with rows there, but one being published now.
    const stages: StagesByChunk = new Map();
    for (const p of d.published ?? []) {
      const t = files.get(p.chunkId)?.get(p.table);
      if (t === undefined) continue;
      if (publishing(d.name, p.table, p.stage)) {
        files.get(p.chunkId)?.set(p.table, {
          ...t,
          rows: t.rows - Number(p.rows),
          overlapRows: t.overlapRows - Number(p.overlapRows),
        });
      } else if (Number(p.rows) + Number(p.overlapRows) > 0) {
        addStage(stages, p.chunkId, p.table, p.stage);
      }
    }
    for (const [chunkId, byTable] of stages) {
      const tables = files.get(chunkId)!;
      for (const [name, listed] of byTable) tables.set(name, { ...tables.get(name)!, stages: listed.sort() });
    }
    held.set(d.name, files);
  }
  return { held, chunks, bytes };
}

/**
 * True when `held` has every expected table of the chunk with exactly the expected rows — from
 * exactly the expected loads where both sides name them (as many rows from another load, say one
 * whose unload or append a worker missed while down, are not the same rows) — and no rows of a
 * table metadata does not expect there (a dropped one a worker down at the drop kept).
 */
export function holdsAll(held: Holdings, db: string, chunkId: number, expected: readonly TableRows[]): boolean {
  const file = held.get(db)?.get(chunkId);
  if (file === undefined) return false;
  const sameStages = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
    a === undefined || b === undefined || a.length === 0 || b.length === 0 || a.join("\n") === b.join("\n");
  const matches = expected.every((e) => {
    const t = file.get(e.table);
    return t !== undefined && t.rows === e.rows && t.overlapRows === e.overlapRows && sameStages(e.stages, t.stages);
  });
  const names = new Set(expected.map((e) => e.table));
  return matches && [...file.values()].every((t) => names.has(t.table) || t.rows + t.overlapRows === 0);
}

/** Records a chunk file a worker now holds (after an import). */
export function noteHeld(held: Holdings, db: string, chunkId: number, tables: readonly TableRows[]): void {
  let files = held.get(db);
  if (files === undefined) {
    files = new Map();
    held.set(db, files);
  }
  files.set(chunkId, new Map(tables.map((t) => [t.table, t])));
}
