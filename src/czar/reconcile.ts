/**
 * Making the workers agree with metadata when no ingest is under way (at czar start, before it
 * answers, and at the start of each repair pass): a czar that died while publishing a load left
 * it published on some workers and staged on others, and never recorded it. Such a publish is
 * rolled back on every worker that published it (metadata is the commit record: a load it does
 * not hold never happened, and the client was never told it did), and stages no ingest is loading
 * any more are dropped. A worker down meanwhile is reconciled when a later pass finds it up;
 * until then its listing shows rows metadata does not count, so queries pass it over.
 */
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { WorkerClient } from "../worker/client.js";
import type { ListResponse } from "../worker/messages.js";
import { loadIdOfStage } from "./loadIds.js";
import type { Metadata } from "./metadata.js";
import { journalEntries } from "./publishJournal.js";

export interface ReconcileAction {
  worker: string;
  database: string;
  table: string;
  stage: string;
  chunks: number;
}

export interface ReconcileReport {
  /** Publishes of loads metadata never recorded, taken back. */
  unpublished: ReconcileAction[];
  /** Stages of ingests that are no longer running, dropped. */
  stagesDropped: ReconcileAction[];
  /** Workers that could not be listed or reconciled, with why (reconciled by a later pass). */
  failed: Array<{ worker: string; error: string }>;
}

export interface ReconcileOptions {
  meta: Metadata;
  /** The workers to reconcile (those up). */
  workers: readonly string[];
  clients: (id: string) => Pick<WorkerClient, "list" | "unpublish" | "dropStage">;
  log?: Logger;
  /** Per worker call. */
  timeoutMs?: number;
}

/** Groups a listing's stages by database, table and stage: the chunks of each. */
function byStage(list: ListResponse, kind: "staged" | "published"): Map<string, ReconcileAction> {
  const out = new Map<string, ReconcileAction>();
  for (const d of list.databases) {
    for (const s of d[kind] ?? []) {
      const k = `${d.name}\u0000${s.table}\u0000${s.stage}`;
      const a = out.get(k) ?? { worker: "", database: d.name, table: s.table, stage: s.stage, chunks: 0 };
      a.chunks++;
      out.set(k, a);
    }
  }
  return out;
}

/** Must run while no ingest is under way: every stage found is a dead ingest's. */
export async function reconcile(o: ReconcileOptions): Promise<ReconcileReport> {
  const report: ReconcileReport = { unpublished: [], stagesDropped: [], failed: [] };
  const timeoutMs = o.timeoutMs ?? 60_000;
  // The stages of publishes the journal holds open are the replay's (replay.ts), not ours.
  const journaled = new Set(
    journalEntries(o.meta).map(
      (e) => `${e.record.database.database}\u0000${e.record.table.table}\u0000${e.record.stage}`,
    ),
  );
  const mine = (a: ReconcileAction) => !journaled.has(`${a.database}\u0000${a.table}\u0000${a.stage}`);
  await Promise.all(
    o.workers.map(async (worker) => {
      const client = o.clients(worker);
      try {
        const list = await client.list("", { timeoutMs });
        // Every file holding the stage, published or not: a publish the dead czar started may still
        // be running on the worker (Unpublish waits for it to end, then DropStage drops the rest).
        const chunksOf = (db: string, table: string, stage: string) => {
          const d = list.databases.find((x) => x.name === db);
          const all = [...(d?.published ?? []), ...(d?.staged ?? [])];
          return [...new Set(all.filter((s) => s.table === table && s.stage === stage).map((s) => s.chunkId))];
        };
        for (const a of new Map([...byStage(list, "staged"), ...byStage(list, "published")]).values()) {
          if (!mine(a)) continue;
          if (o.meta.loadRows(a.database, a.table, loadIdOfStage(a.database, a.table, a.stage)) !== null) continue;
          const chunkIds = chunksOf(a.database, a.table, a.stage);
          const r = await client.unpublish(
            { database: a.database, table: a.table, stage: a.stage, chunkIds },
            { timeoutMs },
          );
          if (r.applied === 0) continue;
          const done = { ...a, worker, chunks: r.applied };
          report.unpublished.push(done);
          o.log?.warn(done, "reconcile: took back a publish metadata never recorded");
        }
        for (const a of byStage(list, "staged").values()) {
          if (!mine(a)) continue;
          await client.dropStage({ database: a.database, table: a.table, stage: a.stage }, { timeoutMs });
          const done = { ...a, worker };
          report.stagesDropped.push(done);
          o.log?.info(done, "reconcile: dropped the stage of an ingest no longer running");
        }
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        report.failed.push({ worker, error });
        o.log?.warn({ worker, err: error }, "reconcile: worker not reconciled");
      }
    }),
  );
  return report;
}

/** True when the report changed what a worker holds. */
export function reconciled(r: ReconcileReport): boolean {
  return r.unpublished.length + r.stagesDropped.length > 0;
}

/**
 * Removes the scratch directories of ingests (`ingest-*`) under `scratchDir` but those in `keep`
 * (publishes the journal holds open): call when none is running.
 */
export function removeIngestScratch(scratchDir: string, log?: Logger, keep: ReadonlySet<string> = new Set()): string[] {
  let names: string[];
  try {
    names = readdirSync(scratchDir).filter((n) => n.startsWith("ingest-") && !keep.has(join(scratchDir, n)));
  } catch {
    return [];
  }
  for (const n of names) {
    rmSync(join(scratchDir, n), { recursive: true, force: true });
    log?.info({ dir: join(scratchDir, n) }, "removed the scratch directory of an ingest no longer running");
  }
  return names;
}
