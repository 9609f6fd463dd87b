import { DEG_PER_RAD, normalizeRa, RAD_PER_DEG } from "./angles.js";

/** A 3-vector; unit length when it stands for a point on the sphere. */
export interface Vector3 {
  readonly x: number;
  readonly y: number;
  readonly z: number;
}

export function unitVector(ra: number, dec: number): Vector3 {
  const a = ra * RAD_PER_DEG;
  const d = dec * RAD_PER_DEG;
  const cd = Math.cos(d);
  return { x: Math.cos(a) * cd, y: Math.sin(a) * cd, z: Math.sin(d) };
}

/** Back to (ra, dec) in degrees; ra in [0, 360). */
export function toRaDec(v: Vector3): { ra: number; dec: number } {
  const d2 = v.x * v.x + v.y * v.y;
  const ra = d2 === 0 ? 0 : normalizeRa(Math.atan2(v.y, v.x) * DEG_PER_RAD);
  const dec = Math.atan2(v.z, Math.sqrt(d2)) * DEG_PER_RAD;
  return { ra, dec };
}

export function dot(a: Vector3, b: Vector3): number {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}

export function cross(a: Vector3, b: Vector3): Vector3 {
  return { x: a.y * b.z - a.z * b.y, y: a.z * b.x - a.x * b.z, z: a.x * b.y - a.y * b.x };
}

export function norm(a: Vector3): number {
  return Math.sqrt(a.x * a.x + a.y * a.y + a.z * a.z);
}

export function normalize(a: Vector3): Vector3 {
  const n = norm(a);
  return { x: a.x / n, y: a.y / n, z: a.z / n };
}

export function add(a: Vector3, b: Vector3): Vector3 {
  return { x: a.x + b.x, y: a.y + b.y, z: a.z + b.z };
}

/** Angle between two unit vectors, in degrees; accurate at every separation. */
export function vectorAngle(a: Vector3, b: Vector3): number {
  return Math.atan2(norm(cross(a, b)), dot(a, b)) * DEG_PER_RAD;
}
