/**
 * Replica repair. A pass reconciles the workers with metadata (see reconcile.ts), probes every
 * worker, then, for every chunk of every database: placed replicas on live workers that lack the
 * chunk (or some of its rows, or hold rows no recorded load brought) are dropped from the
 * placement, as long as a live worker holds it whole (else the placements stay and the chunk is
 * reported unavailable); a chunk with fewer than R live replicas gets copies from a live replica to the live
 * workers holding the fewest chunks (then bytes) — a live worker that already holds all of it is
 * adopted without a copy. The replicated tables of a database go to every live worker. Down
 * workers keep their placements (they may come back with their data) but do not count — except,
 * in automatic passes, while they have been down for less than the grace period (a restarting
 * worker is not worth copying its chunks away).
 */
import pLimit from "p-limit";
import type { Logger } from "pino";
import { isQservError } from "../common/errors.js";
import { copyChunk, type TransferClient } from "../worker/transferClient.js";
import { expectedContents, type TableRows } from "./chunkContents.js";
import type { Gate } from "./gate.js";
import type { HealthMonitor } from "./health.js";
import { type Metadata, REPLICATED_CHUNK } from "./metadata.js";

export interface ChunkRef {
  database: string;
  chunkId: number;
}

export interface RepairReport {
  startedAt: string;
  elapsedMs: number;
  workersDown: string[];
  copied: Array<ChunkRef & { from: string; to: string; bytes: number; ms: number }>;
  /** Live workers made replicas of a chunk they already held whole. */
  adopted: Array<ChunkRef & { worker: string }>;
  /** Placements removed: the worker is up but lacks (part of) the chunk. */
  dropped: Array<ChunkRef & { worker: string }>;
  failed: Array<ChunkRef & { from: string; to: string; error: string }>;
  /** Chunks no live worker holds: nothing to copy from. */
  unavailable: ChunkRef[];
}

export interface ReplicatorOptions {
  meta: Metadata;
  monitor: HealthMonitor;
  transfer: (workerId: string) => TransferClient;
  /** Ingests hold it shared; a pass holds it exclusively (it must see finished tables only). */
  gate: Gate;
  /** Makes the workers agree with metadata (run under the gate); true when it changed what they hold. */
  reconcile?: () => Promise<boolean>;
  replicas: number;
  /** Copies in flight at once. */
  concurrency?: number;
  copyTimeoutMs?: number;
  /** Automatic passes count a placed worker down for less than this as a replica (default 60 s). */
  graceMs?: number;
  log?: Logger;
}

interface Copy extends ChunkRef {
  from: string;
  to: string;
  expected: readonly TableRows[];
}

export class Replicator {
  private passes: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private copiesRunning = 0;
  private passRunning = false;
  private last: RepairReport | null = null;
  private totals = { passes: 0, copies: 0, bytes: 0, failures: 0 };
  private readonly startedAt = Date.now();

  constructor(private readonly o: ReplicatorOptions) {}

  /** Runs a pass every `intervalMs` (0: only on demand). */
  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (!this.passRunning)
        this.pass(this.o.graceMs ?? 60_000).catch((e) => this.o.log?.error({ err: e }, "repair pass failed"));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** For status. */
  state() {
    return {
      passRunning: this.passRunning,
      copiesRunning: this.copiesRunning,
      totals: { ...this.totals },
      lastPass: this.last,
    };
  }

  /** One pass, after any pass already running; workers down for less than `graceMs` still count. */
  pass(graceMs = 0): Promise<RepairReport> {
    const run = this.passes.then(() => this.o.gate.run("exclusive", () => this.runPass(graceMs)));
    this.passes = run.catch(() => {});
    return run;
  }

  private async runPass(graceMs: number): Promise<RepairReport> {
    const { monitor } = this.o;
    const t0 = performance.now();
    this.passRunning = true;
    try {
      await monitor.refresh();
      if ((await this.o.reconcile?.()) === true) await monitor.refresh();
      const report: RepairReport = {
        startedAt: new Date().toISOString(),
        elapsedMs: 0,
        workersDown: monitor
          .all()
          .filter((w) => w.up !== true)
          .map((w) => w.id),
        copied: [],
        adopted: [],
        dropped: [],
        failed: [],
        unavailable: [],
      };
      const copies = this.plan(report, graceMs);
      const limit = pLimit(this.o.concurrency ?? 4);
      await Promise.all(copies.map((c) => limit(() => this.copy(c, report))));
      report.elapsedMs = performance.now() - t0;
      this.totals.passes++;
      this.last = report;
      const n = (a: unknown[]) => a.length;
      if (copies.length + n(report.dropped) + n(report.adopted) + n(report.unavailable) > 0) {
        this.o.log?.info(
          {
            copied: n(report.copied),
            failed: n(report.failed),
            dropped: n(report.dropped),
            adopted: n(report.adopted),
            unavailable: n(report.unavailable),
            ms: Math.round(report.elapsedMs),
          },
          "repair pass done",
        );
      }
      return report;
    } finally {
      this.passRunning = false;
    }
  }

