import os from "node:os";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import { Catalog } from "./catalog.js";
import { clearTemp } from "./chunkCopy.js";
import { MESSAGE_LIMITS, requireSecret, transferService, workerService } from "./grpc.js";
import { Loader } from "./loader.js";
import { QueryPool } from "./queryPool.js";
import { WorkerService } from "./service.js";
import { ChunkTransferService } from "./transfer.js";

export interface WorkerOptions {
  dataDir: string;
  port: number;
  host?: string;
  /** Query executor threads (default: the number of cores). */
  threads?: number;
  /** The cluster secret every call must carry (undefined: calls are taken from anyone, with a warning). */
  secret?: string;
  log: Logger;
}

export interface RunningWorker {
  port: number;
  service: WorkerService;
  /**
   * Stops taking calls, lets running ones finish for up to `graceMs`, then cancels the rest;
   * resolves to the number of executor threads still inside a SQLite step (which nothing stops).
   */
  close(graceMs?: number): Promise<number>;
}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  clearTemp(o.dataDir);
  const catalog = Catalog.scan(o.dataDir);
  const threads = o.threads ?? os.availableParallelism();
  const pool = new QueryPool(threads);
  const loader = new Loader();
  const service = new WorkerService(o.dataDir, catalog, pool, loader, o.log);
  if (o.secret === undefined) {
    o.log.warn("no cluster secret configured: this worker takes calls from anyone who can reach its port");
  }
  const server = new grpc.Server({
    ...MESSAGE_LIMITS,
    ...(o.secret === undefined ? {} : { interceptors: [requireSecret(o.secret)] }),
  });
  server.addService(workerService().service, service.handlers());
  const transfer = new ChunkTransferService(o.dataDir, catalog, service.fileLocks, o.log);
  server.addService(transferService().service, transfer.handlers());
  const host = o.host ?? "127.0.0.1";
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${o.port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(new QservError("UNAVAILABLE", `cannot listen on ${host}:${o.port}: ${err.message}`)) : resolve(p),
    ),
  );
  o.log.info(
    {
      port,
      dataDir: o.dataDir,
      threads,
      databases: catalog.databaseCount,
      chunks: catalog.chunkCount,
      secret: o.secret !== undefined,
    },
    "worker listening",
  );
  return {
    port,
    service,
    async close(graceMs = 5000) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      const [stuck] = await Promise.all([pool.close(), loader.close()]);
      o.log.info({ stuckThreads: stuck }, "worker stopped");
      return stuck;
    },
  };
}
