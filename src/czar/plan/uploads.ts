/**
 * Uploaded tables (TAP UPLOAD, `TAP_UPLOAD.name`) joined with partitioned tables, distributed per
 * chunk: each chunk's query carries, as a VALUES table, only the uploaded rows that can match a
 * row of that chunk. A position match (`scisql_s2PtInCircle(o.lon, o.lat, t.x, t.y, r) = 1`, or
 * `scisql_angSep(o.lon, o.lat, t.x, t.y) < r`, as ADQL's CONTAINS and DISTANCE become) sends a row
 * to the chunks its circle of radius r meets (the partitioner's overlap, with r); a key match
 * (`t.x = o.objectId`) to the chunks the director index gives its key.
 */

import { QservError } from "../../common/errors.js";
import type { Value } from "../../common/rowCodec.js";
import type { SphericalBox } from "../../sphere/box.js";
import type { Chunker } from "../../sphere/chunker.js";
import { CircleRegion } from "../../sphere/regions.js";
import { quoteIdent } from "../../sqlite/types.js";
import { type Binding, bindingOf } from "../analyze/bindings.js";
import type { JoinShape } from "../analyze/joins.js";
import type { CzarCatalog, Key, TableMeta } from "../catalog.js";
import { literalOf } from "../compose/literals.js";
import type { ColumnRef, Expr, FromItem, Pos, Select } from "../sql/ast.js";
import { printSqliteExpr } from "../sql/sqlitePrinter.js";
import { conjuncts } from "../sql/walk.js";
import { chunkerOf, directorOf } from "./chunks.js";

/** The schema uploaded tables are named in. */
export const UPLOAD_SCHEMA = "TAP_UPLOAD";

/** A table a request uploaded: its columns (MySQL types: BIGINT, DOUBLE, TEXT) and rows. */
export interface UploadTable {
  name: string;
  columns: ReadonlyArray<{ name: string; type: string }>;
  rows: ReadonlyArray<Value[]>;
}

/** The catalog entry an uploaded table is bound as: a small table, like a replicated one. */
export function uploadMeta(u: UploadTable): TableMeta {
  return {
    database: UPLOAD_SCHEMA,
    name: u.name,
    kind: "replicated",
    rows: u.rows.length,
    config: {
      database: UPLOAD_SCHEMA,
      table: u.name,
      isPartitioned: false,
      directorTable: "",
      directorKey: "",
      longitudeKey: "",
      latitudeKey: "",
      schema: u.columns.map((c) => ({ name: c.name, type: c.type })),
    },
  };
}

const unsupported = (what: string, pos: Pos) =>
  new QservError("UNSUPPORTED", `not supported: ${what} (line ${pos.line}, column ${pos.column})`, { ...pos });

/** The uploaded rows each chunk gets, per uploaded binding. */
export type UploadRows = Map<Binding, Map<number, Value[][]>>;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** A constant numeric expression (literals and + - * /), else null. */
function constant(e: Expr): number | null {
  if (e.kind === "integer" || e.kind === "decimal") return Number(e.text);
  if (e.kind === "unary" && (e.op === "-" || e.op === "+")) {
    const v = constant(e.operand);
    return v === null ? null : e.op === "-" ? -v : v;
  }
  if (e.kind !== "binary" || !["+", "-", "*", "/"].includes(e.op)) return null;
  const [l, r] = [constant(e.left), constant(e.right)];
  if (l === null || r === null) return null;
  return e.op === "+" ? l + r : e.op === "-" ? l - r : e.op === "*" ? l * r : r === 0 ? null : l / r;
}

type Match =
  | { kind: "position"; lon: number; lat: number; radius: number; other: Binding }
  | { kind: "key"; column: number; other: Binding };

/** The index of `c` among the upload binding's columns, if `c` denotes one of them. */
function uploadColumn(c: Expr, u: Binding, bindings: readonly Binding[], db: string): number {
  if (c.kind !== "column" || bindingOf(bindings, c, db) !== u) return -1;
  return u.columns.findIndex((x) => same(x, c.name));
}

/** Whether `lon`, `lat` are a director binding's partitioning position. */
function directorPosition(lon: Expr, lat: Expr, bindings: readonly Binding[], db: string): Binding | null {
  if (lon.kind !== "column" || lat.kind !== "column") return null;
  const b = bindingOf(bindings, lon, db);
  if (b === null || b.meta.kind !== "director" || bindingOf(bindings, lat, db) !== b) return null;
  const cfg = b.meta.config;
  return same(lon.name, cfg.longitudeKey) && same(lat.name, cfg.latitudeKey) ? b : null;
}

