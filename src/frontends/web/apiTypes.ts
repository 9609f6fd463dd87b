/**
 * What the web console's API answers (GET /history, GET /chunks): the czar writes these and the
 * page (web/) reads them, both from here. Types only: the page's build takes nothing else.
 */
import type { ErrorCode } from "../../common/errors.js";

/** A finished query, as GET /history lists it. */
export interface QueryRecord {
  /** Sequence number, increasing across restarts. */
  seq: number;
  query: string;
  user: string;
  database: string | null;
  /** ISO time the query started. */
  startedAt: string;
  elapsedMs: number;
  rows: number;
  chunks: number;
  retries: number;
  error?: { code: ErrorCode; message: string };
}

/** One chunk, as GET /chunks describes it. */
export interface ChunkCell {
  id: number;
  /** [min, max] degrees; raMax may be 360. */
  ra: [number, number];
  dec: [number, number];
  /** Rows (not counting overlap) per table. */
  rows: Record<string, number>;
  /** Workers metadata places the chunk on. */
  workers: string[];
  /** Of those, the ones whose last listing shows it whole. */
  live: string[];
}

export interface ChunkMap {
  database: string;
  numStripes: number;
  numSubStripes: number;
  /** Target replicas per chunk: fewer live ones is under-replicated. */
  target: number;
  chunks: ChunkCell[];
}
