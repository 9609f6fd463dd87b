/** The chunks a query must visit: the tables' chunks, narrowed by regions and director keys. */
import { Chunker } from "../../sphere/chunker.js";
import type { Binding } from "../analyze/bindings.js";
import type { KeyRestrictor, RegionRestrictor } from "../analyze/restrictors.js";
import type { CzarCatalog } from "../catalog.js";

const chunkers = new Map<string, Chunker>();

/** The database's chunker (cached per partitioning). */
export function chunkerOf(cat: CzarCatalog, db: string): Chunker {
  const cfg = cat.database(db);
  if (cfg === null) throw new Error(`unknown database ${db}`);
  const key = `${cfg.numStripes}/${cfg.numSubStripes}/${cfg.overlap}`;
  let c = chunkers.get(key);
  if (c === undefined) {
    c = new Chunker({ numStripes: cfg.numStripes, numSubStripesPerStripe: cfg.numSubStripes, overlap: cfg.overlap });
    chunkers.set(key, c);
  }
  return c;
}

/** The director table whose index holds a partitioned binding's keys. */
export function directorOf(b: Binding): string {
  return b.meta.kind === "director" ? b.meta.name : b.meta.config.directorTable;
}

function keyChunks(cat: CzarCatalog, db: string, k: KeyRestrictor): Set<number> {
  const out = new Set<number>();
  const dir = directorOf(k.binding);
  for (const p of k.alternatives) {
    const ids =
      p.kind === "keys"
        ? cat.lookupKeys(db, dir, p.keys)
        : cat.lookupRange(db, dir, p.lo, p.loInclusive, p.hi, p.hiInclusive);
    for (const id of ids) out.add(id);
  }
  return out;
}

/**
 * The chunk ids (ascending) to visit: chunks holding any of `tables`, intersected with the chunks
 * of every region and key restrictor on one of `restricted` (the bindings whose rows decide
 * which chunk a result row comes from).
 */
export function chunkSet(
  cat: CzarCatalog,
  db: string,
  tables: readonly Binding[],
  restricted: readonly Binding[],
  regions: readonly RegionRestrictor[],
  keys: readonly KeyRestrictor[],
): number[] {
  const lists = tables.map((b) => cat.tableChunks(db, b.meta.name));
  // Narrowed from what the restrictors allow (a few chunks for a key or a small region) rather
  // than by testing every chunk the tables hold.
  let ids: number[] | null = null;
  const chunker = chunkerOf(cat, db);
  for (const r of regions) {
    if (!restricted.includes(r.binding)) continue;
    const inRegion = chunker.chunksIn(r.region);
    ids = ids === null ? inRegion : ids.filter((id) => inRegion.includes(id));
  }
  for (const k of keys) {
    if (!restricted.includes(k.binding)) continue;
    const allowed = keyChunks(cat, db, k);
    ids = ids === null ? [...allowed] : ids.filter((id) => allowed.has(id));
  }
  if (ids === null) {
    const held = new Set<number>();
    for (const l of lists) for (const id of l) held.add(id);
    return [...held].sort((a, b) => a - b);
  }
  return ids.filter((id) => lists.some((l) => holds(l, id))).sort((a, b) => a - b);
}

/** Whether the ascending list holds `id` (binary search). */
function holds(ascending: readonly number[], id: number): boolean {
  let lo = 0;
  let hi = ascending.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = ascending[mid] as number;
    if (v === id) return true;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
