import { QservError } from "../common/errors.js";
import { ARCSEC_PER_DEG, DEG_PER_RAD, maxAlpha, normalizeRa, RAD_PER_DEG } from "./angles.js";
import { SphericalBox } from "./box.js";
import { angSep } from "./separation.js";
import { add, cross, dot, norm, normalize, toRaDec, unitVector, type Vector3, vectorAngle } from "./vector.js";

/** A region of the sky with Qserv/scisql semantics. */
export interface Region {
  readonly kind: "box" | "circle" | "ellipse" | "polygon";
  contains(ra: number, dec: number): boolean;
  /** A box that holds the whole region. */
  boundingBox(): SphericalBox;
  /** Whether the region may meet the box: never false when they do meet. */
  intersectsBox(box: SphericalBox): boolean;
}

export class BoxRegion implements Region {
  readonly kind = "box";
  constructor(readonly box: SphericalBox) {}
  static of(raMin: number, decMin: number, raMax: number, decMax: number): BoxRegion {
    return new BoxRegion(SphericalBox.fromBounds(raMin, decMin, raMax, decMax));
  }
  contains(ra: number, dec: number): boolean {
    return this.box.contains(ra, dec);
  }
  boundingBox(): SphericalBox {
    return this.box;
  }
  intersectsBox(box: SphericalBox): boolean {
    return this.box.intersects(box);
  }
}

function checkPoint(what: string, ra: number, dec: number): void {
  if (!Number.isFinite(ra) || !Number.isFinite(dec)) {
    throw new QservError("BAD_REGION", `${what} coordinates must be finite numbers`);
  }
  if (dec < -90 || dec > 90) throw new QservError("BAD_REGION", `${what} declination ${dec} outside [-90, 90]`);
}

/** The box around a circle of `radius` degrees centred on (ra, dec). */
function circleBoundingBox(ra: number, dec: number, radius: number): SphericalBox {
  const decMin = dec - radius;
  const decMax = dec + radius;
  if (decMin <= -90 || decMax >= 90) {
    return new SphericalBox(0, 360, Math.max(decMin, -90), Math.min(decMax, 90), true);
  }
  const alpha = maxAlpha(Math.min(radius, 90), dec);
  if (alpha >= 180) return new SphericalBox(0, 360, decMin, decMax, true);
  return new SphericalBox(normalizeRa(ra - alpha), normalizeRa(ra + alpha), decMin, decMax);
}

export class CircleRegion implements Region {
  readonly kind = "circle";
  readonly ra: number;
  constructor(
    ra: number,
    readonly dec: number,
    /** Radius in degrees. */
    readonly radius: number,
  ) {
    checkPoint("circle centre", ra, dec);
    if (!Number.isFinite(radius) || radius < 0 || radius > 180) {
      throw new QservError("BAD_REGION", `circle radius ${radius} outside [0, 180] degrees`);
    }
    this.ra = normalizeRa(ra);
  }
  contains(ra: number, dec: number): boolean {
    return angSep(this.ra, this.dec, ra, dec) <= this.radius;
  }
  boundingBox(): SphericalBox {
    return circleBoundingBox(this.ra, this.dec, this.radius);
  }
  intersectsBox(box: SphericalBox): boolean {
    return box.distanceTo(this.ra, this.dec) <= this.radius;
  }
}

/**
 * scisql's spherical ellipse: centre, semi-major and semi-minor axes in arcsec, position angle
 * of the major axis in degrees east of north.
 */
export class EllipseRegion implements Region {
  readonly kind = "ellipse";
  readonly ra: number;
  private readonly sinRa: number;
  private readonly cosRa: number;
  private readonly sinDec: number;
  private readonly cosDec: number;
  private readonly sinPa: number;
  private readonly cosPa: number;
  private readonly invMajor2: number;
  private readonly invMinor2: number;
  private readonly center: Vector3;
  /**
   * Largest angular distance (deg) from the centre to a point of the ellipse. The test bounds the
   * orthographic projection (sine of the distance) by the semi-major axis M, so this is asin(M),
   * slightly more than M itself.
   */
  private readonly boundRadius: number;

  constructor(
    ra: number,
    readonly dec: number,
    readonly semiMajorArcsec: number,
    readonly semiMinorArcsec: number,
    readonly positionAngle: number,
  ) {
    checkPoint("ellipse centre", ra, dec);
    if (!Number.isFinite(semiMajorArcsec) || !Number.isFinite(semiMinorArcsec) || !Number.isFinite(positionAngle)) {
      throw new QservError("BAD_REGION", "ellipse axes and position angle must be finite numbers");
    }
    if (semiMinorArcsec < 0 || semiMinorArcsec > semiMajorArcsec || semiMajorArcsec > 10 * ARCSEC_PER_DEG) {
      throw new QservError(
        "BAD_REGION",
        `ellipse axes must satisfy 0 <= semi-minor (${semiMinorArcsec}) <= semi-major (${semiMajorArcsec}) <= 36000 arcsec`,
      );
    }
    this.ra = normalizeRa(ra);
    this.sinRa = Math.sin(this.ra * RAD_PER_DEG);
    this.cosRa = Math.cos(this.ra * RAD_PER_DEG);
    this.sinDec = Math.sin(dec * RAD_PER_DEG);
    this.cosDec = Math.cos(dec * RAD_PER_DEG);
    this.sinPa = Math.sin(positionAngle * RAD_PER_DEG);
    this.cosPa = Math.cos(positionAngle * RAD_PER_DEG);
    const M = (semiMajorArcsec / ARCSEC_PER_DEG) * RAD_PER_DEG;
    const m = (semiMinorArcsec / ARCSEC_PER_DEG) * RAD_PER_DEG;
    this.invMajor2 = 1 / (M * M);
    this.invMinor2 = 1 / (m * m);
    this.center = unitVector(this.ra, dec);
    this.boundRadius = Math.asin(M) * DEG_PER_RAD;
  }

