/** Angle constants and normalisation. All public angles in this module are in degrees. */
export const RAD_PER_DEG = Math.PI / 180;
export const DEG_PER_RAD = 180 / Math.PI;
export const ARCSEC_PER_DEG = 3600;
/** One arcsecond in degrees: the tolerance Qserv uses near the poles. */
export const EPSILON_DEG = 1 / ARCSEC_PER_DEG;

/** Reduce a longitude angle into [0, 360). */
export function normalizeRa(ra: number): number {
  if (ra >= 0 && ra < 360) return ra;
  const r = ra % 360;
  const out = r < 0 ? r + 360 : r;
  // -1e-20 % 360 + 360 rounds to 360.
  return out >= 360 ? 0 : out;
}

/** Clamp a longitude into [0, 360] (used for box edges, where 360 is a valid upper bound). */
export function clampRa(ra: number): number {
  return ra < 0 ? 0 : Math.min(ra, 360);
}

/** Clamp a latitude into [-90, 90]. */
export function clampDec(dec: number): number {
  return dec < -90 ? -90 : Math.min(dec, 90);
}

/**
 * The half-width in RA of a circle of radius `r` centred at latitude `centerDec`: every point
 * of the circle lies within `alpha` of the centre's RA. 180 when the circle reaches a pole.
 */
export function maxAlpha(r: number, centerDec: number): number {
  if (r < 0 || r > 90) throw new RangeError(`radius ${r} outside [0, 90]`);
  if (r === 0) return 0;
  if (Math.abs(centerDec) + r > 90 - EPSILON_DEG) return 180;
  const rr = r * RAD_PER_DEG;
  const c = centerDec * RAD_PER_DEG;
  const y = Math.sin(rr);
  const x = Math.sqrt(Math.abs(Math.cos(c - rr) * Math.cos(c + rr)));
  return DEG_PER_RAD * Math.abs(Math.atan(y / x));
}