  /** Drops and adoptions are applied at once; the copies to make are returned. */
  private plan(report: RepairReport, graceMs: number): Copy[] {
    const { meta, monitor } = this.o;
    const live = monitor.all().filter((w) => w.up === true);
    const now = Date.now();
    const resting = new Set(
      monitor
        .all()
        .filter((w) => w.up !== true && now - (w.lastSeen ?? this.startedAt) < graceMs)
        .map((w) => w.id),
    );
    const order = new Map(live.map((w, i) => [w.id, i]));
    const load = new Map(live.map((w) => [w.id, { chunks: w.chunks, bytes: w.bytes }]));
    const copies: Copy[] = [];
    for (const { database } of meta.databases()) {
      for (const [chunkId, expected] of expectedContents(meta, database)) {
        const ref = { database, chunkId };
        const holds = (id: string) => monitor.holds(id, database, chunkId, expected) === true;
        const placed = meta.replicas(database, chunkId);
        const lacking = placed.filter((id) => monitor.holds(id, database, chunkId, expected) === false);
        const sources = placed.filter(holds);
        const want = chunkId === REPLICATED_CHUNK ? live.length : this.o.replicas;
        const targets = live
          .map((w) => w.id)
          .filter((id) => !sources.includes(id))
          .sort((a, b) => {
            const la = load.get(a)!;
            const lb = load.get(b)!;
            return (
              Number(holds(b)) - Number(holds(a)) ||
              la.chunks - lb.chunks ||
              la.bytes - lb.bytes ||
              order.get(a)! - order.get(b)!
            );
          })
          .slice(0, Math.max(0, want - sources.length - placed.filter((id) => resting.has(id)).length));
        const from = [...sources, ...targets.filter(holds)];
        if (from.length === 0) {
          // Nothing whole to copy from: the placements stay (never forget where a chunk's rows are).
          if (targets.length > 0 || lacking.length > 0) report.unavailable.push(ref);
          continue;
        }
        for (const id of lacking) {
          meta.removeReplica(database, chunkId, id);
          report.dropped.push({ ...ref, worker: id });
        }
        targets.forEach((to, i) => {
          if (holds(to)) {
            meta.addReplica(database, chunkId, to);
            report.adopted.push({ ...ref, worker: to });
            return;
          }
          if (chunkId !== REPLICATED_CHUNK) load.get(to)!.chunks++;
          copies.push({ ...ref, from: from[Math.abs(chunkId + i) % from.length]!, to, expected });
        });
      }
    }
    return copies;
  }

  private async copy(c: Copy, report: RepairReport): Promise<void> {
    const t0 = performance.now();
    const ref = { database: c.database, chunkId: c.chunkId };
    this.copiesRunning++;
    try {
      const r = await copyChunk(this.o.transfer(c.from), this.o.transfer(c.to), c.database, c.chunkId, {
        timeoutMs: this.o.copyTimeoutMs ?? 600_000,
      });
      const bad = c.expected.find((e) => {
        const t = r.tables.find((x) => x.table === e.table);
        return t === undefined || t.rows !== e.rows || t.overlapRows !== e.overlapRows;
      });
      if (bad !== undefined) throw new Error(`the copy's table ${bad.table} does not have the registered rows`);
      this.o.meta.addReplica(c.database, c.chunkId, c.to);
      this.o.monitor.noteImported(c.to, c.database, c.chunkId, r.tables, r.bytes);
      const ms = Math.round(performance.now() - t0);
      report.copied.push({ ...ref, from: c.from, to: c.to, bytes: r.bytes, ms });
      this.totals.copies++;
      this.totals.bytes += r.bytes;
      this.o.log?.info({ ...ref, from: c.from, to: c.to, bytes: r.bytes, ms }, "replica copied");
    } catch (e) {
      const error = isQservError(e) ? `[${e.code}] ${e.message}` : e instanceof Error ? e.message : String(e);
      report.failed.push({ ...ref, from: c.from, to: c.to, error });
      this.totals.failures++;
      this.o.log?.warn({ ...ref, from: c.from, to: c.to, err: error }, "replica copy failed");
    } finally {
      this.copiesRunning--;
    }
  }
}
