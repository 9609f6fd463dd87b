/**
 * The czar's view of its workers: every few seconds each worker is asked for its Status and its
 * List; a worker that does not answer within the timeout is down. From the lists the monitor
 * knows which placed replicas a live worker lacks (missing chunk, table or rows), so that queries
 * skip them and the repair replaces them.
 */
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import type { WorkerClient } from "../worker/client.js";
import type { StatusResponse } from "../worker/messages.js";
import { expectedContents, type Holdings, holdingsOf, holdsAll, noteHeld, type TableRows } from "./chunkContents.js";
import { type Metadata, REPLICATED_CHUNK } from "./metadata.js";

export interface WorkerHealth {
  id: string;
  address: string;
  /** null until first probed */
  up: boolean | null;
  /** Date.now() of the last answer */
  lastSeen: number | null;
  lastError: string | null;
  status: StatusResponse | null;
  /** What the worker's last List showed, and when (monitor epoch). */
  held: Holdings | null;
  heldEpoch: number;
  chunks: number;
  bytes: number;
}

/** Between status attempts of a probe. */
const RETRY_MS = 200;

const key = (db: string, chunkId: number, worker: string) => `${db}\u0000${chunkId}\u0000${worker}`;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QservError("UNAVAILABLE", `${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export class HealthMonitor {
  /** Bumped when chunk contents change behind the monitor's back (an ingest starts or ends). */
  private epoch = 0;
  private readonly health = new Map<string, WorkerHealth>();
  private probing: { epoch: number; done: Promise<void> } | null = null;
  private lacking = new Set<string>();
  private lackingEpoch = -1;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly meta: Metadata,
    private readonly clients: (id: string) => Pick<WorkerClient, "status" | "list">,
    private readonly log?: Logger,
    /** How long a worker has to answer a probe. */
    private readonly timeoutMs = 2500,
  ) {}

  /** Probes every `intervalMs` (0: never on its own). */
  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Resolves once every worker has been probed since the last change (a probe in progress is joined). */
  async refresh(): Promise<void> {
    for (;;) {
      if (this.probing === null) {
        const epoch = this.epoch;
        const p = { epoch, done: this.probeAll(epoch) };
        this.probing = p;
        void p.done.finally(() => {
          if (this.probing === p) this.probing = null;
        });
      }
      const p = this.probing;
      await p.done;
      if (p.epoch === this.epoch) return;
    }
  }

  /** Chunk contents changed (an ingest started or ended): listings taken before are stale. */
  changed(): void {
    this.epoch++;
  }

  /** Every registered worker, in registration order. */
  all(): WorkerHealth[] {
    return this.meta.workers().map((w) => this.entry(w.id, w.address));
  }

  isDown(id: string): boolean {
    return this.health.get(id)?.up === false;
  }

  isUp(id: string): boolean {
    return this.health.get(id)?.up === true;
  }

  /**
   * True when the last fresh listing shows that a placed replica lacks (part of) its chunk, or
   * (for a chunk) the replicated tables of its database.
   */
  lacks(db: string, chunkId: number, id: string): boolean {
    if (this.lackingEpoch !== this.epoch) return false;
    return this.lacking.has(key(db, chunkId, id)) || this.lacking.has(key(db, REPLICATED_CHUNK, id));
  }

  /** Whether a live worker holds all of a chunk, by its fresh listing; null when not known. */
  holds(id: string, db: string, chunkId: number, expected: readonly TableRows[]): boolean | null {
    const h = this.health.get(id);
    if (h?.up !== true || h.held === null || h.heldEpoch !== this.epoch) return null;
    return holdsAll(h.held, db, chunkId, expected);
  }

  /** A chunk file was imported into a worker. */
  noteImported(id: string, db: string, chunkId: number, tables: readonly TableRows[], bytes: number): void {
    const h = this.health.get(id);
    if (h?.held == null) return;
    if (h.held.get(db)?.has(chunkId) !== true && chunkId >= 0) h.chunks++;
    h.bytes += bytes;
    noteHeld(h.held, db, chunkId, tables);
    this.lacking.delete(key(db, chunkId, id));
  }

  private entry(id: string, address: string): WorkerHealth {
    let h = this.health.get(id);
    if (h === undefined) {
      h = {
        id,
        address,
        up: null,
        lastSeen: null,
        lastError: null,
        status: null,
        held: null,
        heldEpoch: -1,
        chunks: 0,
        bytes: 0,
      };
      this.health.set(id, h);
    }
    h.address = address;
    return h;
  }

  private async probeAll(epoch: number): Promise<void> {
    await Promise.all(this.all().map((h) => this.probe(h, epoch)));
    const lacking = new Set<string>();
    for (const { database } of this.meta.databases()) {
      for (const [chunkId, expected] of expectedContents(this.meta, database)) {
        // Every worker should hold the replicated tables: chunk queries may join them.
        const ids = chunkId === REPLICATED_CHUNK ? this.all().map((w) => w.id) : this.meta.replicas(database, chunkId);
        for (const id of ids) {
          if (this.holds(id, database, chunkId, expected) === false) lacking.add(key(database, chunkId, id));
        }
      }
    }
    if (epoch === this.epoch) {
      this.lacking = lacking;
      this.lackingEpoch = epoch;
    }
  }

  /**
   * The worker's status, asked again for up to the timeout: a worker that just came back is
   * reconnected to (after the client's reconnect backoff) rather than reported down.
   */
  private async status(client: Pick<WorkerClient, "status">): Promise<StatusResponse> {
    const until = performance.now() + this.timeoutMs;
    for (;;) {
      try {
        return await client.status({ timeoutMs: this.timeoutMs });
      } catch (e) {
        if (performance.now() + RETRY_MS > until) throw e;
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private async probe(h: WorkerHealth, epoch: number): Promise<void> {
    const client = this.clients(h.id);
    try {
      const status = await this.status(client);
      const list = await withTimeout(client.list(), this.timeoutMs, `${h.address} List`);
      const { held, chunks, bytes } = holdingsOf(list);
      if (h.up !== true) this.log?.info({ worker: h.id, address: h.address, chunks }, "worker up");
      Object.assign(h, {
        up: true,
        lastSeen: Date.now(),
        lastError: null,
        status,
        held,
        heldEpoch: epoch,
        chunks,
        bytes,
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (h.up !== false) this.log?.warn({ worker: h.id, address: h.address, err: message }, "worker down");
      Object.assign(h, { up: false, lastError: message, status: null });
    }
  }
}
