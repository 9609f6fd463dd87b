/**
 * The native near-neighbour join of one sub-chunk pass: no JavaScript call per candidate pair.
 *
 * Each side is read once into a subquery that adds its unit vector (x, y, z) and a zone key
 * (declination zone of height d, longitude bucket of width α, the widest longitude half-width of
 * a circle of radius d centred in the chunk). The other side is read with nine copies of its key,
 * shifted to the eight neighbouring zones, so that `other.key = home.key` (an equality, which
 * SQLite answers with an automatic index) finds exactly the rows of the 3 × 3 zones around each
 * home row: every pair within d, about three candidates per pair. The separation is then a chord
 * length in plain SQL arithmetic: pairs clearly inside or outside are decided by it, and only the
 * pairs within a hair of d call the exact `scisql_angSep` test, so the answer is the exact test's.
 * The other side's own WHERE terms (its areaspec test) run once per row inside its subquery.
 *
 * Chunks at longitude 0/360, and those whose circles reach a pole, keep the latitude/longitude
 * bands (nearBands in planner.ts).
 */
import { maxAlpha, RAD_PER_DEG } from "../../sphere/angles.js";
import type { SphericalBox } from "../../sphere/box.js";
import { quoteIdent } from "../../sqlite/types.js";
import type { Binding } from "../analyze/bindings.js";
import type { JoinShape } from "../analyze/joins.js";
import type { ColumnRef, Expr } from "../sql/ast.js";
import { printSqliteExpr, type SqlitePrintOptions } from "../sql/sqlitePrinter.js";
import { andAll, binary, column, conjuncts, decimal, numberOf, visit } from "../sql/walk.js";
import { isAggregateCall } from "./split.js";

type NearShape = Extract<JoinShape, { kind: "nearNeighbor" }>;

/** Added columns of the per-pass subqueries (names no catalog column is likely to take). */
const X = "_mq_nn_x";
const Y = "_mq_nn_y";
const Z = "_mq_nn_z";
const KEY = "_mq_nn_key";
/** The other side's own zone key, before its shifts. */
const BASE = "_mq_nn_base";

/** The zones of one chunk: declination zone height and longitude bucket width (degrees), buckets per zone row. */
export interface NearZones {
  height: number;
  width: number;
  perRow: number;
}

/** The chunk's zones, or null where the bands stay (a chunk at ra 0/360, a circle reaching a pole). */
export function nearZones(shape: NearShape, chunk: SphericalBox): NearZones | null {
  const d = shape.distance;
  if (!(d > 0)) return null;
  const alpha = maxAlpha(d, Math.max(Math.abs(chunk.decMin), Math.abs(chunk.decMax)));
  if (alpha >= 90 || chunk.raMin <= 2 * alpha || chunk.raMax >= 360 - 2 * alpha) return null;
  // Widened by a hair: rounding never puts a pair within d two zones apart.
  const widen = (w: number) => w * (1 + 1e-9) + 1e-12;
  const width = widen(alpha);
  return { height: widen(d), width, perRow: Math.ceil(360 / width) + 4 };
}

/** The columns of a side's subquery: its table's, then unit vector and zone key. */
function addedColumns(b: Binding, z: NearZones, t: string): string {
  const k = RAD_PER_DEG.toPrecision(17);
  const lon = `${t}.${quoteIdent(b.meta.config.longitudeKey)}`;
  const lat = `${t}.${quoteIdent(b.meta.config.latitudeKey)}`;
  const zone = `CAST(floor((${lat} + 90) / ${z.height.toPrecision(17)}) AS INTEGER)`;
  const bucket = `CAST(floor(${lon} / ${z.width.toPrecision(17)}) AS INTEGER)`;
  return (
    `${t}.*, cos(${lat} * ${k}) * cos(${lon} * ${k}) AS ${X}, cos(${lat} * ${k}) * sin(${lon} * ${k}) AS ${Y},` +
    ` sin(${lat} * ${k}) AS ${Z}, ${zone} * ${z.perRow} + ${bucket} AS ${KEY}`
  );
}

/**
 * The FROM text of one side: `table` (a sub-chunk table name) read once with its added columns;
 * the other side also shifted to the neighbouring zones and filtered by `ownTerms`. LIMIT -1
 * keeps SQLite from flattening the subquery back into the join.
 */