/** Two points (4 arguments) of which one is `u`'s columns, the other a director's position. */
function pointPair(args: readonly Expr[], u: Binding, bindings: readonly Binding[], db: string) {
  for (const [a, b] of [
    [0, 2],
    [2, 0],
  ] as const) {
    const lon = uploadColumn(args[a]!, u, bindings, db);
    const lat = uploadColumn(args[a + 1]!, u, bindings, db);
    const other = directorPosition(args[b]!, args[b + 1]!, bindings, db);
    if (lon >= 0 && lat >= 0 && other !== null) return { lon, lat, other };
  }
  return null;
}

const isOne = (e: Expr) => constant(e) === 1;

/** A WHERE/ON term that ties `u` to a partitioned binding, else null. */
function matchOf(t: Expr, u: Binding, bindings: readonly Binding[], db: string): Match | null {
  if (t.kind === "binary" && t.op === "=") {
    for (const [a, b] of [
      [t.left, t.right],
      [t.right, t.left],
    ] as const) {
      // scisql_s2PtInCircle(p, q, r) = 1
      if (a.kind === "call" && same(a.name, "scisql_s2PtInCircle") && a.args.length === 5 && isOne(b)) {
        const pair = pointPair(a.args, u, bindings, db);
        const radius = constant(a.args[4]!);
        if (pair !== null && radius !== null) return { kind: "position", ...pair, radius };
      }
      // t.id = o.objectId
      const col = uploadColumn(a, u, bindings, db);
      const other = b.kind === "column" ? bindingOf(bindings, b, db) : null;
      if (
        col >= 0 &&
        other !== null &&
        other.meta.kind !== "replicated" &&
        same(other.meta.config.directorKey, (b as ColumnRef).name)
      )
        return { kind: "key", column: col, other };
    }
  }
  // scisql_angSep(p, q) < r (or <=, or reversed)
  if (t.kind === "binary" && ["<", "<=", ">", ">="].includes(t.op)) {
    const [sep, limit] = t.op[0] === "<" ? [t.left, t.right] : [t.right, t.left];
    if (sep.kind !== "call" || !same(sep.name, "scisql_angSep") || sep.args.length !== 4) return null;
    const pair = pointPair(sep.args, u, bindings, db);
    const radius = constant(limit);
    if (pair !== null && radius !== null) return { kind: "position", ...pair, radius };
  }
  return null;
}

/** The terms every result row satisfies: WHERE's and the ON clauses' (inner joins only). */
function joinTerms(s: Select, where: Expr | null): Expr[] {
  const out = conjuncts(where);
  const walk = (f: FromItem): void => {
    if (f.kind !== "join") return;
    if (f.type !== "INNER" && f.type !== "CROSS")
      throw unsupported(`an outer join in a query joining an uploaded table with a partitioned one`, f.pos);
    walk(f.left);
    walk(f.right);
    out.push(...conjuncts(f.on));
  };
  for (const f of s.from) walk(f);
  return out;
}

/** A number a position column holds, else null. */
const numeric = (v: Value | undefined): number | null =>
  typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : null;

/** A key as the director index holds it: integers exact; a string of digits for a numeric key compares as its number. */
function keyOf(v: Value | undefined, textKey: boolean): Key | null {
  if (v === null || v === undefined || v instanceof Uint8Array) return null;
  if (textKey) return typeof v === "string" ? v : String(v);
  if (typeof v === "string") return /^\s*[+-]?\d+\s*$/.test(v) ? BigInt(v.trim()) : null;
  return typeof v === "number" && Number.isInteger(v) ? BigInt(v) : v;
}

/** Rows placed by position, kept per upload: a query is planned twice (before and under its lock). */
const placed = new WeakMap<UploadTable, { key: string; byChunk: Map<number, Value[][]> }>();

/** Sends each row to the chunks its circle of radius `radius` meets. */
function placeByPosition(
  chunker: Chunker,
  rows: ReadonlyArray<Value[]>,
  lonAt: number,
  latAt: number,
  radius: number,
  add: (chunkId: number, row: Value[]) => void,
): void {
  // Widened by a hair: a row on the circle's edge is never lost to rounding.
  const r = Math.min(180, radius * (1 + 1e-9) + 1e-12);
  const bounds = new Map<number, SphericalBox>();
  for (const row of rows) {
    const [lon, lat] = [numeric(row[lonAt]), numeric(row[latAt])];
    if (lon === null || lat === null || !Number.isFinite(lon) || !(Math.abs(lat) <= 90)) continue;
    const circle = new CircleRegion(((lon % 360) + 360) % 360, lat, r);
    // Most circles lie inside their centre's chunk: no search then.
    const home = chunker.locate(circle.ra, lat).chunkId;
    const b = bounds.get(home) ?? chunker.chunkBounds(home);
    bounds.set(home, b);
    const c = circle.boundingBox();
    const inside =
      !c.fullRa &&
      c.raMin <= c.raMax &&
      c.raMin > b.raMin &&
      c.raMax < b.raMax &&
      c.decMin > b.decMin &&
      c.decMax < b.decMax;
    if (inside) add(home, row);
    else for (const id of chunker.chunksIn(circle)) add(id, row);
  }
}

