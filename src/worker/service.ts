import fs from "node:fs";
import os from "node:os";
import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import { haltPoint, haltsAt } from "../common/haltPoint.js";
import type { Dialect } from "../partitioner/dialect.js";
import { type Catalog, removeDataFile, type TableMeta } from "./catalog.js";
import { toGrpcError } from "./grpc.js";
import { InlineQueries } from "./inlineQuery.js";
import { KeyedMutex } from "./keyedMutex.js";
import { checkName, checkStage, databaseDir, dataFile, NO_CHUNK } from "./layout.js";
import type { Loader } from "./loader.js";
import type {
  ChunkQuery,
  DropRequest,
  DropResponse,
  DropStageRequest,
  DropStageResponse,
  ListRequest,
  ListResponse,
  LoadHeader,
  LoadRequest,
  LoadResponse,
  PublishRequest,
  PublishResponse,
  QueryRequest,
  QueryResponse,
  RunningQuery,
  StatusResponse,
} from "./messages.js";
import { BatchCombine, requestedCombine } from "./partialAggregate.js";
import type { JobHandle, QueryPool } from "./queryPool.js";

export const WORKER_VERSION = "mini-qserv-worker/0.1.0 (miniqserv.worker.v1)";
const DEFAULT_BATCH_ROWS = 8192;
const DEFAULT_BATCH_BYTES = 256 * 1024;

function dialectOf(h: LoadHeader): Dialect {
  const d = h.dialect;
  if (d.delimiter.length !== 1) throw new QservError("BAD_ARGUMENT", "load dialect needs a one-character delimiter");
  return {
    delimiter: d.delimiter,
    quote: d.quote === "" ? null : d.quote,
    escape: d.escape === "" ? null : d.escape,
    nullToken: d.nullToken === "" ? "\\N" : d.nullToken,
  };
}

/** The Worker service's handlers over one data dir. */
/** A stage request's names: database, table, and stage (`"*"` = every stage, where allowed). */
function checkStageRequest(req: { database: string; table: string; stage: string }, anyStage = false): void {
  checkName("database", req.database);
  checkName("table", req.table);
  if (!(anyStage && req.stage === "*")) checkStage(req.stage);
}

export class WorkerService {
  /** One load, drop or import at a time per data file. */
  readonly fileLocks = new KeyedMutex();
  /** Loads and publishes under way, by database and table: DropStage and Unpublish wait for them to end first. */
  private readonly loading = new Map<string, Set<Promise<void>>>();
  private readonly running = new Map<number, RunningQuery & { startedAt: number }>();
  private nextCall = 1;
  private readonly startedAt = performance.now();
  /** Index-seek-sized chunk queries run on this thread (inlineQuery.ts). */
  private readonly inline = InlineQueries.fromEnv();

  constructor(
    private readonly dataDir: string,
    private readonly catalog: Catalog,
    private readonly pool: QueryPool,
    private readonly loader: Loader,
    private readonly log: Logger,
  ) {}

  /** grpc-js handler map for the Worker service. */
  handlers(): grpc.UntypedServiceImplementation {
    return {
      query: (call: grpc.ServerWritableStream<QueryRequest, QueryResponse>) => this.query(call),
      load: (call: grpc.ServerReadableStream<LoadRequest, LoadResponse>, cb: grpc.sendUnaryData<LoadResponse>) =>
        this.load(call, cb),
      list: (call: grpc.ServerUnaryCall<ListRequest, ListResponse>, cb: grpc.sendUnaryData<ListResponse>) =>
        this.unary(cb, () => this.catalog.list(call.request.database)),
      drop: (call: grpc.ServerUnaryCall<DropRequest, DropResponse>, cb: grpc.sendUnaryData<DropResponse>) =>
        this.unary(cb, () => this.drop(call.request)),
      publish: (call: grpc.ServerUnaryCall<PublishRequest, PublishResponse>, cb: grpc.sendUnaryData<PublishResponse>) =>
        this.unary(cb, () => this.publish(call.request, () => call.cancelled)),
      unpublish: (
        call: grpc.ServerUnaryCall<PublishRequest, PublishResponse>,
        cb: grpc.sendUnaryData<PublishResponse>,
      ) => this.unary(cb, () => this.unpublish(call.request)),
      dropStage: (
        call: grpc.ServerUnaryCall<DropStageRequest, DropStageResponse>,
        cb: grpc.sendUnaryData<DropStageResponse>,
      ) => this.unary(cb, () => this.dropStage(call.request)),
      status: (_call: grpc.ServerUnaryCall<unknown, StatusResponse>, cb: grpc.sendUnaryData<StatusResponse>) =>
        this.unary(cb, () => this.status()),
    };
  }

