/** SELECT → plan: the jobs (chunk id, sub-chunks, SQLite text) and how their rows are merged. */
import { QservError } from "../../common/errors.js";
import type { CombineSpec } from "../../common/partialCombine.js";
import { maxAlpha } from "../../sphere/angles.js";
import type { SphericalBox } from "../../sphere/box.js";
import type { Chunker } from "../../sphere/chunker.js";
import { quoteIdent, sqliteType } from "../../sqlite/types.js";
import { type Binding, bindTables, candidates, checkColumns, expandStars } from "../analyze/bindings.js";
import { type JoinShape, joinShape } from "../analyze/joins.js";
import { extractRestrictors, type RegionRestrictor, type Restrictors } from "../analyze/restrictors.js";
import type { CzarCatalog } from "../catalog.js";
import { type ColumnRef, type Expr, type FromItem, itemName, type Select, type TableRef } from "../sql/ast.js";
import { declaredType, type MysqlType, mysqlType } from "../sql/resultTypes.js";
import { printSqlite } from "../sql/sqlitePrinter.js";
import { distinctAsGroupBy } from "../sql/valueKinds.js";
import { andAll, between, binary, column, conjuncts, decimal, integer, selectExprs, visit } from "../sql/walk.js";
import { chunkerOf, chunkSet } from "./chunks.js";
import { keyListsByChunk, lookingUpOnce, withChunkKeys } from "./keyLists.js";
import { type NearZones, nearSide, nearWhere, nearZones } from "./nearZones.js";
import { type ChunkQuery, isAggregateCall, isAggregating, resolveAliases, type Split, splitSelect } from "./split.js";
import { type UploadTable, uploadsOf, valuesTable } from "./uploads.js";

/** One unit of work: a query against one chunk (-1: the replicated tables) of a worker. */
export interface Job {
  chunkId: number;
  /** Sub-chunks to run `sql` on (`{SUBCHUNK}` substituted), results concatenated; empty: once. */
  subChunkIds: number[];
  sql: string;
}

export type MergeStep =
  /** The jobs' rows are the answer; skip `offset` rows, stop after `limit`. */
  | { kind: "concat"; limit: number | null; offset: number }
  /**
   * The jobs' rows (columns c0..c<ncols-1>) go into MERGE_TABLE; `sql` computes the answer.
   * With `combine`, partial rows are first combined by group (on the workers and the czar).
   */
  | { kind: "merge"; ncols: number; sql: string; combine?: CombineSpec }
  /** Each table's rows are gathered into a czar table; `sql` runs the whole query over them. */
  | { kind: "gather"; tables: GatherTable[]; sql: string };

/** One FROM table's rows, fetched by `jobs` into the czar table `name` (columns as named). */
export interface GatherTable {
  name: string;
  columns: string[];
  jobs: Job[];
}

export interface Plan {
  database: string;
  /** Result column names, as MySQL names them. */
  columns: string[];
  /** Result column types, as MySQL derives them (null: not derived). */
  types: Array<MysqlType | null>;
  jobs: Job[];
  merge: MergeStep;
  shape: JoinShape["kind"];
}

/** Result column names, as MySQL names them. */
function columnNames(s: Select): string[] {
  return s.items.map((it) => {
    if (it.kind !== "expr") throw new QservError("INTERNAL", "columnNames: * not expanded");
    return itemName(it);
  });
}

function chunkSelect(s: Select, q: ChunkQuery): Select {
  return {
    ...s,
    distinct: q.distinct,
    items: q.items.map((expr, i) => ({ kind: "expr", expr, alias: `c${i}`, text: "", pos: s.pos })),
    groupBy: q.groupBy,
    having: null,
    orderBy: q.orderBy,
    limit: q.limit === null ? null : { count: q.limit, offset: null },
  };
}

/**
 * MySQL scans a table in primary key order: for a director table, its director key (in a join,
 * the first director of FROM, which MySQL's plan reads first when joining on the key).
 */
function scanKey(bindings: readonly Binding[]): ColumnRef | null {
  const first = bindings.find((b) => b.meta.kind === "director" && b.meta.config.directorKey !== "");
  return first === undefined ? null : column(first.name, first.meta.config.directorKey);
}

