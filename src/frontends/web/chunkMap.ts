/**
 * `GET /chunks?database=`: every chunk of a database with its sky box (from the database's
 * stripes and sub-stripes), its rows per table, the workers it is placed on and those whose last
 * listing shows it whole (live replicas), as the health monitor last saw them (no probe).
 */
import { QservError } from "../../common/errors.js";
import { expectedContents } from "../../czar/chunkContents.js";
import type { HealthMonitor } from "../../czar/health.js";
import { type Metadata, REPLICATED_CHUNK } from "../../czar/metadata.js";
import { chunkerOf } from "../../czar/plan/chunks.js";
import type { ChunkCell, ChunkMap } from "./apiTypes.js";

export type { ChunkCell, ChunkMap };

export function chunkMap(meta: Metadata, monitor: HealthMonitor, db: string, target: number): ChunkMap {
  const cfg = meta.database(db);
  if (cfg === null) throw new QservError("NOT_FOUND", `Unknown database '${db}'`);
  const chunker = chunkerOf(meta, db);
  const chunks: ChunkCell[] = [];
  for (const [id, expected] of expectedContents(meta, db)) {
    if (id === REPLICATED_CHUNK) continue;
    const b = chunker.chunkBounds(id);
    const workers = meta.replicas(db, id);
    chunks.push({
      id,
      ra: [b.raMin, b.raMax === 0 ? 360 : b.raMax],
      dec: [b.decMin, b.decMax],
      rows: Object.fromEntries(expected.map((t) => [t.table, t.rows])),
      workers,
      live: workers.filter((w) => monitor.holds(w, db, id, expected) === true),
    });
  }
  chunks.sort((a, b) => a.id - b.id);
  return { database: db, numStripes: cfg.numStripes, numSubStripes: cfg.numSubStripes, target, chunks };
}
