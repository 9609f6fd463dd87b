import fs from "node:fs";
import zlib from "node:zlib";
import type * as grpc from "@grpc/grpc-js";
import { QservError } from "../common/errors.js";
import { decodeRows, type Value } from "../common/rowCodec.js";
import type { Dialect } from "../partitioner/dialect.js";
import { readError } from "../partitioner/inputFiles.js";
import { fromGrpcError, ServiceClient, workerService } from "./grpc.js";
import type {
  ColumnDef,
  DropRequest,
  DropResponse,
  DropStageRequest,
  DropStageResponse,
  ListResponse,
  LoadHeader,
  LoadPart,
  LoadRequest,
  LoadResponse,
  PublishRequest,
  PublishResponse,
  QueryRequest,
  QueryResponse,
  ResultColumn,
  ResultSummary,
  StatusResponse,
} from "./messages.js";

export type QueryEvent =
  | { kind: "header"; columns: ResultColumn[] }
  | { kind: "rows"; rows: Value[][] }
  | { kind: "summary"; summary: ResultSummary }
  /** In a batched query: the rows since the previous chunkDone were this chunk's. */
  | { kind: "chunkDone"; chunkId: number; rows: number };

export interface QueryResult {
  columns: ResultColumn[];
  rows: Value[][];
  summary: ResultSummary;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Milliseconds the call may take. */
  timeoutMs?: number;
}

export interface LoadCallOptions extends CallOptions {
  /** Milliseconds a load may go without progress (a message taken, or its answer) before it fails (0: no limit). */
  idleTimeoutMs?: number;
}

export type QuerySpec = Pick<QueryRequest, "database" | "chunkId" | "sql"> & Partial<QueryRequest>;

/** Size of the data messages of a load. */
const LOAD_PIECE_BYTES = 1 << 20;

type Callback<T> = (err: grpc.ServiceError | null, r: T) => void;

/** The methods grpc-js generates for the Worker service. */
interface RawClient extends grpc.Client {
  query(req: QueryRequest, o: grpc.CallOptions): grpc.ClientReadableStream<QueryResponse>;
  load(o: grpc.CallOptions, cb: Callback<LoadResponse>): grpc.ClientWritableStream<LoadRequest>;
  list(req: unknown, o: grpc.CallOptions, cb: Callback<ListResponse>): void;
  drop(req: unknown, o: grpc.CallOptions, cb: Callback<DropResponse>): void;
  publish(req: unknown, o: grpc.CallOptions, cb: Callback<PublishResponse>): void;
  unpublish(req: unknown, o: grpc.CallOptions, cb: Callback<PublishResponse>): void;
  dropStage(req: unknown, o: grpc.CallOptions, cb: Callback<DropStageResponse>): void;
  status(req: unknown, o: grpc.CallOptions, cb: Callback<StatusResponse>): void;
}

export function callOptions(o: CallOptions): grpc.CallOptions {
  return o.timeoutMs === undefined ? {} : { deadline: Date.now() + o.timeoutMs };
}

/** A typed client of one worker (miniqserv.worker.v1). */
export class WorkerClient extends ServiceClient<RawClient> {
  /** `secret`: the cluster secret, sent with every call. */
  constructor(address: string, secret?: string) {
    super(address, workerService(), secret);
  }

  /** Streams a query's result as it arrives; stops the worker's scan when the loop is left early. */
  async *query(spec: QuerySpec, o: CallOptions = {}): AsyncGenerator<QueryEvent> {
    const req: QueryRequest = {
      queryId: "",
      subChunkIds: [],
      maxBatchRows: 0,
      maxBatchBytes: 0,
      chunks: [],
      ...spec,
    };
    const call = this.client.query(req, callOptions(o));
    const abort = () => call.cancel();
    o.signal?.addEventListener("abort", abort, { once: true });
    let ncols = 0;
    let ended = false;
    try {
      for await (const m of call as AsyncIterable<QueryResponse>) {
        if (m.part === "header") {
          ncols = m.header.columns.length;
          yield { kind: "header", columns: m.header.columns };
        } else if (m.part === "batch") {
          yield { kind: "rows", rows: decodeRows(m.batch.rows, ncols, m.batch.rowCount) };
        } else if (m.part === "chunkDone") {
          yield { kind: "chunkDone", chunkId: m.chunkDone.chunkId, rows: m.chunkDone.rowCount };
        } else {
          ended = true;
          yield { kind: "summary", summary: m.summary };
        }
      }
      if (!ended) throw new QservError("UNAVAILABLE", `${this.address}: result stream ended without a summary`);
    } catch (e) {
      if (o.signal?.aborted) throw new QservError("CANCELLED", "query cancelled");
      throw fromGrpcError(e, this.address);
    } finally {
      o.signal?.removeEventListener("abort", abort);
      if (!ended) call.cancel();
    }
  }

  /** The whole result of a query, in memory. */
  async queryAll(spec: QuerySpec, o: CallOptions = {}): Promise<QueryResult> {
    let columns: ResultColumn[] = [];
    const rows: Value[][] = [];
    for await (const ev of this.query(spec, o)) {
      if (ev.kind === "header") columns = ev.columns;
      else if (ev.kind === "rows") for (const r of ev.rows) rows.push(r);
      else if (ev.kind === "summary") return { columns, rows, summary: ev.summary };
    }
    throw new QservError("INTERNAL", "unreachable: query ended without a summary");
  }