  private unary<T>(cb: grpc.sendUnaryData<T>, fn: () => T | Promise<T>): void {
    Promise.resolve()
      .then(fn)
      .then(
        (r) => cb(null, r),
        (e) => cb(toGrpcError(e)),
      );
  }

  status(): StatusResponse {
    const now = performance.now();
    return {
      version: WORKER_VERSION,
      threads: this.pool.size,
      queriesRunning: this.pool.running,
      queriesQueued: this.pool.queued,
      loadsRunning: this.loader.running,
      databases: this.catalog.databaseCount,
      chunks: this.catalog.chunkCount,
      uptimeS: (now - this.startedAt) / 1000,
      rssBytes: process.memoryUsage.rss(),
      loadAvg: os.loadavg(),
      running: [...this.running.values()].map(({ startedAt, ...q }) => ({ ...q, elapsedMs: now - startedAt })),
    };
  }

  /**
   * A query call: one chunk, or a batch of chunks run in turn (each chunk's rows then end with a
   * chunkDone); one header and one summary per call.
   */
  private query(call: grpc.ServerWritableStream<QueryRequest, QueryResponse>): void {
    const req = call.request;
    const batched = req.chunks.length > 0;
    const parts: ChunkQuery[] = batched
      ? req.chunks
      : [{ chunkId: req.chunkId, subChunkIds: req.subChunkIds, sql: req.sql }];
    const t0 = performance.now();
    const callId = this.nextCall++;
    let finished = false;
    let handle: JobHandle | null = null;
    const info = {
      queryId: req.queryId,
      database: req.database,
      chunkId: parts[0]?.chunkId ?? req.chunkId,
      rowsSent: 0,
      elapsedMs: 0,
      startedAt: t0,
    };
    const end = (e: unknown) => {
      if (finished) return;
      finished = true;
      this.running.delete(callId);
      if (e !== null) {
        this.log.debug({ queryId: req.queryId, chunkId: info.chunkId, err: String(e) }, "query failed");
        call.emit("error", toGrpcError(e));
      } else {
        call.end();
      }
    };
    this.running.set(callId, info);
    // Test hook: the call is held, listed as running, until the czar cancels it.
    if (haltsAt("worker:query")) return void call.on("cancelled", () => this.running.delete(callId));
    const total = { rows: 0, bytes: 0, queuedMs: 0, execMs: 0 };
    let headerSent = false;
    let ncols = 0;
    // A batch of partial aggregates, combined across its chunks before it is sent (partialAggregate.ts).
    const spec = requestedCombine(req);
    const combined =
      spec === null
        ? null
        : new BatchCombine(
            spec,
            () => ncols,
            (rowCount, rows) => call.write({ part: "batch", batch: { rowCount, rows } } satisfies QueryResponse),
            req.maxBatchRows || DEFAULT_BATCH_ROWS,
          );
    let next = 0;
    const runNext = (): void => {
      if (finished) return;
      const part = parts[next++];
      if (part === undefined && combined !== null) {
        for (const chunkDone of combined.end()) call.write({ part: "chunkDone", chunkDone } satisfies QueryResponse);
        info.rowsSent = combined.rowsOut;
      }
      if (part === undefined) {
        const { rows, bytes, queuedMs, execMs } = total;
        const summary = { rowCount: rows, bytes, queuedMs, execMs, elapsedMs: performance.now() - t0 };
        call.write({ part: "summary", summary } satisfies QueryResponse);
        end(null);
        return;
      }
      let spec: Parameters<QueryPool["run"]>[0];
      try {
        spec = this.jobSpec({ ...req, ...part });
      } catch (e) {
        end(e);
        return;
      }
      info.chunkId = part.chunkId;
      const sink: Parameters<QueryPool["run"]>[1] = {
        header: (columns) => {
          ncols = columns.length;
          if (finished || headerSent) return;
          headerSent = true;
          call.write({ part: "header", header: { columns } } satisfies QueryResponse);
        },
        batch: (rows, data, taken) => {
          if (finished) return;
          if (combined !== null) {
            try {
              combined.rows(rows, data);
            } catch (e) {
              end(e);
            }
            return taken();
          }
          info.rowsSent += rows;
          call.write({ part: "batch", batch: { rowCount: rows, rows: data } } satisfies QueryResponse, () => taken());
        },
        done: (s) => {
          if (finished) return;
          total.rows += s.rows;
          total.bytes += s.bytes;
          total.queuedMs += s.queuedMs;
          total.execMs += s.execMs;
          if (combined !== null) combined.chunkDone(part.chunkId, s.rows);
          else if (batched) call.write({ part: "chunkDone", chunkDone: { chunkId: part.chunkId, rowCount: s.rows } });
          runNext();
        },
        error: (e) => end(e),
      };
      const keys = () => this.catalog.partitionedTables(req.database).map((t) => t.directorKey);
      // One chunk only: a batch of chunks keeps the pool's threads working side by side.
      if (!batched && this.inline?.tryRun(spec, keys(), sink) === true) return;
      handle = this.pool.run(spec, sink);
    };
    runNext();
    call.on("cancelled", () => {
      handle?.cancel();
      finished = true;
      this.running.delete(callId);
    });
  }

