/**
 * Replaying the publish journal (publishJournal.ts) when no ingest is under way: at czar start,
 * before it answers, and at the start of each repair and gc pass. Each publish a dead czar left
 * ends entirely in or entirely out:
 * - recorded in metadata already: only the entry is closed;
 * - committed, or prepared and every worker it staged on shows its stage published (the point of
 *   no return was passed): finished — the live workers that keep it are told to publish again
 *   (a no-op where done), metadata records the load with its sequence number, the entry closes;
 * - prepared and some live worker shows a chunk not published: taken back on the live workers
 *   (unpublish, stage dropped); one that is down is reconciled when back (reconcile.ts), as its
 *   publish is then one metadata never recorded;
 * - prepared, every live worker published, some down: undecided, the entry stays (its rows are
 *   above every query's snapshot, and left out of the listings, so queries see the table as it
 *   was) until a later pass finds them up.
 * Every step may be repeated: a czar killed during the replay replays again.
 */
import { rmSync } from "node:fs";
import type { Logger } from "pino";
import { haltPoint } from "../common/haltPoint.js";
import type { WorkerClient } from "../worker/client.js";
import type { Metadata } from "./metadata.js";
import {
  chunksByWorker,
  type JournalEntry,
  journalEntries,
  placementOf,
  recordPublished,
  targetsOf,
} from "./publishJournal.js";

export interface ReplayOptions {
  meta: Metadata;
  /** The workers up now. */
  live: readonly string[];
  clients: (id: string) => Pick<WorkerClient, "list" | "publish" | "unpublish" | "dropStage">;
  /** Per worker call. */
  timeoutMs?: number;
  /** Called while an entry stays open (on) and once it is closed: its rows are not counted in listings. */
  onPending?: (db: string, table: string, stage: string, on: boolean) => void;
  log?: Logger;
}

export interface ReplayReport {
  /** Loads finished (recorded in metadata). */
  forward: string[];
  /** Loads taken back. */
  back: string[];
  /** Loads left open, with the workers they wait for. */
  pending: Array<{ loadId: string; waitingFor: string[] }>;
}

type Verdict = { kind: "forward" } | { kind: "back"; why: string } | { kind: "pending"; down: string[] };

/** Must run while no ingest is under way. */
export async function replayJournal(o: ReplayOptions): Promise<ReplayReport> {
  const report: ReplayReport = { forward: [], back: [], pending: [] };
  for (const e of journalEntries(o.meta)) {
    const r = e.record;
    const db = r.database.database;
    const v = await verdict(o, e);
    if (v.kind === "pending") {
      report.pending.push({ loadId: r.loadId, waitingFor: v.down });
      o.onPending?.(db, r.table.table, r.stage, true);
      o.log?.warn({ loadId: r.loadId, waitingFor: v.down }, "replay: publish undecided until its workers are back");
      continue;
    }
    const forwarded = v.kind === "forward" && (await forward(o, e));
    if (!forwarded) await back(o, e, v.kind === "back" ? v.why : "a chunk of it is placed on other workers now");
    o.meta.closeJournal(r.loadId);
    o.onPending?.(db, r.table.table, r.stage, false);
    rmSync(r.scratch, { recursive: true, force: true });
    (forwarded ? report.forward : report.back).push(r.loadId);
  }
  return report;
}

/** Where the publish stands, from the journal and the live workers' listings. */
async function verdict(o: ReplayOptions, e: JournalEntry): Promise<Verdict> {
  const r = e.record;
  const db = r.database.database;
  if (e.step === "committed" || o.meta.loadRows(db, r.table.table, r.loadId) !== null) return { kind: "forward" };
  const down: string[] = [];
  for (const [id, chunkIds] of chunksByWorker(targetsOf(r))) {
    if (!o.live.includes(id)) {
      down.push(id);
      continue;
    }
    let list: Awaited<ReturnType<WorkerClient["list"]>>;
    try {
      list = await o.clients(id).list(db, { timeoutMs: o.timeoutMs ?? 60_000 });
    } catch {
      down.push(id);
      continue;
    }
    const d = list.databases.find((x) => x.name === db);
    const published = new Set(
      (d?.published ?? []).filter((s) => s.table === r.table.table && s.stage === r.stage).map((s) => s.chunkId),
    );
    const missing = chunkIds.filter((c) => !published.has(c));
    if (missing.length > 0) return { kind: "back", why: `worker ${id} had not published chunks ${missing.join(", ")}` };
  }
  return down.length > 0 ? { kind: "pending", down } : { kind: "forward" };
}

/**
 * Finishes the publish: the live workers that keep it publish again (no-op where done); metadata
 * records it. False (nothing done) when a chunk would be left with no worker: metadata placed it
 * elsewhere meanwhile (no other publish of the database runs while an entry is open, so never).
 */
async function forward(o: ReplayOptions, e: JournalEntry): Promise<boolean> {
  const r = e.record;
  const db = r.database.database;
  let placement: Map<number, string[]>;
  if (r.placement !== undefined) placement = new Map(r.placement);
  else {
    const p = placementOf(o.meta, db, targetsOf(r), new Set());
    if (p.bare !== null) return false;
    placement = p.placement;
  }
  for (const [id, chunkIds] of chunksByWorker(placement)) {
    if (!o.live.includes(id)) continue; // it published before the commit point
    try {
      const req = { database: db, table: r.table.table, stage: r.stage, chunkIds, seq: r.seq };
      await o.clients(id).publish(req, { timeoutMs: o.timeoutMs ?? 60_000 });
    } catch (err) {
      o.log?.warn({ loadId: r.loadId, worker: id, err: String(err) }, "replay: publish again failed");
    }
  }
  await haltPoint("replay:forward", o.log);
  recordPublished(o.meta, r, placement);
  o.log?.warn({ loadId: r.loadId, rows: r.rows, seq: r.seq }, "replay: finished a publish a czar that died left");
  return true;
}

/** Takes the publish back on the live workers it was staged on; the down ones are reconciled when back. */
async function back(o: ReplayOptions, e: JournalEntry, why: string): Promise<void> {
  const r = e.record;
  const db = r.database.database;
  let done = 0;
  for (const [id, chunkIds] of chunksByWorker(targetsOf(r))) {
    if (!o.live.includes(id)) continue;
    const c = o.clients(id);
    const req = { database: db, table: r.table.table, stage: r.stage };
    try {
      await c.unpublish({ ...req, chunkIds }, { timeoutMs: o.timeoutMs ?? 60_000 });
      await c.dropStage(req, { timeoutMs: o.timeoutMs ?? 60_000 });
    } catch (err) {
      o.log?.warn({ loadId: r.loadId, worker: id, err: String(err) }, "replay: take back failed (reconciled later)");
    }
    if (++done === 1) await haltPoint("replay:back", o.log);
  }
  o.log?.warn({ loadId: r.loadId, why }, "replay: took back a publish a czar that died left");
}
