/** A czar: metadata (persisted in DATA_DIR/czar.sqlite), the query engine, the HTTP API. */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import type http from "node:http";
import { join } from "node:path";
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import { parseDatabaseConfig, parseTableConfig } from "../common/ingestConfig.js";
import { createLogger } from "../common/log.js";
import { type HttpRoutes, portOf, startHttp } from "../frontends/http/server.js";
import { LoginThrottle, type LoginThrottleOptions } from "../frontends/mysql/loginThrottle.js";
import { startMysqlServer } from "../frontends/mysql/server.js";
import { QservAsync } from "../frontends/tap/qservAsync.js";
import { TapService } from "../frontends/tap/routes.js";
import { parseHostEntry } from "../frontends/tap/uploadHosts.js";
import { DEFAULT_UPLOAD_SOURCES } from "../frontends/tap/uploadUrl.js";
import { chunkMap } from "../frontends/web/chunkMap.js";
import { closeWeb, type WebSources } from "../frontends/web/routes.js";
import type { DialectOverrides } from "../partitioner/dialect.js";
import { inputFormatOf } from "../partitioner/inputFormat.js";
import { WatchRegistry } from "../watch/registry.js";
import { WorkerClient } from "../worker/client.js";
import { TransferClient } from "../worker/transferClient.js";
import { type UserEntry, Users, userEntry } from "./auth/users.js";
import { clusterStatus } from "./clusterStatus.js";
import { Czar } from "./czar.js";
import { type AdminContext, dropDatabase, dropTable, unload } from "./dataAdmin.js";
import { DatabaseLocks } from "./databaseLocks.js";
import type { WorkerDirectory } from "./exec/dispatch.js";
import { Gate } from "./gate.js";
import { Collector } from "./gc.js";
import { HealthMonitor } from "./health.js";
import { DEFAULT_LOAD_IDLE_TIMEOUT_MS, ingestTable } from "./ingest.js";
import { checkInputPaths, ingestRoots, type ReceivedUpload, receiveUpload } from "./ingestInput.js";
import { Metadata, type WorkerInfo } from "./metadata.js";
import { journaledScratch } from "./publishJournal.js";
import { QueryHistory } from "./queryHistory.js";
import { reconcile, reconciled, removeIngestScratch } from "./reconcile.js";
import { replayJournal } from "./replay.js";
import { Replicator } from "./replication.js";

export interface CzarServerOptions {
  dataDir: string;
  /** Workers of the cluster (recorded in metadata; a restarted czar also knows earlier ones). */
  workers: WorkerInfo[];
  httpPort: number;
  /** MySQL protocol port (0: any free port; undefined: not served). */
  mysqlPort?: number;
  /** With a password, MySQL clients must log in as mysqlUser with it. */
  mysqlUser?: string;
  mysqlPassword?: string;
  /** How failed logins (MySQL and HTTP) are slowed and locked out per source address. */
  mysqlLogin?: LoginThrottleOptions;
  /**
   * Users of HTTP and the MySQL port (src/czar/auth/users.ts), besides mysqlUser (an admin when
   * it has a password). With none, HTTP answers anyone only on a loopback bind.
   */
  users?: readonly UserEntry[];
  host?: string;
  replicas?: number;
  queryTimeoutMs?: number;
  /** Seconds a client may read nothing of an answer before it is let go (default 60). */
  netWriteTimeoutS?: number;
  /** The longest a query or a publish waits for its database (ms, default 300 s; 0: no limit). */
  lockWaitTimeoutMs?: number;
  /** A load into a worker that makes no progress this long fails the ingest (ms, default 60 s; 0: no limit). */
  loadIdleTimeoutMs?: number;
  /** Disk that rows slow clients have not read yet may take under DATA_DIR/spool (default 10 GiB). */
  spoolMaxBytes?: number;
  /** Bytes of such rows one query keeps in memory before spilling (default 8 MiB). */
  spoolMemoryBytes?: number;
  maxResultBytes?: number;
  /** Directories whose files `POST /ingest` may name by path (default none: uploads only). */
  ingestRoots?: string[];
  /** Longest a TAP UPLOAD by http URL may take (ms, default 30 s). */
  tapUploadTimeoutMs?: number;
  /** Hosts a TAP UPLOAD by http(s) URL may be fetched from (default none: refused). */
  tapUploadHosts?: string[];
  /** Log the statements in flight when the event loop is held longer than this (ms; 0: never). */
  loopStallLogMs?: number;
  /** Largest query text in bytes (default 16 MiB). */
  maxQueryBytes?: number;
  /** Milliseconds between automatic repair passes (0: only on demand, POST /replicate). */
  repairIntervalMs?: number;
  /** Automatic repair leaves a worker down for less than this alone (default 60 s). */
  repairGraceMs?: number;
  /** Milliseconds between health probes of the workers (0: only when status or repair asks). */
  healthIntervalMs?: number;
  /** Milliseconds between garbage collection passes (0: only on demand, POST /gc; default 300 s). */
  gcIntervalMs?: number;
  /** A chunk call that sends nothing this long (ms) is hedged on another replica (default 1000; 0: never). */
  hedgeAfterMs?: number;
  /** The cluster secret sent with every call to the workers. */
  clusterSecret?: string;
  log?: Logger;
}