/** The column MySQL's scan of a SELECT follows (a director key), or null. */
export function scanOrder(s: Select, defaultDb: string | null, cat: CzarCatalog): ColumnRef | null {
  return scanKey(bindTables(s, defaultDb, cat).bindings);
}

/** Whether `c` names a column of a table in the FROM list of `s`. */
export function namesTableColumn(s: Select, c: ColumnRef, defaultDb: string | null, cat: CzarCatalog): boolean {
  const { db, bindings } = bindTables(s, defaultDb, cat);
  return candidates(bindings, c, db).length > 0;
}

/** Plans a SELECT with a FROM clause; `uploads` are the request's TAP_UPLOAD tables. */
export function planSelect(
  stmt: Select,
  defaultDb: string | null,
  cat: CzarCatalog,
  uploads: readonly UploadTable[] = [],
): Plan {
  const { db, bindings } = bindTables(stmt, defaultDb, cat, uploads);
  const expanded: Select = { ...stmt, items: expandStars(stmt, bindings) };
  checkColumns(expanded, bindings, db);
  const isTableColumn = (c: ColumnRef) => candidates(bindings, c, db).length > 0;
  const restr = extractRestrictors(expanded.where, bindings, db);
  const having = expanded.having === null ? null : resolveAliases(expanded.having, expanded, "having", isTableColumn);
  // HAVING in a query that aggregates nothing filters rows as WHERE does (select aliases allowed).
  const rowFilter = having !== null && !isAggregating(expanded);
  const s: Select = {
    ...expanded,
    where: rowFilter ? andAll([...conjuncts(restr.where), having]) : restr.where,
    groupBy: expanded.groupBy.map((g) => resolveAliases(g, expanded, "group", isTableColumn)),
    having: rowFilter ? null : having,
    orderBy: expanded.orderBy.map((o) => ({ ...o, expr: resolveAliases(o.expr, expanded, "order", isTableColumn) })),
  };
  const shape = joinShape(s, restr, bindings, db, cat);
  const columns = columnNames(s);
  const declared = (c: ColumnRef): string | undefined => {
    const b = candidates(bindings, c, db)[0];
    return b?.meta.config.schema.find((x) => x.name.toLowerCase() === c.name.toLowerCase())?.type;
  };
  const isText = (c: ColumnRef): boolean => {
    const t = declared(c);
    return t !== undefined && sqliteType(t) === "TEXT";
  };
  const columnType = (c: ColumnRef): MysqlType | null => {
    const t = declared(c);
    return t === undefined ? null : declaredType(t);
  };
  const types = s.items.map((it) => (it.kind === "expr" ? mysqlType(it.expr, columnType) : null));
  const byRef = new Map<TableRef, Binding>(bindings.map((b) => [b.ref, b]));
  const alias = (t: TableRef) => quoteIdent(t.alias ?? t.name);
  const rowOrder = scanKey(bindings) ?? undefined;

  const uploadRows = uploadsOf(shape, s, restr.where, bindings, db, cat);
  if (shape.kind === "replicated") {
    const table = (t: TableRef) => {
      const b = byRef.get(t)!;
      return b.upload === undefined ? `${quoteIdent(t.name)} AS ${alias(t)}` : valuesTable(b, b.upload.rows);
    };
    const sql = printSqlite(s, { isText, columnType, table });
    return {
      database: db,
      columns,
      types,
      jobs: [{ chunkId: -1, subChunkIds: [], sql }],
      merge: CONCAT_ALL,
      shape: shape.kind,
    };
  }

  if (shape.kind === "gather")
    return { ...planGather(s, db, bindings, restr, cat, columns, isText, columnType), types };

  const partitioned = bindings.filter((b) => b.meta.kind !== "replicated");
  const restricted = shape.kind === "nearNeighbor" ? [shape.home] : partitioned;
  const looked = lookingUpOnce(cat);
  // Only the chunks that some uploaded row of every uploaded table can match.
  const chunks = chunkSet(looked, db, partitioned, restricted, restr.regions, restr.keys).filter((id) =>
    [...uploadRows.values()].every((byChunk) => byChunk.has(id)),
  );
  const chunker = chunkerOf(cat, db);
  // A near-neighbour job pairs the home sub-chunk with the other side's rows from the same
  // sub-chunk (`overlap` false) or from its overlap (true): two jobs per chunk, whose partial
  // results the merge adds up like any other chunks'. Separate jobs, rather than a UNION ALL
  // subquery, let SQLite seek the other side's (subChunkId, latitude, longitude) index.
  const tableText =
    (chunkId: number, overlap = false, zones: NearZones | null = null) =>
    (t: TableRef): string => {
      const b = byRef.get(t)!;
      const name = b.meta.name;
      if (b.upload !== undefined) return valuesTable(b, uploadRows.get(b)?.get(chunkId) ?? []);
      if (b.meta.kind === "replicated") return `${quoteIdent(name)} AS ${alias(t)}`;
      if (shape.kind !== "nearNeighbor") return `${quoteIdent(`${name}_${chunkId}`)} AS ${alias(t)}`;
      const from = `${b !== shape.home && overlap ? `${name}FullOverlap` : name}_${chunkId}_{SUBCHUNK}`;
      if (zones !== null) return nearSide(shape, b, zones, from, b === shape.home ? [] : zoned.otherTerms, printing);
      return `${quoteIdent(from)} AS ${alias(t)}`;
    };
  const subChunks = (chunkId: number): number[] => {
    if (shape.kind !== "nearNeighbor") return [];
    let ids = chunker.subChunksOf(chunkId);
    for (const r of restr.regions) {
      if (r.binding !== shape.home) continue;
      const met = new Set(chunker.subChunksIn(r.region, chunkId));
      ids = ids.filter((sc) => met.has(sc));
    }
    return ids;
  };

  // Region restrictors narrowed to each chunk's sub-chunks and declination band, which the
  // (subChunkId, latitude, longitude) index of a director table answers without a scan.
  // Long director-key IN lists cut to each chunk's keys.
  const keyLists = shape.kind === "chunk" ? keyListsByChunk(looked, db, restr.keys) : new Map();
  const narrowed = (q: Select, chunkId: number): Select => {
    if (shape.kind !== "chunk") return q;
    const keyed = withChunkKeys(q, keyLists, chunkId);
    const extra = spatialTerms(restr.regions, chunker, chunkId, chunks.length <= MAX_NARROWED_CHUNKS);
    return extra.length === 0 ? keyed : { ...keyed, where: andAll([...extra, ...conjuncts(keyed.where)]) };
  };

  // One plain chunk: it runs the whole query.
  if (chunks.length === 1 && shape.kind === "chunk") {
    const id = chunks[0]!;
    const sql = printSqlite(narrowed(s, id), { isText, rowOrder, columnType, table: tableText(id) });
    return {
      database: db,
      columns,
      types,
      jobs: [{ chunkId: id, subChunkIds: [], sql }],
      merge: CONCAT_ALL,
      shape: shape.kind,
    };
  }
  const split = splitSelect(distinctAsGroupBy(s, isText), { isText, rowOrder: rowOrder ?? null, columnType });
  const cs = chunkSelect(s, split.chunk);
  const jobs: Job[] = [];
  // Native zone join and chord test per pass, where the FROM is the two tables alone (nearZones.ts).
  const printing = { isText, columnType };
  const plainFrom = s.from.every((f) => f.kind === "table");
  const zoned =
    shape.kind === "nearNeighbor" && plainFrom
      ? nearWhere(cs.where, shape, (c) => candidates(bindings, c, db))
      : { where: null, otherTerms: [] };
  if (shape.kind === "nearNeighbor") {
    for (const id of chunks) {
      const subChunkIds = subChunks(id);
      if (subChunkIds.length === 0) continue;
      const zones = plainFrom ? nearZones(shape, chunker.chunkBounds(id)) : null;
      if (zones !== null) {
        const near = { ...cs, where: zoned.where };
        for (const overlap of [false, true]) {
          const table = tableText(id, overlap, zones);
          jobs.push({ chunkId: id, subChunkIds, sql: printSqlite(near, { ...printing, rowOrder, table }) });
        }
        continue;
      }
      // The bands first: SQLite tests them before the (JavaScript) angular separation.
      const bands = nearBands(shape, chunker.chunkBounds(id));
      const near = { ...cs, where: andAll([...bands, ...conjuncts(cs.where)]) };
      for (const overlap of [false, true]) {
        jobs.push({
          chunkId: id,
          subChunkIds,
          sql: printSqlite(near, { isText, rowOrder, columnType, table: tableText(id, overlap) }),
        });
      }
    }
  } else {
    for (const id of chunks) {
      jobs.push({
        chunkId: id,
        subChunkIds: [],
        sql: printSqlite(narrowed(cs, id), { isText, rowOrder, columnType, table: tableText(id) }),
      });
    }
  }
  const merge: MergeStep =
    split.kind === "concat"
      ? { kind: "concat", limit: split.limit, offset: split.offset }
      : {
          kind: "merge",
          ncols: split.chunk.items.length,
          sql: mergeSql(split),
          ...(split.combine === null ? {} : { combine: split.combine }),
        };
  return { database: db, columns, types, jobs, merge, shape: shape.kind };
}

