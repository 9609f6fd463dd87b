/**
 * Garbage collection: what failed ingests, dead czars and returning workers leave behind. A pass
 * runs with no ingest under way (it holds the gate exclusively, like a repair pass) and removes:
 * stages no ingest is loading and publishes metadata never recorded (reconcile.ts); the czar's
 * scratch directories of dead ingests; placements beyond R (a worker that came back after its
 * chunks were copied elsewhere: the last in preference order go); and chunk files a live worker
 * holds that metadata does not place there — dropped under the database's exclusive lock, so no
 * query still reads them; a whole copy of a chunk with fewer than R whole live replicas is kept
 * (the repair adopts it). Each removal is logged.
 */
import type { Logger } from "pino";
import type { WorkerClient } from "../worker/client.js";
import type { DatabaseLocks } from "./databaseLocks.js";
import type { Gate } from "./gate.js";
import type { HealthMonitor } from "./health.js";
import { type Metadata, REPLICATED_CHUNK } from "./metadata.js";
import { journaledScratch } from "./publishJournal.js";
import { type ReconcileAction, reconcile, removeIngestScratch } from "./reconcile.js";

export interface ChunkOnWorker {
  worker: string;
  database: string;
  chunkId: number;
}

export interface GcReport {
  startedAt: string;
  elapsedMs: number;
  stagesDropped: ReconcileAction[];
  unpublished: ReconcileAction[];
  /** Scratch directories of ingests no longer running. */
  scratch: string[];
  /** Placements beyond R removed (their files then dropped as unplaced). */
  overReplicated: ChunkOnWorker[];
  /** Chunk files dropped from workers metadata does not place them on. */
  unplaced: ChunkOnWorker[];
  /** Tables dropped from files that hold them while metadata does not know them (dropped while the worker was down). */
  unknownTables: Array<ChunkOnWorker & { table: string }>;
  failed: Array<{ worker: string; error: string }>;
}

export interface CollectorOptions {
  meta: Metadata;
  monitor: HealthMonitor;
  clients: (id: string) => Pick<WorkerClient, "list" | "unpublish" | "dropStage" | "drop">;
  gate: Gate;
  locks: DatabaseLocks;
  scratchDir: string;
  replicas: number;
  log?: Logger;
}

export class Collector {
  private timer: NodeJS.Timeout | null = null;
  private last: GcReport | null = null;

  constructor(private readonly o: CollectorOptions) {}

  /** Runs a pass every `intervalMs` (0: only on demand). */
  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.pass().catch((e) => this.o.log?.error({ err: e }, "gc pass failed"));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  lastPass(): GcReport | null {
    return this.last;
  }

  pass(): Promise<GcReport> {
    return this.o.gate.run("exclusive", () => this.run());
  }

  private async run(): Promise<GcReport> {
    const { meta, monitor, log } = this.o;
    const t0 = performance.now();
    await monitor.refresh();
    const live = () =>
      monitor
        .all()
        .filter((w) => w.up === true)
        .map((w) => w.id);
    const rec = await reconcile({ meta, workers: live(), clients: this.o.clients, ...(log ? { log } : {}) });
    const report: GcReport = {
      startedAt: new Date().toISOString(),
      elapsedMs: 0,
      stagesDropped: rec.stagesDropped,
      unpublished: rec.unpublished,
      scratch: removeIngestScratch(this.o.scratchDir, log, journaledScratch(meta)),
      overReplicated: [],
      unplaced: [],
      unknownTables: [],
      failed: rec.failed,
    };
    if (rec.unpublished.length + rec.stagesDropped.length > 0) monitor.changed();
    await monitor.refresh();
    this.trim(report);
    await this.dropUnplaced(report, live());
    monitor.changed();
    report.elapsedMs = performance.now() - t0;
    this.last = report;
    const removed =
      report.stagesDropped.length +
      report.unpublished.length +
      report.scratch.length +
      report.overReplicated.length +
      report.unplaced.length +
      report.unknownTables.length;
    if (removed > 0) {
      log?.info(
        {
          stagesDropped: report.stagesDropped.length,
          unpublished: report.unpublished.length,
          scratch: report.scratch.length,
          overReplicated: report.overReplicated.length,
          unplaced: report.unplaced.length,
          unknownTables: report.unknownTables.length,
          ms: Math.round(report.elapsedMs),
        },
        "gc pass done",
      );
    }
    return report;
  }

