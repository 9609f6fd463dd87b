import { join } from "node:path";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import type { IngestContext } from "../../src/czar/ingest.js";
import { Metadata } from "../../src/czar/metadata.js";
import { WorkerClient } from "../../src/worker/client.js";

export interface TestCluster {
  dir: string;
  metaFile: string;
  workers: Map<string, WorkerProcess>;
  clients: Map<string, WorkerClient>;
  /** An ingest context on a metadata file (reopen it with `reopen`). */
  ctx: IngestContext;
  client(id: string): WorkerClient;
  /** Closes the metadata and opens the file again. */
  reopen(): void;
  /** Closes the clients and the metadata, stops the workers. */
  stop(): Promise<void>;
}

/** `n` worker processes on loopback (w1..wn, data under `dir`) registered in a fresh metadata file. */
export async function startCluster(dir: string, n: number, replicas: number): Promise<TestCluster> {
  const metaFile = join(dir, "czar.sqlite");
  const workers = new Map<string, WorkerProcess>();
  const clients = new Map<string, WorkerClient>();
  const ids = Array.from({ length: n }, (_, i) => `w${i + 1}`);
  const procs = await Promise.all(ids.map((id) => startWorkerProcess(join(dir, id), ["--threads", "2"])));
  const meta = Metadata.open(metaFile);
  ids.forEach((id, i) => {
    const w = procs[i] as WorkerProcess;
    workers.set(id, w);
    clients.set(id, new WorkerClient(w.address));
    meta.upsertWorker({ id, address: w.address });
  });
  const client = (id: string): WorkerClient => {
    const c = clients.get(id);
    if (c === undefined) throw new Error(`no worker ${id}`);
    return c;
  };
  const cluster: TestCluster = {
    dir,
    metaFile,
    workers,
    clients,
    ctx: { meta, clients: client, scratchDir: join(dir, "scratch"), replicas },
    client,
    reopen() {
      cluster.ctx.meta.close();
      cluster.ctx.meta = Metadata.open(metaFile);
    },
    async stop() {
      for (const c of clients.values()) c.close();
      cluster.ctx.meta.close();
      await Promise.all([...workers.values()].map((w) => w.stop()));
    },
  };
  return cluster;
}