  private jobSpec(req: QueryRequest): Parameters<QueryPool["run"]>[0] {
    checkName("database", req.database);
    const held = this.catalog.tablesIn(req.database, req.chunkId);
    if (held === null) {
      const what = req.chunkId === NO_CHUNK ? "replicated tables" : `chunk ${req.chunkId}`;
      throw new QservError("NOT_FOUND", `this worker holds no ${what} of database ${req.database}`);
    }
    const replicated = dataFile(this.dataDir, req.database, NO_CHUNK);
    const partitioned = req.chunkId === NO_CHUNK ? [] : this.catalog.partitionedTables(req.database);
    return {
      file: dataFile(this.dataDir, req.database, req.chunkId),
      attach: req.chunkId !== NO_CHUNK && this.catalog.tablesIn(req.database, NO_CHUNK) !== null ? replicated : null,
      chunkId: req.chunkId,
      subChunkIds: req.subChunkIds,
      sql: req.sql,
      tables: partitioned.map((t) => ({ name: t.name, columns: t.columns, present: held.has(t.name) })),
      snapshotSeq: Number(req.snapshotSeq ?? 0),
      maxRows: req.maxBatchRows || DEFAULT_BATCH_ROWS,
      maxBytes: req.maxBatchBytes || DEFAULT_BATCH_BYTES,
    };
  }

