/** The cluster as `GET /status` shows it: workers, databases and their replicas, repair, queries. */
import { expectedContents } from "./chunkContents.js";
import type { Czar, Session } from "./czar.js";
import type { HealthMonitor } from "./health.js";
import { type Metadata, REPLICATED_CHUNK } from "./metadata.js";
import type { Replicator } from "./replication.js";

export interface StatusSources {
  meta: Metadata;
  monitor: HealthMonitor;
  replicator: Replicator;
  czar: Czar;
  /** Target replicas per chunk. */
  replicas: number;
  /** Who asks: a user limited to their own queries sees only those. */
  caller?: Pick<Session, "user" | "ownQueriesOnly">;
  /** false: as the health monitor last saw the workers, without probing them now. */
  probe?: boolean;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Probes the workers (unless told not to), then describes the cluster. */
export async function clusterStatus(s: StatusSources) {
  const { meta, monitor } = s;
  if (s.probe !== false) await monitor.refresh();
  const health = monitor.all();
  const workers = health.map((w) => ({
    id: w.id,
    address: w.address,
    up: w.up === true,
    lastSeen: iso(w.lastSeen),
    ...(w.lastError === null ? {} : { lastError: w.lastError }),
    chunks: w.chunks,
    bytes: w.bytes,
    queriesRunning: w.status?.queriesRunning ?? 0,
    queriesQueued: w.status?.queriesQueued ?? 0,
  }));
  const liveWorkers = health.filter((w) => w.up === true).length;
  const databases = meta.databases().map((d) => {
    const db = d.database;
    /** chunks by their number of live replicas */
    const histogram: Record<string, number> = {};
    const underReplicated: number[] = [];
    let chunks = 0;
    let replicatedOn: number | null = null;
    for (const [chunkId, expected] of expectedContents(meta, db)) {
      const live = meta.replicas(db, chunkId).filter((id) => monitor.holds(id, db, chunkId, expected) === true).length;
      if (chunkId === REPLICATED_CHUNK) {
        replicatedOn = live;
        continue;
      }
      chunks++;
      histogram[live] = (histogram[live] ?? 0) + 1;
      if (live < s.replicas) underReplicated.push(chunkId);
    }
    return {
      database: db,
      tables: meta.tables(db).map((t) => ({ name: t.name, kind: t.kind, rows: t.rows })),
      // The snapshot queries planned now read (the last recorded publish's sequence number).
      snapshot: meta.snapshotSeq(db),
      chunks,
      replicas: { target: s.replicas, histogram, underReplicated },
      ...(replicatedOn === null ? {} : { replicatedTables: { liveCopies: replicatedOn, liveWorkers } }),
    };
  });
  const queries = s.czar.processes(s.caller as Session | undefined).map((p) => ({
    id: p.id,
    user: p.user,
    query: p.query,
    chunksDone: p.chunksDone,
    chunksTotal: p.chunksTotal,
    elapsedMs: Date.now() - p.startedAt,
  }));
  return { workers, databases, repair: s.replicator.state(), queries };
}
