/**
 * TypeScript shapes of the messages of proto/worker.proto (package miniqserv.worker.v1), as
 * @grpc/proto-loader delivers them with the options of grpc.ts (camelCase fields, 64-bit
 * integers as numbers, enums as strings, defaults filled in). Keep in step with the .proto.
 */

export interface QueryRequest {
  queryId: string;
  database: string;
  /** -1: the replicated tables only. */
  chunkId: number;
  subChunkIds: number[];
  sql: string;
  maxBatchRows: number;
  maxBatchBytes: number;
  /** Non-empty: a batch of chunks, run in turn (chunkId, subChunkIds and sql unused). */
  chunks: ChunkQuery[];
  /** Rows of loads published with a higher sequence number are left out; 0 (or absent): none are. */
  snapshotSeq?: number;
  /** Non-empty (a batch): its partial aggregate rows are combined by group first (common/partialCombine.ts ops). */
  combineOps?: string[];
  /** The column of each partial row's first row order (-1: none). */
  combineOrder?: number;
}

export interface ChunkQuery {
  chunkId: number;
  subChunkIds: number[];
  sql: string;
}

export interface ResultColumn {
  name: string;
  declType: string;
}

export interface ResultHeader {
  columns: ResultColumn[];
}

export interface RowBatch {
  rowCount: number;
  rows: Buffer;
}

export interface ResultSummary {
  rowCount: number;
  bytes: number;
  queuedMs: number;
  execMs: number;
  elapsedMs: number;
}

export type QueryResponse =
  | { part: "header"; header: ResultHeader }
  | { part: "batch"; batch: RowBatch }
  | { part: "summary"; summary: ResultSummary }
  | { part: "chunkDone"; chunkDone: ChunkDone };

export interface ChunkDone {
  chunkId: number;
  rowCount: number;
}

export interface ColumnDef {
  name: string;
  mysqlType: string;
}

export interface DialectMessage {
  delimiter: string;
  quote: string;
  escape: string;
  nullToken: string;
}

export interface LoadHeader {
  loadId: string;
  database: string;
  table: string;
  /** -1: a replicated table. */
  chunkId: number;
  columns: ColumnDef[];
  directorKey: string;
  dialect: DialectMessage;
  /** "": live tables; else the stage the rows go to until published. */
  stage: string;
  /** A director table's position columns, indexed with subChunkId ("" for none). */
  latitudeKey: string;
  longitudeKey: string;
  /** "": delimited text in `dialect`; "batch": binary row batches (src/common/rowBatch.ts). */
  rowFormat: string;
}

export type LoadPart = "ROWS" | "OVERLAP";

export interface LoadData {
  part: LoadPart;
  data: Buffer;
}

export type LoadRequest =
  | { part: "header"; header: LoadHeader }
  | { part: "data"; data: LoadData }
  | { part: "commit"; commit: Record<string, never> };

export interface LoadResponse {
  rows: number;
  overlapRows: number;
  duplicate: boolean;
  elapsedMs: number;
}

export interface TableCount {
  table: string;
  rows: number;
  overlapRows: number;
}

export interface ChunkHeld {
  chunkId: number;
  tables: TableCount[];
  bytes: number;
}

export interface TableHeld {
  name: string;
  partitioned: boolean;
  columns: ColumnDef[];
  directorKey: string;
  rows: number;
}

export interface StagedHeld {
  table: string;
  stage: string;
  chunkId: number;
  rows: number;
  overlapRows: number;
}

export interface DatabaseHeld {
  name: string;
  tables: TableHeld[];
  chunks: ChunkHeld[];
  staged: StagedHeld[];
  /** Stages published into the live tables (undoable until another publish of the table). */
  published: StagedHeld[];
}

export interface ListRequest {
  database: string;
}

export interface ListResponse {
  databases: DatabaseHeld[];
}

export interface DropRequest {
  database: string;
  chunkId: number;
  table: string;
}

export interface DropResponse {
  existed: boolean;
}

export interface PublishRequest {
  database: string;
  table: string;
  stage: string;
  chunkIds: number[];
  /** The publish's sequence number in its database (0 or absent: none; its rows are then seen by every snapshot). */
  seq?: number;
}

export interface PublishResponse {
  applied: number;
  elapsedMs: number;
}

export interface DropStageRequest {
  database: string;
  table: string;
  /** "*": every stage of the table. */
  stage: string;
}

export interface DropStageResponse {
  files: number;
}

export interface RunningQuery {
  queryId: string;
  database: string;
  chunkId: number;
  rowsSent: number;
  elapsedMs: number;
}

export interface StatusResponse {
  version: string;
  threads: number;
  queriesRunning: number;
  queriesQueued: number;
  loadsRunning: number;
  databases: number;
  chunks: number;
  uptimeS: number;
  rssBytes: number;
  loadAvg: number[];
  running: RunningQuery[];
}

// ---------------------------------------------------------------- Chunk transfer

export interface ExportRequest {
  database: string;
  chunkId: number;
}

export interface FileHeader {
  database: string;
  chunkId: number;
  size: number;
  /** SHA-256 of the whole file, lowercase hex. */
  sha256: string;
}

export type ExportResponse = { part: "header"; header: FileHeader } | { part: "data"; data: Buffer };

export type ImportRequest = { part: "header"; header: FileHeader } | { part: "data"; data: Buffer };

export interface ImportResponse {
  tables: TableCount[];
  bytes: number;
  replaced: boolean;
  elapsedMs: number;
}