  private load(call: grpc.ServerReadableStream<LoadRequest, LoadResponse>, cb: grpc.sendUnaryData<LoadResponse>) {
    const t0 = performance.now();
    const id = this.loader.newId();
    let header: LoadHeader | null = null;
    let release: (() => void) | null = null;
    let state: "start" | "loading" | "duplicate" | "committing" | "committed" | "done" = "start";
    let duplicate: LoadResponse | null = null;
    let committed = false;
    let ended = () => {};
    const gone = () => state === "done";

    const finish = (e: unknown, r?: LoadResponse) => {
      // A commit under way completes (or fails) and answers then, whatever the client does.
      if (state === "done" || (state === "committing" && e !== null)) return;
      const wasLoading = state === "loading";
      state = "done";
      const after = e === null || !wasLoading ? Promise.resolve() : this.loader.abort(id);
      void after.finally(() => {
        release?.();
        ended();
        if (e === null) cb(null, r);
        else {
          if (header !== null)
            this.log.warn({ table: header.table, chunkId: header.chunkId, err: String(e) }, "load rolled back");
          cb(toGrpcError(e));
        }
      });
    };

    const onMessage = async (m: LoadRequest): Promise<void> => {
      if (state === "done") return;
      if (m.part === "header") {
        if (state !== "start") throw new QservError("BAD_ARGUMENT", "a load has one header, first");
        await haltPoint("worker:load", this.log); // tests stall or kill the worker in the middle of a load
        header = m.header;
        ended = this.track(`${header.database}\t${header.table}`);
        const file = this.begin(m.header);
        const rel = await this.fileLocks.acquire(file.path);
        if (gone()) return rel(); // the client went away while we waited
        release = rel;
        const job = {
          id,
          file: file.path,
          created: !fs.existsSync(file.path),
          loadId: header.loadId,
          table: header.table,
          chunkId: header.chunkId,
          columns: header.columns,
          directorKey: header.directorKey,
          latitudeKey: header.latitudeKey,
          longitudeKey: header.longitudeKey,
          dialect: file.dialect,
          batch: header.rowFormat === "batch",
          stage: header.stage,
        };
        state = "loading";
        const seen = await this.loader.begin(job);
        if (seen !== null) {
          state = "duplicate";
          duplicate = { ...seen, duplicate: true, elapsedMs: 0 };
        }
        return;
      }
      if (state === "start") throw new QservError("BAD_ARGUMENT", "a load starts with its header");
      if (committed) throw new QservError("BAD_ARGUMENT", "nothing may follow a load's commit");
      if (m.part === "data") {
        if (state === "loading") await this.loader.data(id, m.data.part, m.data.data);
        return;
      }
      committed = true;
      const h = header!;
      if (state === "duplicate") {
        finish(null, { ...duplicate!, elapsedMs: performance.now() - t0 });
        return;
      }
      state = "committing";
      const r = await this.loader.commit(id).catch((e: unknown) => {
        state = "loading"; // rolled back by the load thread; finish() answers the error
        throw e;
      });
      state = "committed";
      const meta: TableMeta = {
        name: h.table,
        partitioned: h.chunkId !== NO_CHUNK,
        columns: h.columns,
        directorKey: h.directorKey,
      };
      if (h.stage === "") this.catalog.record(h.database, h.chunkId, meta, r.totals);
      else this.catalog.recordStage(h.database, h.chunkId, h.table, h.stage, r.totals);
      const stage = h.stage === "" ? {} : { stage: h.stage };
      this.log.info(
        { database: h.database, table: h.table, chunkId: h.chunkId, ...stage, ...r.loaded },
        "load committed",
      );
      finish(null, { ...r.loaded, duplicate: false, elapsedMs: performance.now() - t0 });
    };

    call.on("data", (m: LoadRequest) => {
      call.pause();
      onMessage(m).then(
        () => call.resume(),
        (e) => finish(e),
      );
    });
    call.on("end", () => {
      if (!committed) finish(new QservError("BAD_ARGUMENT", "load stream ended without a commit: rolled back"));
    });
    call.on("cancelled", () => finish(new QservError("CANCELLED", "load cancelled by the client: rolled back")));
    call.on("error", (e) => finish(e));
  }