export function nearSide(
  shape: NearShape,
  b: Binding,
  z: NearZones,
  table: string,
  ownTerms: readonly Expr[],
  print: SqlitePrintOptions,
): string {
  const t = quoteIdent(b.name);
  const cols = addedColumns(b, z, t);
  const where = andAll(ownTerms);
  const filter = where === null ? "" : ` WHERE ${printSqliteExpr(where, print)}`;
  if (b === shape.home) return `(SELECT ${cols} FROM ${quoteIdent(table)} AS ${t}${filter} LIMIT -1) AS ${t}`;
  // Read (vectors, own terms) once per row, then copied to the nine shifted keys.
  const shifts = [-z.perRow, 0, z.perRow].flatMap((row) => [-1, 0, 1].map((s) => `(${row + s})`)).join(", ");
  const once = `(SELECT ${cols.replace(` AS ${KEY}`, ` AS ${BASE}`)} FROM ${quoteIdent(table)} AS ${t}${filter} LIMIT -1)`;
  return (
    `(SELECT ${t}.*, ${t}.${BASE} + _mq_nn_shift.column1 AS ${KEY} FROM ${once} AS ${t},` +
    ` (VALUES ${shifts}) AS _mq_nn_shift LIMIT -1) AS ${t}`
  );
}

/** The bindings a column reference may denote. */
export type BindingsOf = (c: ColumnRef) => Binding[];

/** Whether `term` reads columns of `b` alone (at least one) and holds no subquery or aggregate. */
function ownTerm(term: Expr, b: Binding, bindingsOf: BindingsOf): boolean {
  let cols = 0;
  let ok = true;
  visit(term, (x) => {
    if (x.kind === "subquery" || x.kind === "window" || isAggregateCall(x)) ok = false;
    if (x.kind !== "column") return;
    cols++;
    const bs = bindingsOf(x);
    ok &&= bs.length === 1 && bs[0] === b;
  });
  return ok && cols > 0;
}

/** `scisql_angSep(home.lon, home.lat, other.lon, other.lat) < d` (or `<=`, reversed, sides swapped). */
function isSeparation(t: Expr, shape: NearShape, bindingsOf: BindingsOf): boolean {
  if (t.kind !== "binary" || !["<", "<=", ">", ">="].includes(t.op)) return false;
  const [callSide, limit] = t.op === "<" || t.op === "<=" ? [t.left, t.right] : [t.right, t.left];
  if (callSide.kind !== "call" || callSide.name.toLowerCase() !== "scisql_angsep") return false;
  if (numberOf(limit) !== shape.distance || callSide.args.length !== 4) return false;
  const at = (i: number, b: Binding, key: "longitudeKey" | "latitudeKey") => {
    const a = callSide.args[i]!;
    if (a.kind !== "column" || a.name.toLowerCase() !== b.meta.config[key].toLowerCase()) return false;
    const bs = bindingsOf(a);
    return bs.length === 1 && bs[0] === b;
  };
  const pair = (p: Binding, q: Binding) =>
    at(0, p, "longitudeKey") && at(1, p, "latitudeKey") && at(2, q, "longitudeKey") && at(3, q, "latitudeKey");
  return pair(shape.home, shape.other) || pair(shape.other, shape.home);
}

/**
 * The pass's WHERE: the zone-key equality first, the separation term as a chord-length test with
 * the exact term only in the hair around d, and the other side's own terms left to its subquery
 * (returned as `otherTerms`).
 */
export function nearWhere(
  where: Expr | null,
  shape: NearShape,
  bindingsOf: BindingsOf,
): { where: Expr | null; otherTerms: Expr[] } {
  const { home, other, distance: d } = shape;
  const col = (b: Binding, c: string): ColumnRef => column(b.name, c);
  const diff = (c: string) => binary("-", col(home, c), col(other, c));
  const sq = (c: string) => binary("*", diff(c), diff(c));
  const chord2 = binary("+", binary("+", sq(X), sq(Y)), sq(Z));
  // Chord of d on the unit sphere; the margins exceed the rounding of the vectors (~1e-15).
  const c = 2 * Math.sin((d * RAD_PER_DEG) / 2);
  const inside = (c * (1 - 1e-9) - 1e-14) ** 2;
  const outside = (c * (1 + 1e-9) + 1e-14) ** 2;
  const otherTerms: Expr[] = [];
  const rest: Expr[] = [];
  for (const t of conjuncts(where)) {
    if (ownTerm(t, other, bindingsOf)) otherTerms.push(t);
    else if (isSeparation(t, shape, bindingsOf))
      rest.push(
        binary("OR", binary("<", chord2, decimal(inside)), binary("AND", binary("<=", chord2, decimal(outside)), t)),
      );
    else rest.push(t);
  }
  const keys = binary("=", col(other, KEY), col(home, KEY));
  return { where: andAll([keys, ...rest]), otherTerms };
}