export interface CzarServer {
  httpPort: number;
  /** null when the MySQL protocol is not served. */
  mysqlPort: number | null;
  czar: Czar;
  meta: Metadata;
  replicator: Replicator;
  /** Ingests as `POST /ingest` does (a watcher inside the czar loads through it). */
  ingest: HttpRoutes["ingest"];
  /** The watchers of directories and what they report (`GET /watch`). */
  watch: WatchRegistry;
  close(): Promise<void>;
}

/**
 * Worker clients by id, addresses from metadata. A chunk is served only by the placed replicas
 * whose current listing shows it whole; before a query picks them, listings older than the last
 * change of chunk contents are taken again.
 */
class Directory implements WorkerDirectory {
  private readonly clients = new Map<string, WorkerClient>();
  private readonly transfers = new Map<string, TransferClient>();
  readonly monitor: HealthMonitor;
  constructor(
    private readonly meta: Metadata,
    log: Logger,
    private readonly secret: string | undefined,
    probeTimeoutMs: number,
  ) {
    this.monitor = new HealthMonitor(meta, (id) => this.client(id), log, probeTimeoutMs);
  }

  private address(id: string): string {
    const w = this.meta.workers().find((x) => x.id === id);
    if (w === undefined) throw new QservError("INTERNAL", `unknown worker ${id}`);
    return w.address;
  }
  replicas(db: string, chunkId: number): string[] {
    return this.meta.replicas(db, chunkId).filter((id) => this.monitor.contents(id, db, chunkId) === "complete");
  }
  ready(): Promise<void> {
    return this.monitor.ready();
  }
  fresh(): boolean {
    return this.monitor.fresh();
  }
  isDown(id: string): boolean {
    return this.monitor.isDown(id);
  }
  transfer(id: string): TransferClient {
    let c = this.transfers.get(id);
    if (c === undefined) {
      c = new TransferClient(this.address(id), this.secret);
      this.transfers.set(id, c);
    }
    return c;
  }
  client(id: string): WorkerClient {
    let c = this.clients.get(id);
    if (c === undefined) {
      c = new WorkerClient(this.address(id), this.secret);
      this.clients.set(id, c);
    }
    return c;
  }
  close(): void {
    this.monitor.stop();
    for (const c of [...this.clients.values(), ...this.transfers.values()]) c.close();
  }
}

/** An ingest request from its JSON body: input paths checked against the roots, or the files uploaded. */
function ingestRequest(body: Record<string, unknown>, roots: readonly string[], upload?: ReceivedUpload) {
  const obj = (k: string): Record<string, unknown> => {
    const v = body[k];
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new QservError("BAD_ARGUMENT", `"${k}" must be the JSON object of the ingest config`);
    }
    return v as Record<string, unknown>;
  };
  const files = body.files;
  if (
    upload === undefined &&
    (!Array.isArray(files) || files.length === 0 || files.some((f) => typeof f !== "string"))
  ) {
    throw new QservError("BAD_ARGUMENT", `"files" must be a non-empty list of paths the czar can read`);
  }
  const flag = (k: string): boolean => {
    const v = body[k];
    if (v !== undefined && typeof v !== "boolean") throw new QservError("BAD_ARGUMENT", `"${k}" must be true or false`);
    return v === true;
  };
  if (body.rejects !== undefined && typeof body.rejects !== "string") {
    throw new QservError("BAD_ARGUMENT", `"rejects" must be the path of a file the czar can write`);
  }
  const dialect = body.dialect;
  if (dialect !== undefined && (typeof dialect !== "object" || dialect === null || Array.isArray(dialect))) {
    throw new QservError("BAD_ARGUMENT", `"dialect" must be a JSON object`);
  }
  const notices: string[] = [];
  const database = parseDatabaseConfig(obj("database"), "database config");
  const table = parseTableConfig(obj("table"), "table config", notices);
  return {
    database,
    table,
    files: upload?.files ?? checkInputPaths(files as string[], roots),
    ...(upload === undefined ? {} : { identity: upload.identity }),
    ...(dialect === undefined ? {} : { dialect: dialect as DialectOverrides }),
    header: flag("header"),
    columnsFromHeader: flag("columnsFromHeader"),
    ...binaryReading(body),
    ...(body.rejects === undefined ? {} : { rejectsFile: body.rejects as string }),
    notices,
  };
}