  /** The whole live replicas of a chunk that metadata places, in preference order. */
  private whole(db: string, chunkId: number): string[] {
    return this.o.meta
      .replicas(db, chunkId)
      .filter((id) => this.o.monitor.isUp(id) && this.o.monitor.contents(id, db, chunkId) === "complete");
  }

  /** Placements beyond R, when R whole live ones remain: the last in preference order go. */
  private trim(report: GcReport): void {
    const { meta, log } = this.o;
    for (const { database } of meta.databases()) {
      for (const chunkId of meta.chunkContents(database).keys()) {
        const placed = meta.replicas(database, chunkId);
        const whole = this.whole(database, chunkId);
        if (placed.length <= this.o.replicas || whole.length < this.o.replicas) continue;
        const keep = new Set(whole.slice(0, this.o.replicas));
        for (const worker of placed) {
          if (keep.has(worker)) continue;
          meta.removeReplica(database, chunkId, worker);
          report.overReplicated.push({ worker, database, chunkId });
          log?.info({ worker, database, chunkId }, "gc: replica beyond R removed from the placement");
        }
      }
    }
  }

  /**
   * Chunk files live workers hold where metadata does not place them (while R whole replicas
   * remain), the replicated file of a database metadata does not know, and tables of a placed
   * file metadata does not know (a DROP that found the worker down).
   */
  private async dropUnplaced(report: GcReport, workers: string[]): Promise<void> {
    const { meta, log } = this.o;
    const doomed = new Map<string, Array<ChunkOnWorker & { table: string }>>();
    const doom = (f: ChunkOnWorker & { table: string }) =>
      doomed.set(f.database, [...(doomed.get(f.database) ?? []), f]);
    const journaled = new Set(meta.journal().map((e) => e.db));
    for (const worker of workers) {
      try {
        const list = await this.o.clients(worker).list("", { timeoutMs: 60_000 });
        for (const d of list.databases) {
          // A publish the journal holds open (its workers down at replay) may have files placed nowhere yet.
          if (journaled.has(d.name)) continue;
          const known = meta.database(d.name) !== null;
          const rows = known ? meta.chunkContents(d.name) : new Map();
          const unknownTable = (t: string) => known && meta.table(d.name, t) === null;
          // The replicated file: whole for a database metadata does not know, else its unknown tables.
          const replicated = d.tables.filter((t) => !t.partitioned).map((t) => t.name);
          for (const table of known ? replicated.filter(unknownTable) : replicated.slice(0, 1).map(() => "")) {
            doom({ worker, database: d.name, chunkId: REPLICATED_CHUNK, table });
          }
          for (const c of d.chunks) {
            if (c.chunkId === REPLICATED_CHUNK) continue;
            if (known && meta.replicas(d.name, c.chunkId).includes(worker)) {
              for (const t of c.tables) {
                if (unknownTable(t.table)) doom({ worker, database: d.name, chunkId: c.chunkId, table: t.table });
              }
              continue;
            }
            // A whole copy of an under-replicated chunk is kept: the repair adopts it.
            const whole = known && this.o.monitor.contents(worker, d.name, c.chunkId) === "complete";
            if (whole && rows.has(c.chunkId) && this.whole(d.name, c.chunkId).length < this.o.replicas) continue;
            doom({ worker, database: d.name, chunkId: c.chunkId, table: "" });
          }
        }
      } catch (e) {
        report.failed.push({ worker, error: e instanceof Error ? e.message : String(e) });
      }
    }
    for (const [db, files] of doomed) {
      // Queries of the database that started before the placements changed end first.
      const unlock = await this.o.locks.exclusive(db);
      try {
        for (const { table, ...f } of files) {
          try {
            await this.o.clients(f.worker).drop({ database: db, chunkId: f.chunkId, table });
            if (table === "") {
              report.unplaced.push(f);
              log?.info(f, "gc: dropped a chunk file metadata does not place on its worker");
            } else {
              report.unknownTables.push({ ...f, table });
              log?.info({ ...f, table }, "gc: dropped a table metadata does not know");
            }
          } catch (e) {
            report.failed.push({ worker: f.worker, error: e instanceof Error ? e.message : String(e) });
          }
        }
      } finally {
        unlock();
      }
    }
  }
}
