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