/** The request's Parquet/FITS reading options: `format`, `dropExtraColumns`, `nanAsNull`. */
function binaryReading(body: Record<string, unknown>): {
  format?: string;
  dropExtraColumns?: boolean;
  nanAsNull?: boolean;
} {
  const format = body.format;
  if (format !== undefined) {
    if (typeof format !== "string") throw new QservError("BAD_ARGUMENT", `"format" must be csv, tsv, parquet or fits`);
    inputFormatOf("", format); // BAD_ARGUMENT for an unknown name
  }
  for (const k of ["dropExtraColumns", "nanAsNull"]) {
    if (body[k] !== undefined && typeof body[k] !== "boolean")
      throw new QservError("BAD_ARGUMENT", `"${k}" must be true or false`);
  }
  return {
    ...(typeof format === "string" ? { format } : {}),
    ...(body.dropExtraColumns === true ? { dropExtraColumns: true } : {}),
    ...(body.nanAsNull === true ? { nanAsNull: true } : {}),
  };
}

/** Removes what queries of a czar that died left under `spoolDir` (spill files, scratch databases). */
function removeQueryLeftovers(spoolDir: string, log: Logger): void {
  let names: string[] = [];
  try {
    names = readdirSync(spoolDir);
  } catch {
    return;
  }
  for (const n of names) {
    rmSync(join(spoolDir, n), { recursive: true, force: true });
    log.info({ file: join(spoolDir, n) }, "removed the spill or scratch file of a query no longer running");
  }
}

