import { DEG_PER_RAD, RAD_PER_DEG } from "./angles.js";

/**
 * Angular separation of two points, in degrees. Vincenty's formula written so that no term
 * cancels: accurate for tiny separations (1e-12 deg) and for nearly antipodal points alike.
 */
export function angSep(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const p1 = dec1 * RAD_PER_DEG;
  const p2 = dec2 * RAD_PER_DEG;
  // Differences taken in degrees first, so tiny separations keep their precision.
  const dp = (dec2 - dec1) * RAD_PER_DEG;
  const dl = (ra2 - ra1) * RAD_PER_DEG;
  const sinDl = Math.sin(dl);
  const sinHalf = Math.sin(dl / 2);
  const hav = 2 * sinHalf * sinHalf; // 1 - cos(dl), without cancellation
  const c1 = Math.cos(p1);
  const c2 = Math.cos(p2);
  const a = c2 * sinDl;
  const b = Math.sin(dp) + Math.sin(p1) * c2 * hav;
  const num = Math.sqrt(a * a + b * b);
  const den = Math.cos(dp) - c1 * c2 * hav;
  return Math.atan2(num, den) * DEG_PER_RAD;
}
