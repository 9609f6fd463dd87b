import { QservError } from "../common/errors.js";
import { clampDec, DEG_PER_RAD, normalizeRa, RAD_PER_DEG } from "./angles.js";
import { angSep } from "./separation.js";

/**
 * A longitude/latitude box. `raMin > raMax` means the box wraps through RA 0/360.
 * Edges are inclusive (scisql's s2PtInBox semantics).
 */
export class SphericalBox {
  readonly raMin: number;
  readonly raMax: number;
  readonly decMin: number;
  readonly decMax: number;
  /** True when the box spans every RA. */
  readonly fullRa: boolean;

  /** Build from already-valid bounds: RA in [0, 360], dec in [-90, 90], decMin <= decMax. */
  constructor(raMin: number, raMax: number, decMin: number, decMax: number, fullRa = false) {
    this.raMin = raMin;
    this.raMax = raMax;
    this.decMin = decMin;
    this.decMax = decMax;
    this.fullRa = fullRa || (raMin === 0 && raMax >= 360);
  }

  static full(): SphericalBox {
    return new SphericalBox(0, 360, -90, 90, true);
  }

  /**
   * Build a box with scisql's rules: RA bounds inside [0, 360] may wrap (raMin > raMax); bounds
   * outside it must be ordered and are range-reduced; 360 degrees or more of RA is the full band.
   */
  static fromBounds(raMin: number, decMin: number, raMax: number, decMax: number): SphericalBox {
    for (const [name, v] of [
      ["raMin", raMin],
      ["decMin", decMin],
      ["raMax", raMax],
      ["decMax", decMax],
    ] as const) {
      if (!Number.isFinite(v)) throw new QservError("BAD_REGION", `box ${name} is not a finite number`);
    }
    if (decMin < -90 || decMax > 90 || decMin > 90 || decMax < -90) {
      throw new QservError("BAD_REGION", `box declination bounds [${decMin}, ${decMax}] outside [-90, 90]`);
    }
    if (decMin > decMax) {
      throw new QservError("BAD_REGION", `box decMin ${decMin} is greater than decMax ${decMax}`);
    }
    if (raMax < raMin && (raMax < 0 || raMin > 360)) {
      throw new QservError("BAD_REGION", `box RA bounds [${raMin}, ${raMax}] outside [0, 360] must be ordered`);
    }
    if (raMax - raMin >= 360) return new SphericalBox(0, 360, decMin, decMax, true);
    const lo = raMin === 360 ? 360 : normalizeRa(raMin);
    const hi = raMax === 360 ? 360 : normalizeRa(raMax);
    return new SphericalBox(lo, hi, decMin, decMax);
  }

  get wraps(): boolean {
    return !this.fullRa && this.raMin > this.raMax;
  }

  containsRa(ra: number): boolean {
    if (this.fullRa) return true;
    const r = normalizeRa(ra);
    if (this.raMin <= this.raMax) return r >= this.raMin && r <= this.raMax;
    return r >= this.raMin || r <= this.raMax;
  }

  contains(ra: number, dec: number): boolean {
    return dec >= this.decMin && dec <= this.decMax && this.containsRa(ra);
  }

  /** The RA extent as one or two non-wrapping intervals. */
  raIntervals(): Array<[number, number]> {
    if (this.fullRa) return [[0, 360]];
    if (this.raMin <= this.raMax) return [[this.raMin, this.raMax]];
    return [
      [this.raMin, 360],
      [0, this.raMax],
    ];
  }

  intersects(other: SphericalBox): boolean {
    if (this.decMin > other.decMax || other.decMin > this.decMax) return false;
    for (const [a0, a1] of this.raIntervals()) {
      for (const [b0, b1] of other.raIntervals()) {
        if (a0 <= b1 && b0 <= a1) return true;
      }
    }
    return false;
  }

  /** Smallest angular distance (deg) from a point to this box; 0 inside. */
  distanceTo(ra: number, dec: number): number {
    if (this.contains(ra, dec)) return 0;
    if (this.containsRa(ra)) return dec > this.decMax ? dec - this.decMax : this.decMin - dec;
    // The nearest point lies on one of the two meridian edges: at the foot of the perpendicular
    // from the point (clamped to the edge) or at an end of the edge.
    let best = Number.POSITIVE_INFINITY;
    const sd = Math.sin(dec * RAD_PER_DEG);
    const cd = Math.cos(dec * RAD_PER_DEG);
    for (const edgeRa of [this.raMin, this.raMax]) {
      const foot = Math.atan2(sd, cd * Math.cos((ra - edgeRa) * RAD_PER_DEG)) * DEG_PER_RAD;
      const candidates = [clamp(foot, this.decMin, this.decMax), this.decMin, this.decMax];
      for (const c of candidates) best = Math.min(best, angSep(ra, dec, edgeRa, clampDec(c)));
    }
    return best;
  }

  toString(): string {
    return `box(${this.raMin}, ${this.decMin}, ${this.raMax}, ${this.decMax})`;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : Math.min(v, hi);
}