/** The merge query: chunk columns c<i> are text as the chunk items are; groups pick their first row. */
function mergeSql(split: Extract<Split, { kind: "merge" }>): string {
  const index = (c: ColumnRef) => (c.table === null ? Number(c.name.slice(1)) : -1);
  const isText = (c: ColumnRef) => split.text[index(c)] === true;
  const columnType = (c: ColumnRef) => split.types[index(c)] ?? null;
  const rowOrder = split.rowOrder === null ? {} : { rowOrder: split.rowOrder };
  return printSqlite(split.merge, { isText, columnType, ...rowOrder });
}

const CONCAT_ALL: MergeStep = { kind: "concat", limit: null, offset: 0 };

/** Above this many chunks a region is large: sub-chunk lists are not worth computing. */
const MAX_NARROWED_CHUNKS = 64;

/**
 * For each region restricting a director table (one with subChunkId and latitude columns): its
 * declination band `lat BETWEEN decMin AND decMax` (of the region's bounding box, widened by a
 * hair), and, when `subChunks`, `subChunkId IN (...)` the sub-chunks of the chunk the region
 * meets (left out when it meets them all). Both only restate the region: no row is lost.
 */
function spatialTerms(
  regions: readonly RegionRestrictor[],
  chunker: Chunker,
  chunkId: number,
  subChunks: boolean,
): Expr[] {
  const out: Expr[] = [];
  for (const { binding: b, region } of regions) {
    if (b.meta.kind !== "director") continue;
    const has = (c: string) => c !== "" && b.columns.some((x) => x.toLowerCase() === c.toLowerCase());
    const lat = b.meta.config.latitudeKey;
    if (!has(lat) || !has("subChunkId")) continue;
    const box = region.boundingBox();
    out.push(between(column(b.name, lat), decimal(box.decMin - 1e-9), decimal(box.decMax + 1e-9)));
    if (!subChunks) continue;
    const all = chunker.subChunksOf(chunkId);
    const met = chunker.subChunksIn(region, chunkId);
    if (met.length < all.length) {
      const list = met.length > 0 ? met : [-1];
      const sub = column(b.name, "subChunkId");
      out.push({ kind: "in", not: false, expr: sub, list: list.map((n) => integer(n)), pos: sub.pos });
    }
  }
  return out;
}

