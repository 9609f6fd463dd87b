/**
 * Join shape: whether the partitioned tables of a query can be joined chunk by chunk. They can
 * when equalities on director keys tie them together (a director and its children live in the
 * same chunk), or for a near-neighbour self-join of a director table with `scisql_angSep(...) < r`
 * and r no larger than the overlap (then sub-chunk ⋈ sub-chunk ∪ overlap).
 */
import type { CzarCatalog } from "../catalog.js";
import type { ColumnRef, Expr, FromItem, Select } from "../sql/ast.js";
import { conjuncts, numberOf } from "../sql/walk.js";
import { type Binding, bindingOf, unsupported } from "./bindings.js";
import type { Restrictors } from "./restrictors.js";

export type JoinShape =
  | { kind: "replicated" }
  | { kind: "chunk" }
  /** `home` rows come from a sub-chunk, `other` rows from the same sub-chunk and its overlap. */
  | { kind: "nearNeighbor"; home: Binding; other: Binding; distance: number }
  /**
   * Partitioned tables of different directors (e.g. through a match table) that no chunk holds
   * together: each table's rows (filtered) are gathered on the czar, which runs the query.
   */
  | { kind: "gather" };

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The director table a partitioned binding follows (itself for a director). */
function family(b: Binding): string {
  return b.meta.kind === "director" ? b.meta.name : b.meta.config.directorTable;
}

function isKey(b: Binding, col: string): boolean {
  return b.meta.kind !== "replicated" && same(b.meta.config.directorKey, col);
}

/** Pairs of bindings equated on their director keys, from WHERE, ON and USING. */
function keyEqualities(
  s: Select,
  where: Expr | null,
  bindings: readonly Binding[],
  db: string,
): Array<[Binding, Binding]> {
  const out: Array<[Binding, Binding]> = [];
  const fromEq = (e: Expr): void => {
    for (const t of conjuncts(e)) {
      if (t.kind !== "binary" || (t.op !== "=" && t.op !== "<=>")) continue;
      if (t.left.kind !== "column" || t.right.kind !== "column") continue;
      const l = bindingOf(bindings, t.left, db);
      const r = bindingOf(bindings, t.right, db);
      if (l && r && l !== r && isKey(l, t.left.name) && isKey(r, t.right.name)) out.push([l, r]);
    }
  };
  if (where !== null) fromEq(where);
  const byRef = new Map(bindings.map((b) => [b.ref, b] as const));
  const tablesOf = (f: FromItem): Binding[] =>
    f.kind === "table" ? [byRef.get(f)!] : f.kind === "join" ? [...tablesOf(f.left), ...tablesOf(f.right)] : [];
  const walk = (f: FromItem): void => {
    if (f.kind !== "join") return;
    walk(f.left);
    walk(f.right);
    if (f.on !== null) fromEq(f.on);
    for (const col of f.using ?? []) {
      const l = tablesOf(f.left).filter((b) => isKey(b, col));
      const r = tablesOf(f.right).filter((b) => isKey(b, col));
      for (const a of l) for (const b of r) out.push([a, b]);
    }
  };
  for (const f of s.from) walk(f);
  return out;
}

