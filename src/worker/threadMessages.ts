import type { ErrorCode } from "../common/errors.js";
import type { Dialect } from "../partitioner/dialect.js";
import type { ColumnDef, LoadPart, ResultColumn } from "./messages.js";

/** Slots of the Int32Array shared between the main thread and one query thread. */
export const CTRL_CREDITS = 0; // batches the thread may still send before it waits
export const CTRL_CANCEL = 1; // job number to stop
export const CTRL_SLOTS = 2;

/** A partitioned table of the job's database, as the query thread needs it. */
export interface JobTable {
  name: string;
  columns: ColumnDef[];
  /** False when this chunk file has no rows of it: an empty stand-in is made for the query. */
  present: boolean;
}

export interface QueryJob {
  job: number;
  file: string;
  /** The database's replicated file, attached to chunk queries when it exists. */
  attach: string | null;
  chunkId: number;
  subChunkIds: number[];
  sql: string;
  tables: JobTable[];
  /** See QueryRequest.snapshotSeq (0: every published row). */
  snapshotSeq: number;
  maxRows: number;
  maxBytes: number;
}

export type ToQueryThread = ({ t: "query" } & QueryJob) | { t: "close"; file: string };

export type FromQueryThread =
  | { t: "header"; job: number; columns: ResultColumn[] }
  | { t: "batch"; job: number; rows: number; data: ArrayBuffer; offset: number; length: number }
  | { t: "done"; job: number; rows: number; bytes: number; execMs: number }
  | { t: "error"; job: number; code: ErrorCode; message: string };

/** A load as the load thread needs it. */
export interface LoadJob {
  id: number;
  file: string;
  /** The file did not exist before this load: an aborted load deletes it again. */
  created: boolean;
  loadId: string;
  table: string;
  chunkId: number;
  columns: ColumnDef[];
  directorKey: string;
  /** Position columns, indexed with subChunkId when present ("" for none). */
  latitudeKey: string;
  longitudeKey: string;
  dialect: Dialect;
  /** The data are binary row batches (src/common/rowBatch.ts), not text in `dialect`. */
  batch: boolean;
  /** "": the live tables; else the stage the rows go to. */
  stage: string;
}

/** A table's stage in one file. */
export interface StageRef {
  id: number;
  file: string;
  table: string;
  chunkId: number;
  stage: string;
  /** Publish only: the publish's sequence number (0: none). */
  seq?: number;
}

export type ToLoadThread =
  | ({ t: "begin" } & LoadJob)
  | { t: "data"; id: number; part: LoadPart; data: Uint8Array }
  | { t: "commit"; id: number }
  | { t: "abort"; id: number }
  | { t: "dropTable"; id: number; file: string; table: string; chunkId: number }
  | ({ t: "publish" } & StageRef)
  | ({ t: "unpublish" } & StageRef)
  /** stage "*": every stage of the table. */
  | ({ t: "dropStage" } & StageRef);

export interface LoadCounts {
  rows: number;
  overlapRows: number;
}

export type FromLoadThread =
  | { t: "begun"; id: number; duplicate: LoadCounts | null }
  | { t: "ack"; id: number }
  | { t: "committed"; id: number; loaded: LoadCounts; totals: LoadCounts }
  | { t: "aborted"; id: number }
  | { t: "dropped"; id: number; empty: boolean }
  /** applied false: the stage had been published before. */
  | { t: "published"; id: number; applied: boolean; columns: ColumnDef[]; directorKey: string; totals: LoadCounts }
  /** totals null: the file holds the table no more; empty: nor anything else. */
  | { t: "unpublished"; id: number; applied: boolean; totals: LoadCounts | null; empty: boolean }
  | { t: "failed"; id: number; code: ErrorCode; message: string };