/**
 * Bands implied by angSep(home, other) < d, cheap for SQLite to test: `other.lat BETWEEN
 * home.lat ± d` (a separation is at least the difference in latitude), which the other side's
 * (subChunkId, latitude, longitude) index narrows to, and other.lon within home.lon ± α (or ± α across
 * 0/360), α the widest longitude half-width of a circle of radius d centred in the chunk; no
 * longitude band when such a circle reaches a pole. Widened by a hair against rounding.
 */
function nearBands(shape: Extract<JoinShape, { kind: "nearNeighbor" }>, chunk: SphericalBox): Expr[] {
  const { home, other, distance } = shape;
  const col = (b: Binding, key: "latitudeKey" | "longitudeKey") => column(b.name, b.meta.config[key]);
  const widened = (w: number) => decimal(w * (1 + 1e-9) + 1e-12);
  const within = (e: Expr, centre: Expr, w: number): Expr =>
    between(e, binary("-", centre, widened(w)), binary("+", centre, widened(w)));
  const bands = [within(col(other, "latitudeKey"), col(home, "latitudeKey"), distance)];
  const alpha = maxAlpha(distance, Math.max(Math.abs(chunk.decMin), Math.abs(chunk.decMax)));
  if (alpha < 90) {
    const [lon, homeLon] = [col(other, "longitudeKey"), col(home, "longitudeKey")];
    const near = within(lon, homeLon, alpha);
    // Only a chunk at longitude 0/360 pairs rows across it (its overlap holds the other side's).
    if (chunk.raMin > 2 * alpha && chunk.raMax < 360 - 2 * alpha) bands.push(near);
    else {
      const across = decimal(360 - alpha * (1 + 1e-9) - 1e-12);
      const wrapped = binary(
        "OR",
        binary(">=", binary("-", lon, homeLon), across),
        binary(">=", binary("-", homeLon, lon), across),
      );
      bands.push(binary("OR", near, wrapped));
    }
  }
  return bands;
}

