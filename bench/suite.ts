/**
 * The query suite: each query as mini-qserv (Qserv SQL), SQLite (scisql functions, (decl, ra)
 * index ranges) and PostgreSQL+q3c text, with the same seeded parameters for every system.
 */
import type Database from "better-sqlite3";
import { angSep } from "../src/sphere/index.js";
import { prng } from "./generate.js";

export type Dialect = "qserv" | "sqlite" | "pg";
export type QueryText = Record<Dialect, string>;

export interface SuiteQuery {
  id: string;
  title: string;
  /** One text per timed run (the runs' parameters differ where the query has any). */
  runs: QueryText[];
}

/** A position to centre a search on: a catalog object's, so dense regions are sampled as often as they are dense. */
export type Position = [ra: number, dec: number];

export interface SuiteOptions {
  /** How many runs of each query kind; scans take `scanRuns`. */
  runs: number;
  scanRuns: number;
  objects: number;
  /** Positions of randomly chosen objects (|dec| ≤ 60, 10 ≤ ra ≤ 350: no box crosses ra 0 or a pole). */
  positions: (n: number, seed: number) => Position[];
  /** The centre of the densest field found (the dense-field near-neighbour run), if any. */
  dense: Position | null;
  /** Whether the catalog has the Hsc table (the cross-match). */
  hsc: boolean;
}

/** Cross-match radius: 1″. */
export const XMATCH_RADIUS = 1 / 3600;

/**
 * The densest of `candidates`: the one with the most objects within 0.05° in declination and ra
 * (read through the (decl, ra) index of the one-file SQLite baseline); null when there are none.
 */
export function densest(db: Database.Database, candidates: readonly Position[]): Position | null {
  const count = db.prepare("SELECT COUNT(*) FROM Object WHERE decl BETWEEN ? AND ? AND ra BETWEEN ? AND ?").pluck();
  let best: Position | null = null;
  let most = -1;
  for (const [ra, dec] of candidates) {
    const n = count.get(dec - 0.05, dec + 0.05, ra - 0.05, ra + 0.05) as number;
    if (n > most) [best, most] = [[ra, dec], n];
  }
  return best;
}

/** Near-neighbour radius: 1′, within the catalog's 0.01667° overlap. */
export const NN_RADIUS = 0.0166;
const f = (x: number) => x.toFixed(7);

/** The ra condition of a search of radius r around (ra0, dec0): a range, split at ra 0/360, or none near a pole. */
function raRange(col: string, ra0: number, dec0: number, r: number): string {
  if (Math.abs(dec0) + r >= 89) return "1";
  const w = (Math.asin(Math.sin((r * Math.PI) / 180) / Math.cos((dec0 * Math.PI) / 180)) * 180) / Math.PI + 1e-6;
  const [lo, hi] = [ra0 - w, ra0 + w];
  if (lo < 0) return `(${col} >= ${f(lo + 360)} OR ${col} <= ${f(hi)})`;
  if (hi >= 360) return `(${col} >= ${f(lo)} OR ${col} <= ${f(hi - 360)})`;
  return `${col} BETWEEN ${f(lo)} AND ${f(hi)}`;
}

function cone([ra, dec]: Position, r: number): QueryText {
  const cols = "objectId, ra, decl";
  return {
    qserv: `SELECT ${cols} FROM Object WHERE qserv_areaspec_circle(${f(ra)}, ${f(dec)}, ${r})`,
    sqlite:
      `SELECT ${cols} FROM Object WHERE decl BETWEEN ${f(dec - r)} AND ${f(dec + r)} AND ${raRange("ra", ra, dec, r)}` +
      ` AND scisql_s2PtInCircle(ra, decl, ${f(ra)}, ${f(dec)}, ${r}) = 1`,
    pg: `SELECT ${cols} FROM Object WHERE q3c_radial_query(ra, decl, ${f(ra)}, ${f(dec)}, ${r})`,
  };
}

/** A box of `size` degrees centred on p: its Qserv areaspec, a plain range test, and the circle around it (q3c's index). */
function box([ra, dec]: Position, size: number, prefix: string) {
  const h = size / 2;
  const [r0, d0, r1, d1] = [ra - h, dec - h, ra + h, dec + h];
  const range = `${prefix}decl BETWEEN ${f(d0)} AND ${f(d1)} AND ${prefix}ra BETWEEN ${f(r0)} AND ${f(r1)}`;
  const radius = Math.max(angSep(ra, dec, r0, d0), angSep(ra, dec, r0, d1)) + 1e-6;
  return {
    areaspec: `qserv_areaspec_box(${f(r0)}, ${f(d0)}, ${f(r1)}, ${f(d1)})`,
    range,
    q3c: `q3c_radial_query(${prefix}ra, ${prefix}decl, ${f(ra)}, ${f(dec)}, ${radius.toFixed(7)}) AND ${range}`,
  };
}