  /** Records a load of a table as under way; the function that ends it. */
  private track(key: string): () => void {
    let end!: () => void;
    const p = new Promise<void>((r) => {
      end = r;
    });
    const set = this.loading.get(key) ?? new Set();
    this.loading.set(key, set.add(p));
    return () => {
      end();
      set.delete(p);
      if (set.size === 0 && this.loading.get(key) === set) this.loading.delete(key);
    };
  }

  /** Validates a load header; the file it writes and the dialect of its data. */
  private begin(h: LoadHeader): { path: string; dialect: Dialect } {
    checkName("database", h.database);
    checkName("table", h.table);
    if (h.loadId === "") throw new QservError("BAD_ARGUMENT", "a load needs a load_id");
    if (h.stage !== "") checkStage(h.stage);
    if (h.rowFormat !== "" && h.rowFormat !== "batch") {
      throw new QservError("BAD_ARGUMENT", `not supported: row format ${JSON.stringify(h.rowFormat)}`);
    }
    if (h.chunkId < NO_CHUNK) throw new QservError("BAD_ARGUMENT", `bad chunk id ${h.chunkId}`);
    if (h.columns.length === 0) throw new QservError("BAD_ARGUMENT", `table ${h.table} has no columns`);
    for (const c of h.columns) checkName("column", c.name);
    this.catalog.checkTable(h.database, {
      name: h.table,
      partitioned: h.chunkId !== NO_CHUNK,
      columns: h.columns,
      directorKey: h.directorKey,
    });
    fs.mkdirSync(databaseDir(this.dataDir, h.database), { recursive: true });
    return { path: dataFile(this.dataDir, h.database, h.chunkId), dialect: dialectOf(h) };
  }

  /** Runs `fn` on each chunk's data file in turn, each under its file lock. */
  private async eachChunkFile(
    database: string,
    chunkIds: Iterable<number>,
    fn: (chunkId: number, file: string) => Promise<void>,
  ): Promise<void> {
    for (const chunkId of chunkIds) {
      const file = dataFile(this.dataDir, database, chunkId);
      const release = await this.fileLocks.acquire(file);
      try {
        await fn(chunkId, file);
      } finally {
        release();
      }
    }
  }

  /** Closes and deletes a data file left without tables (the caller holds its lock). */
  private removeFile(file: string): void {
    this.pool.closeFile(file);
    this.inline?.closeFile(file);
    removeDataFile(file);
  }

  /**
   * Publishes a stage chunk by chunk, each file under its lock, in request order; stops between
   * chunks when the caller is gone. Counts as a load of the table under way (see dropStage).
   */
  private async publish(req: PublishRequest, cancelled: () => boolean): Promise<PublishResponse> {
    const t0 = performance.now();
    checkStageRequest(req);
    const end = this.track(`${req.database}\t${req.table}`);
    try {
      return await this.publishChunks(req, cancelled, t0);
    } finally {
      end();
    }
  }

  private async publishChunks(req: PublishRequest, cancelled: () => boolean, t0: number): Promise<PublishResponse> {
    await haltPoint("worker:publish", this.log); // crash tests kill the worker here
    let applied = 0;
    await this.eachChunkFile(req.database, req.chunkIds, async (chunkId, file) => {
      if (cancelled()) throw new QservError("CANCELLED", `publish of ${req.table} stage ${req.stage} cancelled`);
      if (!fs.existsSync(file)) {
        throw new QservError("NOT_FOUND", `chunk ${chunkId} holds no stage ${req.stage} of table ${req.table}`);
      }
      const r = await this.loader.publish({
        file,
        table: req.table,
        chunkId,
        stage: req.stage,
        seq: Number(req.seq ?? 0),
      });
      const meta: TableMeta = {
        name: req.table,
        partitioned: chunkId !== NO_CHUNK,
        columns: r.columns,
        directorKey: r.directorKey,
      };
      this.catalog.record(req.database, chunkId, meta, r.totals);
      this.catalog.notePublished(req.database, chunkId, req.table, req.stage);
      this.catalog.forgetStages(req.database, chunkId, req.table, req.stage);
      if (r.applied) applied++;
    });
    const elapsedMs = performance.now() - t0;
    this.log.info(
      { database: req.database, table: req.table, stage: req.stage, chunks: req.chunkIds.length, applied, elapsedMs },
      "published",
    );
    return { applied, elapsedMs };
  }