export async function startCzar(o: CzarServerOptions): Promise<CzarServer> {
  const log = o.log ?? createLogger("czar");
  mkdirSync(o.dataDir, { recursive: true });
  const roots = ingestRoots(o.ingestRoots ?? []);
  const meta = Metadata.open(join(o.dataDir, "czar.sqlite"));
  for (const w of o.workers) meta.upsertWorker(w);
  if (o.clusterSecret === undefined) log.warn("no cluster secret configured: calls to the workers carry none");
  // A worker that stops answering (hung, SIGSTOPped) is marked down by the probe after it is due.
  const healthIntervalMs = o.healthIntervalMs ?? 5000;
  const probeTimeoutMs = healthIntervalMs > 0 ? Math.min(2500, Math.max(200, healthIntervalMs / 2)) : 2500;
  const dir = new Directory(meta, log, o.clusterSecret, probeTimeoutMs);
  const locks = new DatabaseLocks(o.lockWaitTimeoutMs);
  // Spill files and scratch databases of queries a previous run did not finish.
  const spoolDir = join(o.dataDir, "spool");
  removeQueryLeftovers(spoolDir, log);
  /** Ingests under way, for status: the phase now and the last progress of each phase seen. */
  const ingests = new Map<
    number,
    { table: string; phase: string; startedAt: number; phases: Array<{ phase: string } & Record<string, unknown>> }
  >();
  /** Finished queries, kept across restarts (the web console's history). */
  const history = new QueryHistory(join(o.dataDir, "query-history.jsonl"));
  let nextIngest = 1;
  const gate = new Gate();
  const adminCtx: AdminContext = {
    meta,
    clients: (id) => dir.client(id),
    locks,
    onChanged: () => dir.monitor.changed(),
    log,
  };
  /**
   * Every data-management operation (DROP, unload) runs through here: the one place to check who
   * may. Like an ingest it holds the gate shared, so repair and gc passes do not run meanwhile.
   */
  const admin = <T>(fn: () => Promise<T>): Promise<T> => gate.run("shared", fn);
  const czar = new Czar({
    catalog: meta,
    directory: dir,
    locks,
    admin: {
      dropTable: (db, table, ifExists, signal) =>
        admin(() => dropTable(adminCtx, db, table, { ifExists, ...(signal ? { signal } : {}) })),
      dropDatabase: (db, ifExists, signal) =>
        admin(() => dropDatabase(adminCtx, db, { ifExists, ...(signal ? { signal } : {}) })),
    },
    onQueryEnd: ({ startedAt, error, elapsedMs, ...q }) =>
      history.record({
        ...q,
        startedAt: new Date(startedAt).toISOString(),
        elapsedMs: Math.round(elapsedMs * 10) / 10,
        ...(error === undefined ? {} : { error: { code: error.code, message: error.message } }),
      }),
    log,
    metadataFile: join(o.dataDir, "czar.sqlite"),
    spoolDir,
    ...(o.spoolMaxBytes === undefined ? {} : { spoolMaxBytes: o.spoolMaxBytes }),
    ...(o.spoolMemoryBytes === undefined ? {} : { spoolMemoryBytes: o.spoolMemoryBytes }),
    ...(o.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: o.queryTimeoutMs }),
    ...(o.hedgeAfterMs === undefined ? {} : { hedgeAfterMs: o.hedgeAfterMs }),
    ...(o.netWriteTimeoutS === undefined ? {} : { netWriteTimeoutS: o.netWriteTimeoutS }),
    ...(o.maxResultBytes === undefined ? {} : { maxResultBytes: o.maxResultBytes }),
    ...(o.maxQueryBytes === undefined ? {} : { maxQueryBytes: o.maxQueryBytes }),
    ...(o.loopStallLogMs === undefined ? {} : { loopStallLogMs: o.loopStallLogMs }),
  });
  const replicas = Math.max(1, Math.min(o.replicas ?? (meta.workers().length >= 2 ? 2 : 1), meta.workers().length));
  /** The live workers made to agree with metadata (no ingest may run: callers hold the gate). */
  const reconcileWorkers = async (): Promise<boolean> => {
    const workers = dir.monitor
      .all()
      .filter((w) => w.up === true)
      .map((w) => w.id);
    // Publishes a dead czar left: finished or taken back (replay.ts), then the rest reconciled.
    const j = await replayJournal({
      meta,
      live: workers,
      clients: (id) => dir.client(id),
      onPending: (db, table, stage, on) => dir.monitor.publishing(db, table, stage, on),
      log,
    });
    const r = await reconcile({ meta, workers, clients: (id) => dir.client(id), log });
    // An undecided publish's rows are left out of the listings from now on: they are taken again.
    const changed = reconciled(r) || j.forward.length + j.back.length + j.pending.length > 0;
    if (changed) dir.monitor.changed();
    return changed;
  };
  // Before answering or repairing: what a czar that died left on the workers and in its scratch.
  await dir.monitor.refresh();
  await gate.run("exclusive", async () => {
    if (await reconcileWorkers()) await dir.monitor.refresh();
    removeIngestScratch(join(o.dataDir, "scratch"), log, journaledScratch(meta));
  });
  const replicator = new Replicator({
    ...(o.repairGraceMs === undefined ? {} : { graceMs: o.repairGraceMs }),
    meta,
    monitor: dir.monitor,
    transfer: (id) => dir.transfer(id),
    gate,
    reconcile: reconcileWorkers,
    replicas,
    log,
  });
  const collector = new Collector({
    meta,
    monitor: dir.monitor,
    clients: (id) => dir.client(id),
    gate,
    locks,
    scratchDir: join(o.dataDir, "scratch"),
    replicas,
    log,
  });
  // One set of users and one login throttle for HTTP and MySQL alike.
  const users = new Users([
    ...(o.users ?? []),
    ...(o.mysqlPassword === undefined || o.mysqlPassword === ""
      ? []
      : [await userEntry(o.mysqlUser ?? "qsmaster", "admin", o.mysqlPassword)]),
  ]);
  const throttle = new LoginThrottle(o.mysqlLogin);
  const host = o.host ?? "127.0.0.1";
  if (!users.configured) log.warn({ host }, "no users configured: HTTP answers anyone, and only on a loopback bind");
  for (const h of o.tapUploadHosts ?? []) parseHostEntry(h); // a bad entry stops the start
  // Async TAP jobs of an earlier run: kept, those it was running set to ERROR.
  const tap = new TapService(czar, join(o.dataDir, "tap"), log, {
    ...DEFAULT_UPLOAD_SOURCES,
    roots,
    timeoutMs: o.tapUploadTimeoutMs ?? DEFAULT_UPLOAD_SOURCES.timeoutMs,
    hosts: o.tapUploadHosts ?? [],
  });
  czar.asyncQueries = new QservAsync(tap.jobs);
  const watch = new WatchRegistry();
  // Kept: the czar's own watcher (mini-qserv czar --watch) ingests through the same route.
  let routes!: HttpRoutes;
  /** `GET /status` (probing the workers first unless `probe` is false). */
  const status = async (caller: Parameters<typeof clusterStatus>[0]["caller"], probe = true) => ({
    ...(await clusterStatus({ meta, monitor: dir.monitor, replicator, czar, replicas, caller, probe })),
    ingests: [...ingests.values()].map((i) => ({
      table: i.table,
      phase: i.phase,
      phases: i.phases,
      elapsedMs: Date.now() - i.startedAt,
    })),
    watch: watch.summary(),
  });
  const web: WebSources = {
    status: (caller) => status(caller, false),
    chunks: (db) => chunkMap(meta, dir.monitor, db, replicas),
    history,
    eventEveryMs: Math.max(250, Math.min(1000, healthIntervalMs > 0 ? healthIntervalMs / 2 : 1000)),
  };
  const kept = (r: HttpRoutes): HttpRoutes => {
    routes = r;
    return r;
  };
  const server: http.Server = await startHttp(
    kept({
      czar,
      tap,
      auth: { users, throttle, host, log },
      // An ingest changes chunk contents: repair passes wait for it, and listings before it are stale.
      receiveUpload: (req) => receiveUpload(req, join(o.dataDir, "scratch")),
      ingest: (body, signal, onProgress, upload) =>
        gate.run("shared", async () => {
          const req = ingestRequest(body, roots, upload);
          const id = nextIngest++;
          const run = {
            table: `${req.database.database}.${req.table.table}`,
            phase: "start",
            startedAt: Date.now(),
            phases: [] as Array<{ phase: string } & Record<string, unknown>>,
          };
          ingests.set(id, run);
          dir.monitor.changed();
          try {
            return await ingestTable(
              {
                meta,
                clients: (w) => dir.client(w),
                scratchDir: join(o.dataDir, "scratch"),
                replicas,
                locks,
                loadIdleTimeoutMs: o.loadIdleTimeoutMs ?? DEFAULT_LOAD_IDLE_TIMEOUT_MS,
                // Queries after the publish must not go by a listing taken before it.
                onPublished: () => dir.monitor.changed(),
                onPublishing: (db, table, stage, on) => dir.monitor.publishing(db, table, stage, on),
                log,
              },
              req,
              {
                signal,
                onProgress: (p) => {
                  run.phase = p.phase;
                  if (run.phases.at(-1)?.phase === p.phase) run.phases[run.phases.length - 1] = { ...p };
                  else run.phases.push({ ...p });
                  onProgress?.(p);
                },
              },
            );
          } finally {
            ingests.delete(id);
            dir.monitor.changed();
          }
        }),
      status,
      web,
      replicate: () => replicator.pass(),
      gc: async () => ({ ...(await collector.pass()), tapJobsDestroyed: tap.sweep() }),
      loads: (database, table) => ({ loads: meta.loads(database, table) }),
      unload: (loadId, signal) => admin(() => unload(adminCtx, loadId, { signal })),
      watch,
    }),
    o.httpPort,
    host,
    log,
  );
  const httpPort = portOf(server);
  dir.monitor.start(healthIntervalMs);
  replicator.start(o.repairIntervalMs ?? 60_000);
  collector.start(o.gcIntervalMs ?? 300_000);
  const mysql =
    o.mysqlPort === undefined
      ? null
      : await startMysqlServer({
          czar,
          port: o.mysqlPort,
          host: o.host ?? "127.0.0.1",
          log,
          ...(o.mysqlUser === undefined ? {} : { user: o.mysqlUser }),
          ...(o.mysqlPassword === undefined ? {} : { password: o.mysqlPassword }),
          users,
          throttle,
        });
  const mysqlPort = mysql?.port ?? null;
  log.info({ httpPort, mysqlPort, workers: meta.workers().length, replicas }, "czar listening");
  return {
    httpPort,
    mysqlPort,
    czar,
    meta,
    replicator,
    ingest: routes.ingest,
    watch,
    async close() {
      replicator.stop();
      collector.stop();
      tap.close();
      for (const p of czar.processes()) p.cancel("czar shutting down");
      closeWeb(web);
      await mysql?.close();
      // Requests under way get up to 5 s to end; idle keep-alive connections would hold close for ever.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const late = setTimeout(() => server.closeAllConnections(), 5000);
      await closed;
      clearTimeout(late);
      dir.close();
      await czar.close();
      history.close();
      meta.close();
    },
  };
}
