/**
 * Restrictors: the WHERE terms that limit which chunks a query must visit — spatial regions
 * (`qserv_areaspec_*`, `scisql_s2PtIn*(lon, lat, ...) = 1`) and director-key predicates.
 */

import { QservError } from "../../common/errors.js";
import { type Region, type RegionKind, regionOf } from "../../sphere/regions.js";
import { sqliteType } from "../../sqlite/types.js";
import type { Key } from "../catalog.js";
import type { Call, Expr } from "../sql/ast.js";
import { andAll, binary, call, column, conjuncts, disjuncts, integer, numberOf, visit } from "../sql/walk.js";
import { type Binding, badQuery, bindingOf, unsupported } from "./bindings.js";

/** A region that rows of `binding` must lie in (by the table's partitioning position). */
export interface RegionRestrictor {
  binding: Binding;
  region: Region;
}

/** One director-key condition: a key list or a range. */
export type KeyPredicate =
  | { kind: "keys"; keys: Key[] }
  | {
      kind: "range";
      lo: bigint | number | null;
      loInclusive: boolean;
      hi: bigint | number | null;
      hiInclusive: boolean;
    };

/** A WHERE term on `binding`'s director key: rows satisfy one of the alternatives. */
export interface KeyRestrictor {
  binding: Binding;
  alternatives: KeyPredicate[];
  /** The WHERE term itself. */
  term: Expr;
}

export interface Restrictors {
  /** WHERE with each qserv_areaspec_* replaced by the equivalent scisql filter. */
  where: Expr | null;
  regions: RegionRestrictor[];
  keys: KeyRestrictor[];
}

const AREASPEC: Record<string, RegionKind> = {
  qserv_areaspec_box: "box",
  qserv_areaspec_circle: "circle",
  qserv_areaspec_ellipse: "ellipse",
  qserv_areaspec_poly: "polygon",
};

const SCISQL_OF: Record<RegionKind, string> = {
  box: "scisql_s2PtInBox",
  circle: "scisql_s2PtInCircle",
  ellipse: "scisql_s2PtInEllipse",
  polygon: "scisql_s2PtInCPoly",
};

const S2PT: Record<string, RegionKind> = Object.fromEntries(
  Object.entries(SCISQL_OF).map(([k, v]) => [v.toLowerCase(), k as RegionKind]),
);

const isOne = (e: Expr): boolean => e.kind === "integer" && e.text === "1";

/** `f(...)`, `f(...) = 1` or `1 = f(...)`: the call, else null. */
function truthCall(e: Expr): Call | null {
  if (e.kind === "call") return e;
  if (e.kind === "binary" && e.op === "=") {
    if (e.left.kind === "call" && isOne(e.right)) return e.left;
    if (e.right.kind === "call" && isOne(e.left)) return e.right;
  }
  return null;
}

/** A literal usable as a director key: integers exact (bigint), strings as is. */
function keyOf(e: Expr): Key | null {
  if (e.kind === "integer") return BigInt(e.text);
  if (e.kind === "unary" && e.op === "-" && e.operand.kind === "integer") return -BigInt(e.operand.text);
  if (e.kind === "string") return e.value;
  if (e.kind === "decimal") return Number(e.text);
  return null;
}

function areaspecRegion(c: Call, kind: RegionKind): Region {
  const params = c.args.map((a) => {
    const v = numberOf(a);
    if (v === null) throw badQuery(`${c.name}: parameters must be numeric literals`, a.pos);
    return v;
  });
  try {
    return regionOf(kind, params);
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    throw new QservError("BAD_REGION", `${c.name} (line ${c.pos.line}, column ${c.pos.column}): ${m}`, {
      line: c.pos.line,
      column: c.pos.column,
    });
  }
}

/**
 * The bindings a qserv_areaspec_* restricts: as in Qserv, every partitioned table of FROM that
 * has a position (a near-neighbour query restricts both sides).
 */
function areaspecTargets(bindings: readonly Binding[], c: Call): Binding[] {
  const out = bindings.filter(
    (x) => x.meta.kind !== "replicated" && x.meta.config.longitudeKey !== "" && x.meta.config.latitudeKey !== "",
  );
  if (out.length === 0) throw badQuery(`${c.name} needs a partitioned table with a position in FROM`, c.pos);
  return out;
}

/** A scisql_s2PtIn* term on a binding's own partitioning position, as a region restrictor. */
function s2ptRestrictor(c: Call, bindings: readonly Binding[], db: string): RegionRestrictor | null {
  const kind = S2PT[c.name.toLowerCase()];
  if (kind === undefined || c.args.length < 2) return null;
  const [lon, lat] = c.args as [Expr, Expr];
  if (lon.kind !== "column" || lat.kind !== "column") return null;
  const b = bindingOf(bindings, lon, db);
  if (b === null || b !== bindingOf(bindings, lat, db) || b.meta.kind === "replicated") return null;
  const cfg = b.meta.config;
  const same = (a: string, x: string) => a.toLowerCase() === x.toLowerCase();
  if (!same(lon.name, cfg.longitudeKey) || !same(lat.name, cfg.latitudeKey)) return null;
  const params = c.args.slice(2).map(numberOf);
  if (params.some((p) => p === null)) return null;
  try {
    return { binding: b, region: regionOf(kind, params as number[]) };
  } catch {
    return null; // the worker reports a bad region with its own message
  }
}

