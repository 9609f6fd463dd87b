/**
 * The all-sky Mollweide projection (d3-geo, RA growing to the left, RA 180° at the centre) and
 * chunk boxes as GeoJSON: parallels are densified so that they stay parallels on the map.
 */
import { type GeoProjection, geoGraticule10, geoPath, geoProjection } from "d3-geo";

/** Mollweide's forward formula (θ by Newton's method) and its inverse. */
function mollweideRaw(lambda: number, phi: number): [number, number] {
  let theta = phi;
  const k = Math.PI * Math.sin(phi);
  for (let i = 0; i < 25; i++) {
    const d = (theta + Math.sin(theta) - k) / (1 + Math.cos(theta));
    theta -= d;
    if (Math.abs(d) < 1e-10) break;
  }
  theta /= 2;
  if (!Number.isFinite(theta)) theta = Math.sign(phi) * (Math.PI / 2);
  return [((2 * Math.SQRT2) / Math.PI) * lambda * Math.cos(theta), Math.SQRT2 * Math.sin(theta)];
}
mollweideRaw.invert = (x: number, y: number): [number, number] => {
  const theta = Math.asin(Math.max(-1, Math.min(1, y / Math.SQRT2)));
  const lambda = (Math.PI * x) / (2 * Math.SQRT2 * Math.cos(theta));
  const phi = Math.asin(Math.max(-1, Math.min(1, (2 * theta + Math.sin(2 * theta)) / Math.PI)));
  return [lambda, phi];
};

/** A Mollweide projection fitted to `width` × `width / 2`. */
export function skyProjection(width: number): GeoProjection {
  const p = geoProjection(mollweideRaw).reflectX(true);
  return p.fitExtent(
    [
      [4, 4],
      [width - 4, width / 2 - 4],
    ],
    { type: "Sphere" },
  );
}

/** RA (deg) as map longitude: RA 180° at the centre, so no chunk box crosses the map's edge. */
export const lonOf = (ra: number) => ra - 180;
export const raOf = (lon: number) => (((lon + 180) % 360) + 360) % 360;

const EDGE = 1e-6;

/** A box of RA [ra0, ra1] × Dec [dec0, dec1] as a GeoJSON polygon (clockwise, as d3 wants). */
export function boxPolygon(ra0: number, ra1: number, dec0: number, dec1: number): GeoJSON.Polygon {
  const l0 = Math.max(-180 + EDGE, lonOf(ra0));
  const l1 = Math.min(180 - EDGE, lonOf(ra1));
  const b0 = Math.max(-90 + EDGE, dec0);
  const b1 = Math.min(90 - EDGE, dec1);
  const steps = Math.max(1, Math.ceil((l1 - l0) / 2));
  const ring: Array<[number, number]> = [];
  for (let i = 0; i <= steps; i++) ring.push([l0 + ((l1 - l0) * i) / steps, b1]);
  for (let i = steps; i >= 0; i--) ring.push([l0 + ((l1 - l0) * i) / steps, b0]);
  ring.push([l0, b1]);
  return { type: "Polygon", coordinates: [ring] };
}

/** The sphere's outline and a 10° graticule, as SVG path data. */
export function frame(p: GeoProjection): { sphere: string; graticule: string } {
  const path = geoPath(p);
  return { sphere: path({ type: "Sphere" }) ?? "", graticule: path(geoGraticule10()) ?? "" };
}

/** Angular distance in degrees. */
export function separation(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const r = Math.PI / 180;
  const a =
    Math.sin(((dec2 - dec1) * r) / 2) ** 2 +
    Math.cos(dec1 * r) * Math.cos(dec2 * r) * Math.sin(((ra2 - ra1) * r) / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(a)))) / r;
}

export const SVG_NS = "http://www.w3.org/2000/svg";

export function svgEl<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** A colour from light yellow to dark blue for t in [0, 1]. */
export function sequential(t: number): string {
  const stops = [
    [255, 255, 204],
    [161, 218, 180],
    [65, 182, 196],
    [44, 127, 184],
    [37, 52, 148],
  ];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return `rgb(${a.map((v, k) => Math.round(v + (b[k]! - v) * f)).join(",")})`;
}

export const CATEGORICAL = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];