/**
 * The gather plan: every table's referenced columns, filtered by the WHERE terms that concern it
 * alone (not with outer joins, where that could change which rows pair), fetched from its chunks
 * (narrowed by its own restrictors) into czar tables; the whole query then runs on the czar.
 */
function planGather(
  s: Select,
  db: string,
  bindings: readonly Binding[],
  restr: Restrictors,
  cat: CzarCatalog,
  columns: string[],
  isText: (c: ColumnRef) => boolean,
  columnType: (c: ColumnRef) => MysqlType | null,
): Omit<Plan, "types"> {
  const used = new Map<Binding, Set<string>>(bindings.map((b) => [b, new Set<string>()]));
  for (const e of selectExprs(s)) {
    visit(e, (x) => {
      if (x.kind !== "column") return;
      for (const b of candidates(bindings, x, db)) {
        used.get(b)!.add(b.columns.find((c) => c.toLowerCase() === x.name.toLowerCase())!);
      }
    });
  }
  const outer = (f: FromItem): boolean =>
    f.kind === "join" && (f.type !== "INNER" && f.type !== "CROSS" ? true : outer(f.left) || outer(f.right));
  const pushable = !s.from.some(outer);
  const onlyOn = (term: Expr, b: Binding): boolean => {
    let ok = true;
    visit(term, (x) => {
      if (x.kind === "column")
        ok &&= candidates(bindings, x, db).every((c) => c === b) && candidates(bindings, x, db).length > 0;
      if (isAggregateCall(x)) ok = false;
    });
    return ok;
  };
  const tables: GatherTable[] = bindings.map((b, i) => {
    const cols = [...used.get(b)!];
    if (cols.length === 0) cols.push(b.columns[0]!);
    const filters = pushable ? conjuncts(s.where).filter((t) => onlyOn(t, b)) : [];
    const from: TableRef = { kind: "table", db: null, name: b.meta.name, alias: b.name, pos: s.pos };
    const fetch: Select = {
      kind: "select",
      distinct: false,
      items: cols.map((c) => ({ kind: "expr", expr: column(b.name, c), alias: null, text: c, pos: s.pos })),
      from: [from],
      where: andAll(filters),
      groupBy: [],
      rollup: false,
      having: null,
      orderBy: [],
      limit: null,
      pos: s.pos,
    };
    const chunkIds = b.meta.kind === "replicated" ? [-1] : chunkSet(cat, db, [b], [b], restr.regions, restr.keys);
    const jobs = chunkIds.map((id) => ({
      chunkId: id,
      subChunkIds: [],
      sql: printSqlite(fetch, {
        isText,
        table: (t) => `${quoteIdent(id < 0 ? t.name : `${t.name}_${id}`)} AS ${quoteIdent(t.alias ?? t.name)}`,
      }),
    }));
    return { name: `g${i}`, columns: cols, jobs };
  });
  const byRef = new Map<TableRef, number>(bindings.map((b, i) => [b.ref, i]));
  const sql = printSqlite(s, {
    isText,
    columnType,
    table: (t) => `"g${byRef.get(t)}" AS ${quoteIdent(t.alias ?? t.name)}`,
  });
  return {
    database: db,
    columns,
    jobs: tables.flatMap((t) => t.jobs),
    merge: { kind: "gather", tables, sql },
    shape: "gather",
  };
}