  /**
   * Loads rows into one chunk (or a replicated table): sends the header, every piece, then the
   * commit. Aborting the signal (or any error) rolls the whole load back on the worker.
   */
  load(
    header: LoadHeader,
    pieces: AsyncIterable<{ part: LoadPart; data: Buffer }> | Iterable<{ part: LoadPart; data: Buffer }>,
    o: LoadCallOptions = {},
  ): Promise<LoadResponse> {
    return new Promise((resolve, reject) => {
      let stalled: QservError | null = null;
      let timer: NodeJS.Timeout | undefined;
      const idleMs = o.idleTimeoutMs ?? 0;
      /** Progress: the idle deadline starts again. */
      const progress = () => {
        if (idleMs <= 0) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          stalled = new QservError(
            "UNAVAILABLE",
            `${this.address}: the load made no progress for ${idleMs / 1000} s (worker stopped, hung or unreachable): rolled back`,
          );
          call.cancel();
        }, idleMs);
      };
      const call = this.client.load(callOptions(o), (err, r) => {
        clearTimeout(timer);
        o.signal?.removeEventListener("abort", abort);
        if (stalled !== null) reject(stalled);
        else err ? reject(fromGrpcError(err, this.address)) : resolve(r);
      });
      const abort = () => call.cancel();
      o.signal?.addEventListener("abort", abort, { once: true });
      progress();
      const send = async () => {
        const write = async (m: LoadRequest) => {
          if (!call.write(m)) await new Promise((r) => call.once("drain", r));
          progress();
        };
        await write({ part: "header", header });
        for await (const p of pieces) {
          for (let off = 0; off < p.data.length; off += LOAD_PIECE_BYTES) {
            await write({ part: "data", data: { part: p.part, data: p.data.subarray(off, off + LOAD_PIECE_BYTES) } });
          }
        }
        await write({ part: "commit", commit: {} });
        call.end();
      };
      send()
        .catch((e) => {
          call.cancel();
          reject(e);
        })
        .finally(() => o.signal?.removeEventListener("abort", abort));
    });
  }

  list(database = "", o: CallOptions = {}): Promise<ListResponse> {
    return this.unary("list", { database }, o);
  }

  drop(req: DropRequest): Promise<DropResponse> {
    return this.unary("drop", req);
  }

  publish(req: PublishRequest, o: CallOptions = {}): Promise<PublishResponse> {
    return this.unary("publish", req, o);
  }

  unpublish(req: PublishRequest, o: CallOptions = {}): Promise<PublishResponse> {
    return this.unary("unpublish", req, o);
  }

  dropStage(req: DropStageRequest, o: CallOptions = {}): Promise<DropStageResponse> {
    return this.unary("dropStage", req, o);
  }

  status(o: CallOptions = {}): Promise<StatusResponse> {
    return this.unary("status", {}, o);
  }

  private unary<T>(
    method: "list" | "drop" | "publish" | "unpublish" | "dropStage" | "status",
    req: unknown,
    o: CallOptions = {},
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const cb: Callback<T> = (err, r) => (err ? reject(fromGrpcError(err, this.address)) : resolve(r));
      (this.client[method] as (req: unknown, o: grpc.CallOptions, cb: Callback<T>) => void).call(
        this.client,
        req,
        callOptions(o),
        cb,
      );
    });
  }
}

/** What a partitioned chunk load needs to know about its table. */
export interface ChunkLoad {
  loadId: string;
  database: string;
  table: string;
  columns: ColumnDef[];
  directorKey: string;
  /** A director table's position columns ("" or absent: none). */
  latitudeKey?: string;
  longitudeKey?: string;
  dialect: Dialect;
  /** The data are binary row batches (src/common/rowBatch.ts) rather than text in `dialect`. */
  batch?: boolean;
  /** The stage to load into ("" or absent: the live tables). */
  stage?: string;
}

/** The load header of a table load into `chunkId` (-1, NO_CHUNK, for a replicated table). */
export function loadHeader(l: ChunkLoad, chunkId: number): LoadHeader {
  return {
    loadId: l.loadId,
    database: l.database,
    table: l.table,
    chunkId,
    columns: l.columns,
    directorKey: l.directorKey,
    latitudeKey: l.latitudeKey ?? "",
    longitudeKey: l.longitudeKey ?? "",
    dialect: {
      delimiter: l.dialect.delimiter,
      quote: l.dialect.quote ?? "",
      escape: l.dialect.escape ?? "",
      nullToken: l.dialect.nullToken,
    },
    stage: l.stage ?? "",
    rowFormat: l.batch === true ? "batch" : "",
  };
}

/** Pieces of files (read in turn, in LOAD_PIECE_BYTES steps, .gz uncompressed) tagged with their part. */
export async function* filePieces(
  files: ReadonlyArray<{ part: LoadPart; file: string }>,
): AsyncGenerator<{ part: LoadPart; data: Buffer }> {
  for (const f of files) {
    if (!fs.existsSync(f.file)) continue;
    const raw = fs.createReadStream(f.file, { highWaterMark: LOAD_PIECE_BYTES });
    const stream = f.file.endsWith(".gz") ? raw.pipe(zlib.createGunzip({ chunkSize: LOAD_PIECE_BYTES })) : raw;
    raw.on("error", (e) => stream.destroy(e));
    try {
      for await (const data of stream) {
        yield { part: f.part, data: data as Buffer };
      }
    } catch (e) {
      throw readError(f.file, e);
    } finally {
      raw.destroy();
    }
  }
}