/** `scisql_angSep(a.lon, a.lat, b.lon, b.lat) < r` (or `<=`, or reversed) between two bindings: r. */
function angSepLimit(
  where: Expr | null,
  a: Binding,
  b: Binding,
  bindings: readonly Binding[],
  db: string,
): number | null {
  let best: number | null = null;
  for (const t of conjuncts(where)) {
    if (t.kind !== "binary") continue;
    let callSide: Expr;
    let limit: Expr;
    if (t.op === "<" || t.op === "<=") [callSide, limit] = [t.left, t.right];
    else if (t.op === ">" || t.op === ">=") [callSide, limit] = [t.right, t.left];
    else continue;
    const r = numberOf(limit);
    if (r === null || callSide.kind !== "call" || !same(callSide.name, "scisql_angSep") || callSide.args.length !== 4) {
      continue;
    }
    const cols = callSide.args.filter((x): x is ColumnRef => x.kind === "column");
    if (cols.length !== 4) continue;
    const [b1, b2] = [bindingOf(bindings, cols[0]!, db), bindingOf(bindings, cols[2]!, db)];
    const onPos = (x: Binding | null, lon: ColumnRef, lat: ColumnRef) =>
      x !== null &&
      bindingOf(bindings, lat, db) === x &&
      same(lon.name, x.meta.config.longitudeKey) &&
      same(lat.name, x.meta.config.latitudeKey);
    if (!onPos(b1, cols[0]!, cols[1]!) || !onPos(b2, cols[2]!, cols[3]!)) continue;
    if (!((b1 === a && b2 === b) || (b1 === b && b2 === a))) continue;
    best = best === null ? r : Math.min(best, r);
  }
  return best;
}

/** The near-neighbour shape: home is the side restricted by a region or key (else the first). */
function nearNeighbor(a: Binding, b: Binding, r: Restrictors, distance: number): JoinShape {
  const restricted = (x: Binding) => r.keys.some((k) => k.binding === x) || r.regions.some((g) => g.binding === x);
  const home = restricted(b) && !restricted(a) ? b : a;
  return { kind: "nearNeighbor", home, other: home === a ? b : a, distance };
}

export function joinShape(
  s: Select,
  r: Restrictors,
  bindings: readonly Binding[],
  db: string,
  cat: CzarCatalog,
): JoinShape {
  const parts = bindings.filter((b) => b.meta.kind !== "replicated");
  if (parts.length === 0) return { kind: "replicated" };
  // Union-find over partitioned bindings joined on director keys.
  const parent = new Map(parts.map((b) => [b, b] as const));
  const root = (b: Binding): Binding => {
    let x = b;
    while (parent.get(x) !== x) x = parent.get(x)!;
    return x;
  };
  for (const [a, b] of keyEqualities(s, r.where, bindings, db)) {
    if (family(a) === family(b)) parent.set(root(a), root(b));
  }
  const groups = new Set(parts.map(root));
  if (groups.size === 1) return { kind: "chunk" };
  const [a, b] = parts as [Binding, Binding];
  const directors = parts.length === 2 && a.meta.kind === "director" && b.meta.kind === "director";
  // Two director tables of one database share its partitioning: a cross-match within the overlap
  // pairs them per sub-chunk like a self-join; other joins of them are gathered.
  const crossMatch = directors && a.meta.name !== b.meta.name ? angSepLimit(r.where, a, b, bindings, db) : null;
  if (crossMatch !== null && crossMatch <= (cat.database(db)?.overlap ?? 0)) {
    return nearNeighbor(a, b, r, crossMatch);
  }
  if (directors && a.meta.name === b.meta.name) {
    const distance = angSepLimit(r.where, a, b, bindings, db);
    const overlap = cat.database(db)?.overlap ?? 0;
    if (distance === null) {
      throw unsupported(
        `a self-join of ${a.meta.name} without scisql_angSep(${a.name}.${a.meta.config.longitudeKey}, ..., ${b.name}.${b.meta.config.latitudeKey}) < r or a ${a.meta.config.directorKey} equality`,
        b.ref.pos,
      );
    }
    if (distance > overlap) {
      throw unsupported(
        `a near-neighbour distance of ${distance}° (the database's overlap is ${overlap}°, the largest distance a chunk-local join can see)`,
        b.ref.pos,
      );
    }
    return nearNeighbor(a, b, r, distance);
  }
  if (new Set(parts.map((p) => p.meta.name)).size === parts.length) return { kind: "gather" };
  const names = parts.map((p) => p.name).join(", ");
  throw unsupported(
    `a join of partitioned tables (${names}) that is not on their director key (give equalities such as a.${a.meta.config.directorKey} = b.${b.meta.config.directorKey})`,
    s.pos,
  );
}