/** An uploaded table in FROM: its rows as a VALUES subquery, aliased as the query names it. */
export function valuesTable(u: Binding, rows: ReadonlyArray<Value[]>): string {
  const cols = u.columns;
  const alias = quoteIdent(u.name);
  const names = cols.map((c, i) => `column${i + 1} AS ${quoteIdent(c)}`).join(", ");
  if (rows.length === 0)
    return `(SELECT ${cols.map((c) => `NULL AS ${quoteIdent(c)}`).join(", ")} WHERE 0) AS ${alias}`;
  const lit = (v: Value) =>
    typeof v === "number" && !Number.isFinite(v) ? "NULL" : printSqliteExpr(literalOf(v, u.ref.pos));
  const values = rows.map((r) => `(${cols.map((_, i) => lit(r[i] ?? null)).join(", ")})`).join(", ");
  return `(SELECT ${names} FROM (VALUES ${values})) AS ${alias}`;
}

/**
 * The uploaded rows by chunk of a plan's uploaded bindings (none: an empty map). A plan of
 * replicated tables only sends them whole; one that gathers tables or joins near neighbours
 * cannot take them, nor can a chunk join where an uploaded table is tied to no partitioned
 * table by a position or key match.
 */
export function uploadsOf(
  shape: JoinShape,
  s: Select,
  where: Expr | null,
  bindings: readonly Binding[],
  db: string,
  cat: CzarCatalog,
): UploadRows {
  const first = bindings.find((b) => b.upload !== undefined);
  if (first === undefined || shape.kind === "replicated") return new Map();
  if (shape.kind !== "chunk") {
    const what = shape.kind === "gather" ? "a join of tables of different directors" : "a near-neighbour join";
    throw unsupported(`an uploaded table (${first.name}) in ${what}`, first.ref.pos);
  }
  const terms = joinTerms(s, where);
  const out: UploadRows = new Map();
  for (const u of bindings) {
    if (u.upload === undefined) continue;
    const matches = terms.map((t) => matchOf(t, u, bindings, db)).filter((m) => m !== null);
    // A key match places rows exactly; a position match by a circle.
    const m = matches.find((x) => x.kind === "key") ?? matches[0];
    if (m === undefined) {
      throw unsupported(
        `a join of uploaded table ${u.name} with a partitioned table without a position match (CONTAINS(POINT(o.ra, o.decl), CIRCLE(${u.name}.ra, ${u.name}.dec, r)) = 1 or DISTANCE(...) < r) or a director key match (${u.name}.id = o.objectId)`,
        u.ref.pos,
      );
    }
    const byChunk = new Map<number, Value[][]>();
    const add = (id: number, row: Value[]) => {
      const list = byChunk.get(id);
      if (list === undefined) byChunk.set(id, [row]);
      else list.push(row);
    };
    const rows = u.upload.rows;
    if (m.kind === "position") {
      const key = `${m.lon}/${m.lat}/${m.radius}/${db}`;
      const known = placed.get(u.upload);
      if (known?.key === key) {
        out.set(u, known.byChunk);
        continue;
      }
      if (m.radius >= 0) placeByPosition(chunkerOf(cat, db), rows, m.lon, m.lat, m.radius, add);
      placed.set(u.upload, { key, byChunk });
    } else {
      const key = m.other.meta.config.directorKey;
      const type = m.other.meta.config.schema.find((c) => same(c.name, key))?.type ?? "";
      const textKey = /char|text|binary|blob/i.test(type);
      const keyed = rows.flatMap((row) => {
        const k = keyOf(row[m.column], textKey);
        return k === null ? [] : [{ k, row }];
      });
      cat
        .keyChunks(
          db,
          directorOf(m.other),
          keyed.map((x) => x.k),
        )
        .forEach((ids, i) => {
          for (const id of ids) add(id, keyed[i]!.row);
        });
    }
    out.set(u, byChunk);
    let sent = 0;
    for (const list of byChunk.values()) sent += list.length;
    if (sent > MAX_SENT_ROWS) {
      throw new QservError(
        "TOO_LARGE",
        `uploaded table ${u.name}: its ${rows.length} rows would go to the chunks ${sent} times (at most ${MAX_SENT_ROWS}): a smaller match radius or fewer rows`,
      );
    }
  }
  return out;
}

/** Uploaded rows a query may send to its chunks in all (a row counts once per chunk it goes to). */
export const MAX_SENT_ROWS = 1_000_000;