export function buildSuite(o: SuiteOptions): SuiteQuery[] {
  const rnd = prng(7);
  const same = (sql: string, n: number): QueryText[] =>
    Array.from({ length: n }, () => ({ qserv: sql, sqlite: sql, pg: sql }));
  const points = Array.from({ length: o.runs }, () => 1 + Math.floor(rnd() * o.objects));
  const pointCols = "objectId, ra, decl, gFlux, rFlux, flags";
  const scanCut = "SELECT COUNT(*), AVG(ra), MAX(rFlux) FROM Object WHERE gFlux / rFlux > 2";
  const groupBy = "SELECT flags, COUNT(*), AVG(rFlux) FROM Object GROUP BY flags";
  return [
    {
      id: "point",
      title: "Point lookup by objectId",
      runs: points.flatMap((id) => same(`SELECT ${pointCols} FROM Object WHERE objectId = ${id}`, 1)),
    },
    {
      id: "lightcurve",
      title: "Light curve: one object's Sources by objectId",
      runs: Array.from({ length: o.runs }, () => 1 + Math.floor(rnd() * o.objects)).flatMap((id) =>
        same(`SELECT sourceId, taiMidPoint, filterId, psfFlux, psfFluxErr FROM Source WHERE objectId = ${id}`, 1),
      ),
    },
    {
      id: "in1000",
      title: "objectId IN (1,000 random ids)",
      runs: Array.from({ length: o.runs }, () => {
        const ids = Array.from({ length: 1000 }, () => 1 + Math.floor(rnd() * o.objects));
        return same(`SELECT objectId, ra, decl FROM Object WHERE objectId IN (${ids.join(", ")})`, 1)[0]!;
      }),
    },
    { id: "cone01", title: "Cone search r = 0.1°", runs: o.positions(o.runs, 11).map((p) => cone(p, 0.1)) },
    { id: "cone1", title: "Cone search r = 1°", runs: o.positions(o.runs, 12).map((p) => cone(p, 1)) },
    {
      id: "box",
      title: "Box count, 10° × 10°",
      runs: o.positions(o.runs, 13).map((p) => {
        const b = box(p, 10, "");
        return {
          qserv: `SELECT COUNT(*) FROM Object WHERE ${b.areaspec}`,
          sqlite: `SELECT COUNT(*) FROM Object WHERE ${b.range}`,
          pg: `SELECT COUNT(*) FROM Object WHERE ${b.q3c}`,
        };
      }),
    },
    { id: "scan", title: "Full-scan aggregate with a colour cut (g/r flux > 2)", runs: same(scanCut, o.scanRuns) },
    { id: "groupby", title: "GROUP BY flags over the whole Object table", runs: same(groupBy, o.scanRuns) },
    {
      id: "join",
      title: "Object ⋈ Source in a 5° × 5° box",
      runs: o.positions(o.runs, 14).map((p) => {
        const b = box(p, 5, "o.");
        const head = "SELECT COUNT(*), AVG(s.psfFlux) FROM Object o, Source s WHERE o.objectId = s.objectId AND";
        return { qserv: `${head} ${b.areaspec}`, sqlite: `${head} ${b.range}`, pg: `${head} ${b.q3c}` };
      }),
    },
    {
      id: "nn",
      title: "Near-neighbour pairs within 1′ in a 2° × 2° box",
      runs: o.positions(o.scanRuns, 15).map(nearPairs),
    },
    ...(o.dense === null
      ? []
      : [
          {
            id: "nnDense",
            title: "Near-neighbour pairs within 1′ in the 2° × 2° box around the densest field",
            runs: Array.from({ length: o.scanRuns }, () => nearPairs(o.dense as Position)),
          },
        ]),
    ...(o.hsc ? [crossMatch(o.scanRuns)] : []),
  ];
}

