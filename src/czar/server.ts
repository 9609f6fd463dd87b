/** A czar: metadata (persisted in DATA_DIR/czar.sqlite), the query engine, the HTTP API. */
import { mkdirSync } from "node:fs";
import type http from "node:http";
import { join } from "node:path";
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import { parseDatabaseConfig, parseTableConfig } from "../common/ingestConfig.js";
import { createLogger } from "../common/log.js";
import type { DialectOverrides } from "../partitioner/dialect.js";
import { WorkerClient } from "../worker/client.js";
import { Czar } from "./czar.js";
import { DatabaseLocks } from "./databaseLocks.js";
import type { WorkerDirectory } from "./exec/dispatch.js";
import { portOf, startHttp } from "./http.js";
import { ingestTable } from "./ingest.js";
import { Metadata, type WorkerInfo } from "./metadata.js";

export interface CzarServerOptions {
  dataDir: string;
  /** Workers of the cluster (recorded in metadata; a restarted czar also knows earlier ones). */
  workers: WorkerInfo[];
  httpPort: number;
  host?: string;
  replicas?: number;
  queryTimeoutMs?: number;
  maxResultBytes?: number;
  log?: Logger;
}

export interface CzarServer {
  httpPort: number;
  czar: Czar;
  meta: Metadata;
  close(): Promise<void>;
}

/** Worker clients by id, addresses from metadata. */
class Directory implements WorkerDirectory {
  private readonly clients = new Map<string, WorkerClient>();
  constructor(private readonly meta: Metadata) {}

  private address(id: string): string {
    const w = this.meta.workers().find((x) => x.id === id);
    if (w === undefined) throw new QservError("INTERNAL", `unknown worker ${id}`);
    return w.address;
  }
  replicas(db: string, chunkId: number): string[] {
    return this.meta.replicas(db, chunkId);
  }
  client(id: string): WorkerClient {
    let c = this.clients.get(id);
    if (c === undefined) {
      c = new WorkerClient(this.address(id));
      this.clients.set(id, c);
    }
    return c;
  }
  close(): void {
    for (const c of this.clients.values()) c.close();
  }
}

function ingestRequest(body: Record<string, unknown>) {
  const obj = (k: string): Record<string, unknown> => {
    const v = body[k];
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new QservError("BAD_ARGUMENT", `"${k}" must be the JSON object of the ingest config`);
    }
    return v as Record<string, unknown>;
  };
  const files = body.files;
  if (!Array.isArray(files) || files.length === 0 || files.some((f) => typeof f !== "string")) {
    throw new QservError("BAD_ARGUMENT", `"files" must be a non-empty list of paths the czar can read`);
  }
  return {
    database: parseDatabaseConfig(obj("database"), "database config"),
    table: parseTableConfig(obj("table"), "table config"),
    files: files as string[],
    ...(body.dialect === undefined ? {} : { dialect: body.dialect as DialectOverrides }),
  };
}

export async function startCzar(o: CzarServerOptions): Promise<CzarServer> {
  const log = o.log ?? createLogger("czar");
  mkdirSync(o.dataDir, { recursive: true });
  const meta = Metadata.open(join(o.dataDir, "czar.sqlite"));
  for (const w of o.workers) meta.upsertWorker(w);
  const dir = new Directory(meta);
  const locks = new DatabaseLocks();
  /** Ingests under way, for status. */
  const ingests = new Map<number, { table: string; phase: string; startedAt: number }>();
  let nextIngest = 1;
  const czar = new Czar({
    catalog: meta,
    directory: dir,
    locks,
    log,
    ...(o.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: o.queryTimeoutMs }),
    ...(o.maxResultBytes === undefined ? {} : { maxResultBytes: o.maxResultBytes }),
  });
  const replicas = Math.max(1, Math.min(o.replicas ?? (meta.workers().length >= 2 ? 2 : 1), meta.workers().length));
  const server: http.Server = await startHttp(
    {
      czar,
      ingest: async (body, signal, onProgress) => {
        const req = ingestRequest(body);
        const id = nextIngest++;
        const run = { table: `${req.database.database}.${req.table.table}`, phase: "start", startedAt: Date.now() };
        ingests.set(id, run);
        try {
          return await ingestTable(
            { meta, clients: (w) => dir.client(w), scratchDir: join(o.dataDir, "scratch"), replicas, locks, log },
            req,
            {
              signal,
              onProgress: (p) => {
                run.phase = p.phase;
                onProgress?.(p);
              },
            },
          );
        } finally {
          ingests.delete(id);
        }
      },
      status: async () => {
        const workers = await Promise.all(
          meta.workers().map(async (w) => {
            try {
              const s = await dir.client(w.id).status({ timeoutMs: 2000 });
              return { ...w, up: true, running: s.running.length };
            } catch {
              return { ...w, up: false };
            }
          }),
        );
        const databases = meta.databases().map((d) => ({
          ...d,
          tables: meta.tables(d.database).map((t) => ({ name: t.name, kind: t.kind, rows: t.rows })),
          chunks: meta.chunks(d.database).length,
        }));
        const queries = czar.processes().map((p) => ({
          id: p.id,
          query: p.query,
          chunksDone: p.chunksDone,
          chunksTotal: p.chunksTotal,
          elapsedMs: Date.now() - p.startedAt,
        }));
        const loading = [...ingests.values()].map((i) => ({
          table: i.table,
          phase: i.phase,
          elapsedMs: Date.now() - i.startedAt,
        }));
        return { workers, databases, queries, ingests: loading };
      },
    },
    o.httpPort,
    o.host ?? "127.0.0.1",
    log,
  );
  const httpPort = portOf(server);
  log.info({ httpPort, workers: meta.workers().length, replicas }, "czar listening");
  return {
    httpPort,
    czar,
    meta,
    async close() {
      for (const p of czar.processes()) p.cancel("czar shutting down");
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      dir.close();
      meta.close();
    },
  };
}