  contains(ra: number, dec: number): boolean {
    const v = unitVector(ra, dec);
    // Points on the far hemisphere project into the ellipse too; they are never inside.
    if (dot(v, this.center) <= 0) return false;
    // Coordinates in the (north, east) basis at the centre, rotated by the position angle.
    const xne = this.cosDec * v.z - this.sinDec * (this.sinRa * v.y + this.cosRa * v.x);
    const yne = this.cosRa * v.y - this.sinRa * v.x;
    const x = this.sinPa * yne + this.cosPa * xne;
    const y = this.cosPa * yne - this.sinPa * xne;
    return x * x * this.invMajor2 + y * y * this.invMinor2 <= 1;
  }
  boundingBox(): SphericalBox {
    return circleBoundingBox(this.ra, this.dec, this.boundRadius);
  }
  intersectsBox(box: SphericalBox): boolean {
    return box.distanceTo(this.ra, this.dec) <= this.boundRadius;
  }
}

/** A convex polygon with great-circle edges; vertices in either order. */
export class ConvexPolygonRegion implements Region {
  readonly kind = "polygon";
  readonly vertices: ReadonlyArray<Vector3>;
  /** Inward edge normals: a point is inside when it is on the inner side of every edge. */
  private readonly edges: ReadonlyArray<Vector3>;
  private readonly capCenter: { ra: number; dec: number };
  private readonly capRadius: number;

  /** `coords` is [ra1, dec1, ra2, dec2, ...]. */
  constructor(coords: ReadonlyArray<number>) {
    if (coords.length % 2 !== 0) throw new QservError("BAD_REGION", "polygon needs an even number of coordinates");
    const n = coords.length / 2;
    if (n < 3) throw new QservError("BAD_REGION", `polygon needs at least 3 vertices, got ${n}`);
    const verts: Vector3[] = [];
    for (let i = 0; i < n; i++) {
      const ra = coords[2 * i] as number;
      const dec = coords[2 * i + 1] as number;
      checkPoint(`polygon vertex ${i + 1}`, ra, dec);
      verts.push(unitVector(ra, dec));
    }
    let edges = verts.map((v, i) => cross(v, verts[(i + 1) % n] as Vector3));
    edges.forEach((e, i) => {
      if (norm(e) < 1e-15) {
        throw new QservError("BAD_REGION", `polygon edge ${i + 1} is degenerate (coincident or antipodal vertices)`);
      }
    });
    // Orient so that the interior is on the positive side of each edge.
    if (dot(edges[0] as Vector3, verts[2] as Vector3) < 0) {
      verts.reverse();
      edges = verts.map((v, i) => cross(v, verts[(i + 1) % n] as Vector3));
    }
    edges = edges.map(normalize);
    edges.forEach((e, i) => {
      verts.forEach((v, j) => {
        if (j === i || j === (i + 1) % n) return;
        if (dot(e, v) <= 1e-15) {
          throw new QservError("BAD_REGION", "polygon is not convex, or has collinear or repeated vertices");
        }
      });
    });
    this.vertices = verts;
    this.edges = edges;
    // A cap no wider than a hemisphere holding every vertex holds the whole (convex) polygon.
    const c = normalize(verts.reduce(add, { x: 0, y: 0, z: 0 }));
    const radius = Math.max(...verts.map((v) => vectorAngle(c, v)));
    if (radius <= 90) {
      this.capCenter = toRaDec(c);
      this.capRadius = radius;
    } else {
      // A cap wider than a hemisphere is not convex, so holding every vertex no longer means
      // holding the polygon. The polygon is on the inner side of every edge, hence within 90
      // degrees of the sum of the inward edge normals.
      this.capCenter = toRaDec(normalize(edges.reduce(add, { x: 0, y: 0, z: 0 })));
      this.capRadius = 90;
    }
  }

  contains(ra: number, dec: number): boolean {
    const p = unitVector(ra, dec);
    for (const e of this.edges) if (dot(e, p) < 0) return false;
    return true;
  }
  boundingBox(): SphericalBox {
    return circleBoundingBox(this.capCenter.ra, this.capCenter.dec, this.capRadius);
  }
  intersectsBox(box: SphericalBox): boolean {
    return box.distanceTo(this.capCenter.ra, this.capCenter.dec) <= this.capRadius;
  }
}

export type RegionKind = Region["kind"];

/** Number of parameters of each region kind (null: an even number, at least 6). */
export const REGION_ARITY: Record<RegionKind, number | null> = { box: 4, circle: 3, ellipse: 5, polygon: null };

/** A region from its parameter list, as scisql and qserv_areaspec_* take them. */
export function regionOf(kind: RegionKind, p: ReadonlyArray<number>): Region {
  const n = REGION_ARITY[kind];
  if (n !== null && p.length !== n) {
    throw new QservError("BAD_REGION", `a ${kind} takes ${n} parameters, got ${p.length}`);
  }
  switch (kind) {
    case "box":
      return BoxRegion.of(p[0]!, p[1]!, p[2]!, p[3]!);
    case "circle":
      return new CircleRegion(p[0]!, p[1]!, p[2]!);
    case "ellipse":
      return new EllipseRegion(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!);
    case "polygon":
      return new ConvexPolygonRegion(p);
  }
}