/** The near-neighbour pair count in a 2° × 2° box centred on p. */
function nearPairs(p: Position): QueryText {
  // qserv_areaspec_* restricts every partitioned table of FROM, as in Qserv: both sides here.
  const [b, b2] = [box(p, 2, "o1."), box(p, 2, "o2.")];
  const head = "SELECT COUNT(*) FROM Object o1, Object o2 WHERE o1.objectId <> o2.objectId AND";
  // |dec| ≤ 61 here: 0.04° of ra is more than 1′ of arc.
  const near = `o2.decl BETWEEN o1.decl - ${NN_RADIUS} AND o1.decl + ${NN_RADIUS} AND o2.ra BETWEEN o1.ra - 0.04 AND o1.ra + 0.04`;
  const sep = `scisql_angSep(o1.ra, o1.decl, o2.ra, o2.decl) < ${NN_RADIUS}`;
  // SQLite: each o1's neighbourhood from the R*Tree, then o2 by rowid (CROSS JOIN fixes
  // that order; left to itself, SQLite scans a declination band of the whole sky per row).
  const rtree =
    `r.minDec <= o1.decl + ${NN_RADIUS} AND r.maxDec >= o1.decl - ${NN_RADIUS}` +
    " AND r.minRa <= o1.ra + 0.04 AND r.maxRa >= o1.ra - 0.04 AND o2.objectId = r.id";
  return {
    qserv: `${head} ${b.areaspec} AND ${sep}`,
    sqlite:
      `SELECT COUNT(*) FROM Object o1 CROSS JOIN Object_rtree r CROSS JOIN Object o2 WHERE o1.objectId <> o2.objectId AND` +
      ` ${b.range} AND ${rtree} AND ${b2.range} AND ${near} AND ${sep}`,
    // OFFSET 0 fences the pairs off: with o2's range beside q3c_join, PostgreSQL scans o2 per o1 row.
    pg:
      `SELECT COUNT(*) FROM (SELECT o2.ra, o2.decl FROM Object o1, Object o2 WHERE o1.objectId <> o2.objectId AND ${b.q3c}` +
      ` AND q3c_join(o1.ra, o1.decl, o2.ra, o2.decl, ${NN_RADIUS}) OFFSET 0) p WHERE ${box(p, 2, "p.").range}`,
  };
}

/**
 * The cross-match of Hsc to Object within 1″ over the sky away from ra 0/360 and the poles (the
 * areaspec restricts both tables, as in Qserv): each Hsc row's Object neighbours.
 */
function crossMatch(runs: number): SuiteQuery {
  const r = XMATCH_RADIUS;
  const [r0, d0, r1, d1] = [10, -60, 350, 60];
  const inBox = (p: string) => `${p}decl BETWEEN ${d0} AND ${d1} AND ${p}ra BETWEEN ${r0} AND ${r1}`;
  const head = "SELECT COUNT(*), SUM(o.objectId), SUM(h.hscId)";
  const sep = `scisql_angSep(o.ra, o.decl, h.ra, h.decl) < ${r}`;
  // |dec| ≤ 60 here: 1″ of arc is at most 2″ of ra.
  const w = (2.1 * r).toFixed(7);
  const rtree =
    `r.minDec <= h.decl + ${r} AND r.maxDec >= h.decl - ${r}` +
    ` AND r.minRa <= h.ra + ${w} AND r.maxRa >= h.ra - ${w} AND o.objectId = r.id`;
  const text: QueryText = {
    qserv: `${head} FROM Object o, Hsc h WHERE qserv_areaspec_box(${r0}, ${d0}, ${r1}, ${d1}) AND ${sep}`,
    sqlite: `${head} FROM Hsc h CROSS JOIN Object_rtree r CROSS JOIN Object o WHERE ${inBox("h.")} AND ${rtree} AND ${inBox("o.")} AND ${sep}`,
    pg:
      `SELECT COUNT(*), SUM(p.objectId), SUM(p.hscId) FROM (SELECT o.objectId, o.ra, o.decl, h.hscId FROM Hsc h, Object o` +
      ` WHERE ${inBox("h.")} AND q3c_join(h.ra, h.decl, o.ra, o.decl, ${r}) OFFSET 0) p WHERE ${inBox("p.")}`,
  };
  return {
    id: "xmatch",
    title: "Cross-match: Hsc (10% of the objects, shifted) to Object within 1″, |dec| ≤ 60°",
    runs: Array.from({ length: runs }, () => text),
  };
}

/** Texts for the concurrent cone searches (r = 0.1°), `n` of them. */
export function concurrentCones(o: SuiteOptions, n: number): QueryText[] {
  return o.positions(n, 16).map((p) => cone(p, 0.1));
}
