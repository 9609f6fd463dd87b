/**
 * The czar's view of its workers: every few seconds each worker is asked for its Status and its
 * List; a worker that does not answer within the timeout is down. A replica serves a chunk only
 * when a listing taken since chunk contents last changed shows it holding every table of the
 * chunk with exactly the rows metadata records (and the database's replicated tables): queries
 * and the repair ask the same question (`contents`). Listings older than the last change (an
 * ingest, a publish, a reconcile) know nothing: `ready` probes again before a query uses them.
 */
import type { Logger } from "pino";
import { QservError } from "../common/errors.js";
import type { WorkerClient } from "../worker/client.js";
import type { StatusResponse } from "../worker/messages.js";
import { expectedContents, type Holdings, holdingsOf, holdsAll, noteHeld, type TableRows } from "./chunkContents.js";
import { type Metadata, REPLICATED_CHUNK } from "./metadata.js";

/** What a worker's listing says of one of its chunks: whole, lacking something, or not known. */
export type ReplicaContents = "complete" | "lacking" | "unknown";

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

const stageKey = (db: string, table: string, stage: string) => `${db}\u0000${table}\u0000${stage}`;

/** Between status attempts of a probe. */
const RETRY_MS = 200;

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
  /** The epoch of the last probe of every worker that ended. */
  private probedEpoch = -1;
  /** Metadata's chunk contents per database, read once per epoch. */
  private expectedCache: { epoch: number; byDb: Map<string, Map<number, TableRows[]>> } = {
    epoch: -1,
    byDb: new Map(),
  };
  private timer: NodeJS.Timeout | null = null;
  /** Stages being published now (see `publishing`). */
  private readonly inFlight = new Set<string>();

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

  /**
   * A publish of a stage starts (`on`) or ends: while it runs, the rows it adds on a worker are
   * not counted against metadata. Any other published stage metadata lacks (a dead czar's, an
   * unloaded load's on a worker that was down) is counted, so that replica is not served.
   */
  publishing(db: string, table: string, stage: string, on: boolean): void {
    if (on) this.inFlight.add(stageKey(db, table, stage));
    else this.inFlight.delete(stageKey(db, table, stage));
  }

  /** Chunk contents changed (an ingest started or ended, a load was published): listings taken before are stale. */
  changed(): void {
    this.epoch++;
  }

  /** Resolves once every worker has been probed since the last change (at once when it has). */
  async ready(): Promise<void> {
    if (this.probedEpoch !== this.epoch) await this.refresh();
  }

  /** True when every worker was probed since the last change. */
  fresh(): boolean {
    return this.probedEpoch === this.epoch;
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

  /** What metadata says the chunk holds (REPLICATED_CHUNK: the database's replicated tables). */
  expected(db: string, chunkId: number): readonly TableRows[] {
    if (this.expectedCache.epoch !== this.epoch) this.expectedCache = { epoch: this.epoch, byDb: new Map() };
    let byChunk = this.expectedCache.byDb.get(db);
    if (byChunk === undefined) {
      byChunk = expectedContents(this.meta, db);
      this.expectedCache.byDb.set(db, byChunk);
    }
    return byChunk.get(chunkId) ?? [];
  }

  /**
   * Whether the worker's listing taken since the last change shows the chunk whole: every table
   * with the recorded rows, and (for a chunk) the replicated tables of its database too.
   */
  contents(id: string, db: string, chunkId: number): ReplicaContents {
    const h = this.health.get(id);
    if (h === undefined || h.held === null || h.heldEpoch !== this.epoch) return "unknown";
    const whole = (c: number) => holdsAll(h.held as Holdings, db, c, this.expected(db, c));
    const replicated = this.expected(db, REPLICATED_CHUNK);
    if (!whole(chunkId)) return "lacking";
    return chunkId === REPLICATED_CHUNK || replicated.length === 0 || whole(REPLICATED_CHUNK) ? "complete" : "lacking";
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
    if (epoch === this.epoch) this.probedEpoch = epoch;
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
      // Rows of a publish under way are left out: queries do not see them yet (their snapshot).
      const { held, chunks, bytes } = holdingsOf(list, (db, table, stage) =>
        this.inFlight.has(stageKey(db, table, stage)),
      );
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
