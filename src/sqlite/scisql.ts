import type Database from "better-sqlite3";
import { QservError } from "../common/errors.js";
import {
  angSep,
  normalize,
  REGION_ARITY,
  type Region,
  type RegionKind,
  regionOf,
  vectorAngle,
} from "../sphere/index.js";

/** SQLite values a scalar function may receive. */
type Arg = number | bigint | string | Buffer | null;

/** A number from a SQL argument; null stays null (scisql: NULL in, NULL out). */
function num(fn: string, v: Arg): number | null {
  if (v === null) return null;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  throw new QservError("BAD_ARGUMENT", `${fn}: argument ${JSON.stringify(String(v))} is not a number`);
}

function nums(fn: string, args: readonly Arg[]): number[] | null {
  const out: number[] = new Array(args.length);
  for (let i = 0; i < args.length; i++) {
    const n = num(fn, args[i] as Arg);
    if (n === null) return null;
    out[i] = n;
  }
  return out;
}

function checkDec(fn: string, dec: number): void {
  if (!(dec >= -90 && dec <= 90)) throw new QservError("BAD_ARGUMENT", `${fn}: declination ${dec} outside [-90, 90]`);
}

/** Regions are built once per distinct parameter list (a query usually has one). */
class RegionCache {
  private params: number[] = [];
  private region: Region | null = null;
  constructor(private readonly make: (p: number[]) => Region) {}
  /** The region of parameters p[from...]; compared value by value, so a row costs no allocation. */
  get(p: number[], from: number): Region {
    const held = this.params;
    let same = this.region !== null && held.length === p.length - from;
    for (let i = from; same && i < p.length; i++) same = p[i] === held[i - from];
    if (!same) {
      const params = p.slice(from);
      this.region = this.make(params); // throws for a bad region: nothing cached
      this.params = params;
    }
    return this.region!;
  }
}

/**
 * A point-in-region function: (ra, dec, ...region parameters) → 1 / 0, NULL when any input is.
 * `arity` is its argument count (null: any, as for polygons).
 */
function pointIn(fn: string, arity: number | null, cache: RegionCache) {
  return (...args: Arg[]): number | null => {
    if (arity !== null && args.length !== arity) {
      throw new QservError("BAD_ARGUMENT", `${fn} takes ${arity} arguments, got ${args.length}`);
    }
    const p = nums(fn, args);
    if (p === null) return null;
    const [ra, dec] = p as [number, number];
    checkDec(fn, dec);
    try {
      return cache.get(p, 2).contains(ra, dec) ? 1 : 0;
    } catch (e) {
      if (e instanceof QservError) throw new QservError("BAD_ARGUMENT", `${fn}: ${e.message}`);
      throw e;
    }
  };
}

/** 2.5 / ln(10): d(mag)/d(ln flux), the factor of the sigma conversions. */
const MAG_PER_LN = 2.5 / Math.LN10;

/** SQL has no NaN or infinity: such results (log of a flux <= 0, division by 0) are NULL. */
function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/**
 * scisql's flux units and their AB zero points: m = -2.5 log10(f) + zeroPoint, with f in
 * erg/cm²/s/Hz ("Flux", zero point -48.6) or in nanojansky, Rubin's unit (zero point 31.4).
 */
const FLUX_UNITS = [
  { unit: "Flux", zeroPoint: -48.6 },
  { unit: "Nanojansky", zeroPoint: 31.4 },
] as const;

/** The scisql functions registerScisql defines, with scisql's own spelling. */
export const SCISQL_FUNCTIONS: readonly string[] = [
  "scisql_angSep",
  "scisql_s2PtInBox",
  "scisql_s2PtInCircle",
  "scisql_s2PtInEllipse",
  "scisql_s2PtInCPoly",
  ...FLUX_UNITS.flatMap(({ unit }) => {
    const lower = unit[0]!.toLowerCase() + unit.slice(1);
    return [
      `scisql_${lower}ToAbMag`,
      `scisql_abMagTo${unit}`,
      `scisql_${lower}ToAbMagSigma`,
      `scisql_abMagTo${unit}Sigma`,
    ];
  }),
];

/**
 * Registers the scisql functions on a connection, with scisql's semantics (angles in degrees,
 * ellipse axes in arcseconds) and NULL for any NULL argument. They are implemented once, on
 * src/sphere; invalid regions raise an SQL error naming the function.
 */
export function registerScisql(db: Database.Database): void {
  const det = { deterministic: true } as const;
  db.function("scisql_angSep", { ...det, varargs: true }, (...args: Arg[]) => {
    const p = nums("scisql_angSep", args);
    if (p === null) return null;
    if (p.length === 4) {
      checkDec("scisql_angSep", p[1] as number);
      checkDec("scisql_angSep", p[3] as number);
      return angSep(p[0] as number, p[1] as number, p[2] as number, p[3] as number);
    }
    if (p.length === 6) {
      const a = normalize({ x: p[0] as number, y: p[1] as number, z: p[2] as number });
      const b = normalize({ x: p[3] as number, y: p[4] as number, z: p[5] as number });
      return vectorAngle(a, b);
    }
    throw new QservError("BAD_ARGUMENT", "scisql_angSep takes 4 (ra, dec, ra, dec) or 6 (two vectors) arguments");
  });
  const regions: Array<[string, RegionKind]> = [
    ["scisql_s2PtInBox", "box"],
    ["scisql_s2PtInCircle", "circle"],
    ["scisql_s2PtInEllipse", "ellipse"],
    ["scisql_s2PtInCPoly", "polygon"],
  ];
  for (const [name, kind] of regions) {
    const n = REGION_ARITY[kind];
    const arity = n === null ? null : n + 2; // the point, then the region's parameters
    db.function(name, { ...det, varargs: true }, pointIn(name, arity, new RegionCache((p) => regionOf(kind, p))));
  }
  for (const { unit, zeroPoint } of FLUX_UNITS) {
    const lower = unit[0]!.toLowerCase() + unit.slice(1);
    const toFlux = (mag: number) => 10 ** (-0.4 * (mag - zeroPoint));
    const toMag = `scisql_${lower}ToAbMag`;
    const toF = `scisql_abMagTo${unit}`;
    db.function(toMag, det, (f: Arg) => {
      const flux = num(toMag, f);
      return flux === null ? null : finite(-2.5 * Math.log10(flux) + zeroPoint);
    });
    db.function(toF, det, (m: Arg) => {
      const mag = num(toF, m);
      return mag === null ? null : finite(toFlux(mag));
    });
    db.function(`${toMag}Sigma`, det, (f: Arg, s: Arg) => {
      const p = nums(`${toMag}Sigma`, [f, s]);
      if (p === null) return null;
      const [flux, sigma] = p as [number, number];
      return finite((MAG_PER_LN * sigma) / flux);
    });
    db.function(`${toF}Sigma`, det, (m: Arg, s: Arg) => {
      const p = nums(`${toF}Sigma`, [m, s]);
      if (p === null) return null;
      const [mag, sigma] = p as [number, number];
      return finite((sigma * toFlux(mag)) / MAG_PER_LN);
    });
  }
}
