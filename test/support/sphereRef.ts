/** Independent spherical helpers for tests (not the code under test). */
const D2R = Math.PI / 180;

export function wrapRa(ra: number): number {
  const r = ra % 360;
  return r < 0 ? r + 360 : r;
}

/** The point `dist` degrees from (ra, dec) along initial bearing `bearing` (deg east of north). */
export function destination(ra: number, dec: number, dist: number, bearing: number): [number, number] {
  const d1 = dec * D2R;
  const t = dist * D2R;
  const b = bearing * D2R;
  const sd2 = Math.sin(d1) * Math.cos(t) + Math.cos(d1) * Math.sin(t) * Math.cos(b);
  const d2 = Math.asin(Math.max(-1, Math.min(1, sd2)));
  const dl = Math.atan2(Math.sin(b) * Math.sin(t) * Math.cos(d1), Math.cos(t) - Math.sin(d1) * sd2);
  return [wrapRa(ra + dl / D2R), d2 / D2R];
}

type V3 = [number, number, number];
const unit = (ra: number, dec: number): V3 => [
  Math.cos(dec * D2R) * Math.cos(ra * D2R),
  Math.cos(dec * D2R) * Math.sin(ra * D2R),
  Math.sin(dec * D2R),
];
const dot3 = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross3 = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/** Haversine angular separation in degrees. */
export function angSep(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const a =
    Math.sin(((dec2 - dec1) * D2R) / 2) ** 2 +
    Math.cos(dec1 * D2R) * Math.cos(dec2 * D2R) * Math.sin(((ra2 - ra1) * D2R) / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(a)))) / D2R;
}

/**
 * scisql's ellipse test, written out: project the point orthographically on the plane tangent
 * at the centre, rotate by the position angle (east of north), compare with the axes (arcsec).
 */
export function inEllipse(ra: number, dec: number, cra: number, cdec: number, smaa: number, smia: number, pa: number) {
  const v = unit(ra, dec);
  const north: V3 = [
    -Math.sin(cdec * D2R) * Math.cos(cra * D2R),
    -Math.sin(cdec * D2R) * Math.sin(cra * D2R),
    Math.cos(cdec * D2R),
  ];
  const east: V3 = [-Math.sin(cra * D2R), Math.cos(cra * D2R), 0];
  if (dot3(v, unit(cra, cdec)) <= 0) return false;
  const y = dot3(v, north);
  const x = dot3(v, east);
  const along = y * Math.cos(pa * D2R) + x * Math.sin(pa * D2R);
  const across = x * Math.cos(pa * D2R) - y * Math.sin(pa * D2R);
  const M = (smaa / 3600) * D2R;
  const m = (smia / 3600) * D2R;
  return (along / M) ** 2 + (across / m) ** 2 <= 1;
}

/** Inside a convex polygon (either vertex order): on the same side of every edge's great circle. */
export function inConvexPolygon(ra: number, dec: number, coords: number[]): boolean {
  const p = unit(ra, dec);
  const n = coords.length / 2;
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < n; i++) {
    const a = unit(coords[2 * i]!, coords[2 * i + 1]!);
    const b = unit(coords[(2 * i + 2) % coords.length]!, coords[(2 * i + 3) % coords.length]!);
    const s = dot3(cross3(a, b), p);
    if (s > 0) pos++;
    else if (s < 0) neg++;
  }
  return pos === 0 || neg === 0;
}