  /** Undoes the publish of a stage, chunk by chunk (after the table's publishes under way end); files left empty are removed. */
  private async unpublish(req: PublishRequest): Promise<PublishResponse> {
    const t0 = performance.now();
    checkStageRequest(req);
    await Promise.all(this.loading.get(`${req.database}\t${req.table}`) ?? []);
    let applied = 0;
    await this.eachChunkFile(req.database, req.chunkIds, async (chunkId, file) => {
      if (!fs.existsSync(file)) return;
      const r = await this.loader.unpublish({ file, table: req.table, chunkId, stage: req.stage });
      this.catalog.noteUnpublished(req.database, chunkId, req.table, req.stage);
      if (r.totals === null) this.catalog.forget(req.database, chunkId, req.table);
      else this.catalog.setCounts(req.database, chunkId, req.table, r.totals);
      if (r.empty) this.removeFile(file);
      if (r.applied) applied++;
    });
    const elapsedMs = performance.now() - t0;
    this.log.warn({ database: req.database, table: req.table, stage: req.stage, applied, elapsedMs }, "unpublished");
    return { applied, elapsedMs };
  }

  /** Drops a table's pending stage ("*": every one) wherever it is held; files left empty are removed. */
  private async dropStage(req: DropStageRequest): Promise<DropStageResponse> {
    checkStageRequest(req, true);
    // A load cancelled by its client may still be committing: its stage is dropped too.
    await Promise.all(this.loading.get(`${req.database}\t${req.table}`) ?? []);
    const chunks = this.catalog.stagedChunks(req.database, req.table, req.stage);
    // Files holding nothing but the stage go whole, first: no SQLite write, which a full disk
    // would refuse (a transaction needs room for its journal), and their room is there for the rest.
    const whole = (c: number) => this.catalog.onlyStages(req.database, c, req.table, req.stage);
    const ordered = [...chunks.filter(whole), ...chunks.filter((c) => !whole(c))];
    await this.eachChunkFile(req.database, ordered, async (chunkId, file) => {
      if (whole(chunkId)) {
        this.catalog.forgetStages(req.database, chunkId, req.table, req.stage);
        this.removeFile(file);
        return;
      }
      const empty = await this.loader.dropStage({ file, table: req.table, chunkId, stage: req.stage });
      this.catalog.forgetStages(req.database, chunkId, req.table, req.stage);
      if (empty) this.removeFile(file);
    });
    if (chunks.length > 0)
      this.log.info(
        { database: req.database, table: req.table, stage: req.stage, files: chunks.length },
        "stage dropped",
      );
    return { files: chunks.length };
  }

  private async drop(req: DropRequest): Promise<DropResponse> {
    checkName("database", req.database);
    const file = dataFile(this.dataDir, req.database, req.chunkId);
    const release = await this.fileLocks.acquire(file);
    try {
      const held = this.catalog.tablesIn(req.database, req.chunkId);
      if (held === null || (req.table !== "" && !held.has(req.table))) return { existed: false };
      let removeFile = req.table === "";
      if (!removeFile) removeFile = await this.loader.dropTable(file, req.table, req.chunkId);
      this.catalog.forget(req.database, req.chunkId, req.table === "" ? null : req.table);
      if (removeFile) this.removeFile(file);
      this.log.info({ database: req.database, chunkId: req.chunkId, table: req.table }, "dropped");
      return { existed: true };
    } finally {
      release();
    }
  }
}