/** The director-key column of a partitioned binding. */
function isKeyColumn(e: Expr, bindings: readonly Binding[], db: string): Binding | null {
  if (e.kind !== "column") return null;
  const b = bindingOf(bindings, e, db);
  if (b === null || b.meta.kind === "replicated") return null;
  return b.meta.config.directorKey.toLowerCase() === e.name.toLowerCase() ? b : null;
}

/**
 * Whether `k` names director keys of `b` as they are indexed: a string against a numeric key
 * does not (MySQL compares them as numbers, '0x10' or '1e3' included): no restriction then.
 */
function usableKey(b: Binding, k: Key): boolean {
  if (typeof k !== "string") return true;
  const key = b.meta.config.directorKey.toLowerCase();
  const t = b.meta.config.schema.find((c) => c.name.toLowerCase() === key)?.type;
  return t !== undefined && sqliteType(t) === "TEXT";
}

const FLIP: Record<string, string> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=" };

/** A single key predicate term, else null. */
function keyPredicate(e: Expr, bindings: readonly Binding[], db: string): { b: Binding; p: KeyPredicate } | null {
  if (e.kind === "in" && !e.not) {
    const b = isKeyColumn(e.expr, bindings, db);
    const keys = e.list.map(keyOf);
    if (b === null || keys.some((k) => k === null || !usableKey(b, k))) return null;
    return { b, p: { kind: "keys", keys: keys as Key[] } };
  }
  if (e.kind === "between" && !e.not) {
    const b = isKeyColumn(e.expr, bindings, db);
    const lo = keyOf(e.low);
    const hi = keyOf(e.high);
    if (b === null || lo === null || hi === null || typeof lo === "string" || typeof hi === "string") return null;
    return { b, p: { kind: "range", lo, loInclusive: true, hi, hiInclusive: true } };
  }
  if (e.kind === "binary" && FLIP[e.op] !== undefined) {
    let op = e.op as string;
    let b = isKeyColumn(e.left, bindings, db);
    let lit = e.right;
    if (b === null) {
      b = isKeyColumn(e.right, bindings, db);
      lit = e.left;
      op = FLIP[op]!;
    }
    const k = b === null ? null : keyOf(lit);
    if (b === null || k === null) return null;
    if (op === "=") return usableKey(b, k) ? { b, p: { kind: "keys", keys: [k] } } : null;
    if (typeof k === "string") return null;
    if (op === "<" || op === "<=")
      return { b, p: { kind: "range", lo: null, loInclusive: false, hi: k, hiInclusive: op === "<=" } };
    return { b, p: { kind: "range", lo: k, loInclusive: op === ">=", hi: null, hiInclusive: false } };
  }
  return null;
}

/** A term that is one key predicate or an OR of key predicates on the same binding. */
function keyRestrictor(e: Expr, bindings: readonly Binding[], db: string): KeyRestrictor | null {
  const parts = disjuncts(e).map((d) => keyPredicate(d, bindings, db));
  const first = parts[0];
  if (first === null || first === undefined || parts.some((p) => p === null || p.b !== first.b)) return null;
  return { binding: first.b, alternatives: parts.map((p) => p!.p), term: e };
}

/** Finds the restrictors of a WHERE clause and replaces qserv_areaspec_* by scisql filters. */
export function extractRestrictors(where: Expr | null, bindings: readonly Binding[], db: string): Restrictors {
  const terms: Expr[] = [];
  const regions: RegionRestrictor[] = [];
  const keys: KeyRestrictor[] = [];
  let areaspecs = 0;
  for (const term of conjuncts(where)) {
    const c = truthCall(term);
    const kind = c === null ? undefined : AREASPEC[c.name.toLowerCase()];
    if (c !== null && kind !== undefined) {
      if (++areaspecs > 1) throw unsupported("more than one qserv_areaspec_* restrictor", c.pos);
      const region = areaspecRegion(c, kind);
      for (const b of areaspecTargets(bindings, c)) {
        regions.push({ binding: b, region });
        const cfg = b.meta.config;
        const args = [column(b.name, cfg.longitudeKey), column(b.name, cfg.latitudeKey), ...c.args];
        terms.push(binary("=", call(SCISQL_OF[kind], args, c.pos), integer(1)));
      }
      continue;
    }
    visit(term, (x) => {
      if (x.kind === "call" && AREASPEC[x.name.toLowerCase()] !== undefined) {
        throw unsupported(`${x.name} anywhere but as a top-level AND term of WHERE`, x.pos);
      }
    });
    if (c !== null) {
      const r = s2ptRestrictor(c, bindings, db);
      if (r !== null) regions.push(r);
    }
    const k = keyRestrictor(term, bindings, db);
    if (k !== null) keys.push(k);
    terms.push(term);
  }
  return { where: andAll(terms), regions, keys };
}
