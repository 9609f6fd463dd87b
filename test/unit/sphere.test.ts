/**
 * Unit tests for the spherical-geometry primitives in src/sphere: angles, vectors, angular
 * separation, boxes and the scisql-style regions (box, circle, ellipse, convex polygon).
 *
 * Expected values are derived independently inside this file (closed-form spherical
 * trigonometry, a chord / cross-product formula, a gnomonic-projection polygon test, brute-force
 * sampling of box boundaries), never copied from the implementation's output.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { prng as mulberry32 } from "../../bench/generate.js";
import { QservError } from "../../src/common/errors.js";
import {
  angSep,
  BoxRegion,
  CircleRegion,
  ConvexPolygonRegion,
  EllipseRegion,
  maxAlpha,
  normalizeRa,
  type Region,
  SphericalBox,
  toRaDec,
  unitVector,
} from "../../src/sphere/index.js";
import { destination } from "../support/sphereRef.js";

// --- independent helpers ----------------------------------------------------------------------

const D2R = Math.PI / 180;

type V3 = [number, number, number];

function vec(ra: number, dec: number): V3 {
  const a = ra * D2R;
  const d = dec * D2R;
  return [Math.cos(d) * Math.cos(a), Math.cos(d) * Math.sin(a), Math.sin(d)];
}

function vdot(a: V3, b: V3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

function vcross(a: V3, b: V3): V3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function vnorm(a: V3): number {
  return Math.hypot(a[0], a[1], a[2]);
}

function vunit(a: V3): V3 {
  const n = vnorm(a);
  return [a[0] / n, a[1] / n, a[2] / n];
}

/** Separation (deg) from the chord length: 2 asin(|a - b| / 2). Good away from 180 degrees. */
function chordSep(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const a = vec(ra1, dec1);
  const b = vec(ra2, dec2);
  const c = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
  return (2 * Math.asin(Math.min(1, c / 2))) / D2R;
}

/** Separation (deg) as atan2(|a x b|, a . b): accurate at every separation. */
function crossSep(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const a = vec(ra1, dec1);
  const b = vec(ra2, dec2);
  return Math.atan2(vnorm(vcross(a, b)), vdot(a, b)) / D2R;
}

/** Initial bearing (deg, east of north) of the great circle from point 1 towards point 2. */
function bearingTo(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const d1 = dec1 * D2R;
  const d2 = dec2 * D2R;
  const dl = (ra2 - ra1) * D2R;
  const y = Math.sin(dl) * Math.cos(d2);
  const x = Math.cos(d1) * Math.sin(d2) - Math.sin(d1) * Math.cos(d2) * Math.cos(dl);
  return Math.atan2(y, x) / D2R;
}

/** A point uniformly distributed on the sphere. */
function randomPoint(rnd: () => number): [number, number] {
  return [rnd() * 360, Math.asin(2 * rnd() - 1) / D2R];
}

/** A point uniformly distributed in the cap of radius r (deg) around (ra, dec). */
function randomPointInCap(rnd: () => number, ra: number, dec: number, r: number): [number, number] {
  const t = Math.acos(1 - rnd() * (1 - Math.cos(r * D2R))) / D2R;
  return destination(ra, dec, t, rnd() * 360);
}

/** Half-width in RA (deg) of a circle of radius r centred at latitude c: asin(sin r / cos c). */
function circleHalfWidth(r: number, c: number): number {
  return Math.asin(Math.sin(r * D2R) / Math.cos(c * D2R)) / D2R;
}

/** A random valid box; about a third of them wrap through RA 0. */
function randomBox(rnd: () => number, maxWidth: number, maxHeight: number): SphericalBox {
  const raMin = rnd() * 360;
  const width = rnd() * maxWidth;
  const dMin = -90 + rnd() * 180;
  const dMax = Math.min(90, dMin + rnd() * maxHeight);
  return SphericalBox.fromBounds(raMin, dMin, raMin + width, dMax);
}

function badRegion(e: unknown): boolean {
  return e instanceof QservError && e.code === "BAD_REGION";
}

function near(actual: number, expected: number, tol: number, what = ""): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what} expected ${expected} within ${tol}, got ${actual} (diff ${actual - expected})`,
  );
}

function relNear(actual: number, expected: number, rel: number, what = ""): void {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected),
    `${what} expected ${expected} within relative ${rel}, got ${actual}`,
  );
}

// --- angles and vectors -----------------------------------------------------------------------

describe("angles", () => {
  test("normalizeRa reduces into [0, 360)", () => {
    assert.equal(normalizeRa(0), 0);
    assert.equal(normalizeRa(359.5), 359.5);
    assert.equal(normalizeRa(360), 0);
    assert.equal(normalizeRa(370), 10);
    assert.equal(normalizeRa(720), 0);
    assert.equal(normalizeRa(-10), 350);
    near(normalizeRa(-360), 0, 0); // may be -0, which is still 0
    assert.equal(normalizeRa(-730), 350);
    // A tiny negative angle must not round up to 360.
    const tiny = normalizeRa(-1e-20);
    assert.ok(tiny >= 0 && tiny < 360, `got ${tiny}`);
  });

  test("maxAlpha matches asin(sin r / cos dec) and the special cases", () => {
    assert.equal(maxAlpha(0, 45), 0);
    near(maxAlpha(1, 0), 1, 1e-12, "equator");
    near(maxAlpha(1, 60), Math.asin(2 * Math.sin(D2R)) / D2R, 1e-12, "dec 60");
    const rnd = mulberry32(11);
    for (let i = 0; i < 200; i++) {
      const r = rnd() * 10;
      const c = (rnd() * 2 - 1) * (89 - r);
      near(maxAlpha(r, c), circleHalfWidth(r, c), 1e-9, `r=${r} c=${c}`);
    }
    // Circles reaching (within an arcsec of) a pole span every RA.
    assert.equal(maxAlpha(2, 88.5), 180);
    assert.equal(maxAlpha(2, -88.5), 180);
    assert.equal(maxAlpha(1, 89 - 0.5 / 3600), 180);
    assert.throws(() => maxAlpha(-1, 0), RangeError);
    assert.throws(() => maxAlpha(91, 0), RangeError);
  });

  test("maxAlpha bounds the RA offset of every point of the circle", () => {
    const rnd = mulberry32(12);
    for (let i = 0; i < 100; i++) {
      const r = 0.01 + rnd() * 20;
      const c = (rnd() * 2 - 1) * (88 - r);
      const alpha = maxAlpha(r, c);
      for (let k = 0; k < 50; k++) {
        const [ra, dec] = destination(100, c, r, rnd() * 360);
        let dra = Math.abs(ra - 100);
        if (dra > 180) dra = 360 - dra;
        assert.ok(dra <= alpha + 1e-9, `r=${r} c=${c}: point at RA offset ${dra} > alpha ${alpha} (dec ${dec})`);
      }
    }
  });

  test("unitVector and toRaDec are inverse", () => {
    const v = unitVector(90, 0);
    near(v.x, 0, 1e-15);
    near(v.y, 1, 1e-15);
    near(v.z, 0, 1e-15);
    const p = unitVector(123, 90);
    near(p.z, 1, 1e-15);
    assert.equal(toRaDec({ x: 0, y: 0, z: 1 }).dec, 90);
    assert.equal(toRaDec({ x: 0, y: 0, z: -1 }).dec, -90);
    const rnd = mulberry32(13);
    for (let i = 0; i < 200; i++) {
      const [ra, dec] = randomPoint(rnd);
      const back = toRaDec(unitVector(ra, dec));
      near(back.dec, dec, 1e-11, "dec");
      let dra = Math.abs(back.ra - ra);
      if (dra > 180) dra = 360 - dra;
      near(dra, 0, 1e-10, "ra");
      assert.ok(back.ra >= 0 && back.ra < 360);
    }
  });
});

// --- angSep -----------------------------------------------------------------------------------

describe("angSep", () => {
  test("exact values along the axes", () => {
    near(angSep(0, 0, 90, 0), 90, 1e-12);
    near(angSep(0, 0, 0, 90), 90, 1e-12);
    near(angSep(0, 0, 180, 0), 180, 1e-12);
    near(angSep(0, 0, 0, -90), 90, 1e-12);
    near(angSep(0, 0, 270, 0), 90, 1e-12);
    near(angSep(45, 0, 45, 30), 30, 1e-12);
    near(angSep(10, 90, 200, 0), 90, 1e-12);
  });

  test("poles", () => {
    near(angSep(0, 90, 0, -90), 180, 1e-12);
    near(angSep(17, 90, 250, -90), 180, 1e-12);
    // Every RA names the same pole.
    near(angSep(0, 90, 123.4, 90), 0, 1e-12);
    near(angSep(300, -90, 10, -90), 0, 1e-12);
    // Distance to a pole is the co-latitude, whatever the RA.
    near(angSep(77, 89, 300, 90), 1, 1e-12);
    near(angSep(77, -60, 5, -90), 30, 1e-12);
  });

  test("RA wrap-around", () => {
    near(angSep(359.9999, 0, 0.0001, 0), 0.0002, 1e-12);
    near(angSep(0.0001, 0, 359.9999, 0), 0.0002, 1e-12);
    near(angSep(350, 0, 10, 0), 20, 1e-12);
    near(angSep(-10, 0, 10, 0), 20, 1e-12);
    near(angSep(360, 0, 0, 0), 0, 1e-12);
    near(angSep(0, 0, 720, 0), 0, 1e-12);
  });

  test("tiny separations keep full relative precision", () => {
    for (const d of [1e-9, 1e-12]) {
      // Along a meridian the separation is the declination difference.
      relNear(angSep(0, 0, 0, d), d, 1e-6, `dec ${d}`);
      relNear(angSep(0, -d, 0, d), 2 * d, 1e-6, `dec +-${d}`);
      relNear(angSep(77, 0, 77, -d), d, 1e-6, `dec -${d}`);
      // Along the equator it is the RA difference. (250 + d) - 250 is computed exactly, and is
      // the difference of the two RAs actually passed in.
      relNear(angSep(0, 0, d, 0), d, 1e-6, `ra ${d}`);
      relNear(angSep(d, 0, 0, 0), d, 1e-6, `ra ${d} reversed`);
      relNear(angSep(250, 0, 250 + d, 0), 250 + d - 250, 1e-6, `ra 250+${d}`);
      // At dec 60 an RA step d is a separation of d cos(60) = d / 2 (to order d^3).
      relNear(angSep(10, 60, 10 + d, 60), (10 + d - 10) / 2, 1e-6, `ra ${d} at dec 60`);
      // Away from dec 0 each declination is rounded on its own when converted to radians (an
      // error of ~1e-16 rad), so only an absolute accuracy near that is achievable.
      near(angSep(100, 45, 100, 45 + d), 45 + d - 45, 2e-14, `dec 45+${d}`);
      near(angSep(20, -89, 20, -89 - d), -89 - (-89 - d), 2e-14, `dec -89-${d}`);
      // Likewise across RA 0, where the RA difference (~360 deg) is converted to radians whole.
      near(angSep(360 - d, 0, 0, 0), 360 - (360 - d), 2e-14, `ra 360-${d} to 0`);
    }
  });

  test("antipodal and nearly antipodal points", () => {
    near(angSep(0, 0, 180, 0), 180, 1e-12);
    near(angSep(10, 20, 190, -20), 180, 1e-12);
    near(angSep(37, 45, 217, -45), 180, 1e-12);
    const d = 1e-9;
    const s1 = angSep(0, 0, 180 - d, 0);
    near(s1, 180 - d, 1e-12, "RA 180 - 1e-9");
    assert.ok(s1 < 180);
    // Going over the pole: (0, 0) to (180, -1e-9) is 90 + (90 - 1e-9).
    const s2 = angSep(0, 0, 180, d);
    near(s2, 180 - d, 1e-12, "over the pole");
    const s3 = angSep(33, 10, 213, -10 + d);
    near(s3, 180 - d, 1e-12, "off the equator");
  });

  test("agrees with the chord formula for random moderate separations", () => {
    const rnd = mulberry32(21);
    let compared = 0;
    for (let i = 0; i < 3000; i++) {
      const [ra1, dec1] = randomPoint(rnd);
      // Half of the pairs close together, half anywhere.
      const [ra2, dec2] = i % 2 === 0 ? destination(ra1, dec1, rnd() * 5, rnd() * 360) : randomPoint(rnd);
      const expected = chordSep(ra1, dec1, ra2, dec2);
      if (expected < 1e-3 || expected > 170) continue;
      compared++;
      near(angSep(ra1, dec1, ra2, dec2), expected, 1e-9, `(${ra1}, ${dec1}) - (${ra2}, ${dec2})`);
    }
    assert.ok(compared > 2500, `only ${compared} pairs compared`);
  });

  test("agrees with the cross-product formula everywhere, including near 180", () => {
    const rnd = mulberry32(22);
    for (let i = 0; i < 1000; i++) {
      const [ra1, dec1] = randomPoint(rnd);
      const [ra2, dec2] = i % 2 === 0 ? destination(ra1, dec1, 179 + rnd(), rnd() * 360) : randomPoint(rnd);
      near(angSep(ra1, dec1, ra2, dec2), crossSep(ra1, dec1, ra2, dec2), 1e-9);
    }
  });

  test("is symmetric", () => {
    const rnd = mulberry32(23);
    for (let i = 0; i < 1000; i++) {
      const [ra1, dec1] = randomPoint(rnd);
      const [ra2, dec2] = i % 3 === 0 ? destination(ra1, dec1, rnd() * 1e-6, rnd() * 360) : randomPoint(rnd);
      const ab = angSep(ra1, dec1, ra2, dec2);
      const ba = angSep(ra2, dec2, ra1, dec1);
      assert.ok(Math.abs(ab - ba) <= 1e-12 + 1e-12 * ab, `${ab} vs ${ba}`);
      assert.ok(ab >= 0 && ab <= 180);
    }
  });

  test("satisfies the triangle inequality", () => {
    const rnd = mulberry32(24);
    for (let i = 0; i < 500; i++) {
      const a = randomPoint(rnd);
      const b = randomPoint(rnd);
      const c = randomPoint(rnd);
      const ab = angSep(a[0], a[1], b[0], b[1]);
      const bc = angSep(b[0], b[1], c[0], c[1]);
      const ac = angSep(a[0], a[1], c[0], c[1]);
      assert.ok(ac <= ab + bc + 1e-9);
    }
  });
});

// --- SphericalBox -----------------------------------------------------------------------------

describe("SphericalBox.fromBounds", () => {
  test("plain box, inclusive edges", () => {
    const b = SphericalBox.fromBounds(10, -5, 20, 5);
    assert.equal(b.wraps, false);
    assert.equal(b.fullRa, false);
    assert.ok(b.contains(15, 0));
    assert.ok(b.contains(10, -5));
    assert.ok(b.contains(20, 5));
    assert.ok(b.contains(10, 5));
    assert.ok(!b.contains(9.999999, 0));
    assert.ok(!b.contains(20.000001, 0));
    assert.ok(!b.contains(15, 5.000001));
    assert.ok(!b.contains(15, -5.000001));
    assert.ok(!b.contains(195, 0));
    // RA outside [0, 360) is range-reduced before the test.
    assert.ok(b.contains(375, 0));
    assert.ok(b.contains(-345, 0));
  });

  test("wrap-around box (raMin > raMax)", () => {
    const b = SphericalBox.fromBounds(350, -10, 10, 10);
    assert.equal(b.wraps, true);
    assert.ok(b.contains(355, 0));
    assert.ok(b.contains(5, 0));
    assert.ok(b.contains(0, 0));
    assert.ok(b.contains(350, 10));
    assert.ok(b.contains(10, -10));
    assert.ok(!b.contains(180, 0));
    assert.ok(!b.contains(11, 0));
    assert.ok(!b.contains(349, 0));
    assert.ok(!b.contains(0, 11));
    assert.deepEqual(b.raIntervals(), [
      [350, 360],
      [0, 10],
    ]);
  });

  test("360 degrees or more of RA is the full band", () => {
    for (const [lo, hi] of [
      [0, 360],
      [10, 370],
      [-180, 180],
      [-400, 100],
      [5, 1000],
    ] as const) {
      const b = SphericalBox.fromBounds(lo, -20, hi, 20);
      assert.equal(b.fullRa, true, `[${lo}, ${hi}]`);
      assert.equal(b.wraps, false);
      for (const ra of [0, 1, 90, 180, 270, 359.999]) assert.ok(b.contains(ra, 0), `[${lo}, ${hi}] ra ${ra}`);
      assert.ok(!b.contains(0, 21));
    }
    assert.equal(SphericalBox.full().contains(123, -90), true);
  });

  test("ordered bounds outside [0, 360] are range-reduced", () => {
    const a = SphericalBox.fromBounds(350, 0, 370, 1);
    assert.ok(a.contains(5, 0.5));
    assert.ok(a.contains(355, 0.5));
    assert.ok(a.contains(0, 0.5));
    assert.ok(!a.contains(11, 0.5));
    assert.ok(!a.contains(180, 0.5));
    const b = SphericalBox.fromBounds(-10, 0, 10, 1);
    assert.ok(b.contains(355, 0.5));
    assert.ok(b.contains(5, 0.5));
    assert.ok(!b.contains(180, 0.5));
    const c = SphericalBox.fromBounds(370, 0, 380, 1);
    assert.ok(c.contains(15, 0.5));
    assert.ok(!c.contains(5, 0.5));
    const d = SphericalBox.fromBounds(-20, 0, -10, 1);
    assert.ok(d.contains(345, 0.5));
    assert.ok(!d.contains(15, 0.5));
  });

  test("invalid bounds are BAD_REGION errors", () => {
    assert.throws(() => SphericalBox.fromBounds(0, -91, 10, 0), badRegion);
    assert.throws(() => SphericalBox.fromBounds(0, 0, 10, 91), badRegion);
    assert.throws(() => SphericalBox.fromBounds(0, 95, 10, 96), badRegion);
    assert.throws(() => SphericalBox.fromBounds(0, -96, 10, -95), badRegion);
    assert.throws(() => SphericalBox.fromBounds(0, 10, 10, 5), badRegion);
    // Unordered RA bounds are only allowed inside [0, 360].
    assert.throws(() => SphericalBox.fromBounds(10, 0, -5, 1), badRegion);
    assert.throws(() => SphericalBox.fromBounds(370, 0, 5, 1), badRegion);
    assert.throws(() => SphericalBox.fromBounds(400, 0, 380, 1), badRegion);
    assert.throws(() => SphericalBox.fromBounds(Number.NaN, 0, 5, 1), badRegion);
    assert.throws(() => SphericalBox.fromBounds(0, 0, Number.POSITIVE_INFINITY, 1), badRegion);
    assert.throws(() => SphericalBox.fromBounds(0, Number.NaN, 5, 1), badRegion);
    // The limits themselves are fine.
    assert.doesNotThrow(() => SphericalBox.fromBounds(0, -90, 360, 90));
    assert.doesNotThrow(() => SphericalBox.fromBounds(360, 0, 0, 0));
  });
});

describe("SphericalBox.intersects", () => {
  const box = (a: number, b: number, c: number, d: number) => SphericalBox.fromBounds(a, b, c, d);

  test("plain boxes", () => {
    assert.ok(box(10, 0, 20, 10).intersects(box(15, 5, 25, 15)));
    assert.ok(box(10, 0, 20, 10).intersects(box(12, 2, 18, 8)), "nested");
    assert.ok(box(10, 0, 20, 10).intersects(box(20, 10, 30, 20)), "touching corner");
    assert.ok(!box(10, 0, 20, 10).intersects(box(21, 0, 30, 10)), "disjoint in RA");
    assert.ok(!box(10, 0, 20, 10).intersects(box(10, 11, 20, 20)), "disjoint in dec");
    assert.ok(!box(10, 0, 20, 10).intersects(box(190, 0, 200, 10)));
  });

  test("wrapping boxes", () => {
    const w = box(350, -5, 10, 5);
    assert.ok(w.intersects(box(5, 0, 20, 1)));
    assert.ok(w.intersects(box(340, 0, 355, 1)));
    assert.ok(w.intersects(box(355, 0, 358, 1)));
    assert.ok(w.intersects(box(0, 0, 1, 1)));
    assert.ok(!w.intersects(box(20, 0, 340, 1)));
    assert.ok(!w.intersects(box(11, 0, 349, 1)));
    assert.ok(!w.intersects(box(355, 6, 5, 7)), "both wrap, disjoint in dec");
    assert.ok(w.intersects(box(300, 0, 1, 1)), "both wrap");
    assert.ok(w.intersects(box(-20, -1, -5, 1)), "range-reduced to 340..355");
    assert.ok(SphericalBox.full().intersects(box(123, 1, 124, 2)));
    assert.ok(box(0, 0, 360, 1).intersects(w));
    assert.ok(!box(0, 10, 360, 11).intersects(w));
  });

  test("agrees with point sampling and is symmetric", () => {
    const rnd = mulberry32(31);
    for (let i = 0; i < 300; i++) {
      const a = randomBox(rnd, 120, 60);
      const b = randomBox(rnd, 120, 60);
      assert.equal(a.intersects(b), b.intersects(a));
      // A sampled common point forces intersects() to be true.
      for (let k = 0; k < 50; k++) {
        const ra = rnd() * 360;
        const dec = -90 + rnd() * 180;
        if (a.contains(ra, dec) && b.contains(ra, dec)) {
          assert.ok(a.intersects(b), `${a} and ${b} share (${ra}, ${dec})`);
          break;
        }
      }
    }
  });
});

describe("SphericalBox.distanceTo", () => {
  test("points inside are at distance 0", () => {
    const b = SphericalBox.fromBounds(10, -5, 20, 5);
    assert.equal(b.distanceTo(15, 0), 0);
    assert.equal(b.distanceTo(10, 5), 0);
    assert.equal(SphericalBox.fromBounds(350, -5, 10, 5).distanceTo(0, 0), 0);
  });

  test("points due north or south are at the declination difference", () => {
    const b = SphericalBox.fromBounds(10, -5, 20, 5);
    near(b.distanceTo(15, 30), 25, 1e-12);
    near(b.distanceTo(15, -40), 35, 1e-12);
    near(b.distanceTo(10, 90), 85, 1e-12);
    near(SphericalBox.fromBounds(350, -5, 10, 5).distanceTo(0, 20), 15, 1e-12);
    near(SphericalBox.fromBounds(0, -5, 360, 5).distanceTo(77, -50), 45, 1e-12);
  });

  test("points beside a box at the equator", () => {
    const b = SphericalBox.fromBounds(10, -5, 20, 5);
    // The foot of the perpendicular on the meridian RA 20 is (20, 0).
    near(b.distanceTo(30, 0), 10, 1e-12);
    near(b.distanceTo(0, 0), 10, 1e-12);
    // Nearly opposite the box the corners (20, +-5) beat the edge foot (20, 0), which is 160
    // away: cos d = cos 5 cos 160.
    near(b.distanceTo(180, 0), Math.acos(Math.cos(5 * D2R) * Math.cos(160 * D2R)) / D2R, 1e-10);
    assert.ok(b.distanceTo(180, 0) < 159.5);
    // Box north of the equator: the nearest point is the corner (20, 5); cos d = cos 5 cos 10.
    const n = SphericalBox.fromBounds(10, 5, 20, 15);
    near(n.distanceTo(30, 0), Math.acos(Math.cos(5 * D2R) * Math.cos(10 * D2R)) / D2R, 1e-10);
    // Off the equator the foot is interior to the edge: the distance to the meridian plane of
    // RA 20 is asin(cos 40 sin 10).
    const tall = SphericalBox.fromBounds(10, -10, 20, 60);
    near(tall.distanceTo(30, 40), Math.asin(Math.cos(40 * D2R) * Math.sin(10 * D2R)) / D2R, 1e-10);
    // Wrapping box, from either side.
    const w = SphericalBox.fromBounds(350, -5, 10, 5);
    near(w.distanceTo(20, 0), 10, 1e-12);
    near(w.distanceTo(340, 0), 10, 1e-12);
    near(w.distanceTo(180, 0), Math.acos(Math.cos(5 * D2R) * Math.cos(170 * D2R)) / D2R, 1e-10);
  });

  test("boxes touching a pole", () => {
    const p = SphericalBox.fromBounds(10, 80, 20, 90);
    // The nearest point is the pole itself.
    near(p.distanceTo(200, 85), 5, 1e-12);
    // From (100, 89) the nearest point is not the pole (1 deg away) but a point of the edge RA 20
    // near dec 89.8: the distance to the meridian plane is asin(cos 89 sin 80).
    near(p.distanceTo(100, 89), Math.asin(Math.cos(89 * D2R) * Math.sin(80 * D2R)) / D2R, 1e-10);
    assert.ok(p.distanceTo(100, 89) < 0.99);
    // Straight across the pole the distance is the co-latitude plus the box's.
    near(p.distanceTo(195, 80), 10, 1e-12);
  });

  test("matches a brute-force minimum over the box boundary", () => {
    const rnd = mulberry32(41);
    const N = 2000;
    for (let i = 0; i < 150; i++) {
      const b = randomBox(rnd, i % 5 === 0 ? 300 : 60, 60);
      const [ra, dec] = randomPoint(rnd);
      const got = b.distanceTo(ra, dec);
      if (b.contains(ra, dec)) {
        assert.equal(got, 0);
        continue;
      }
      const [[lo0, hi0], second] = b.raIntervals() as [[number, number], [number, number] | undefined];
      const raSpan = hi0 - lo0 + (second ? second[1] - second[0] : 0);
      let best = Number.POSITIVE_INFINITY;
      let step = 0;
      // Meridian edges, sampled in dec.
      if (!b.fullRa) {
        for (const edge of [b.raMin, b.raMax]) {
          for (let k = 0; k <= N; k++) {
            const d = b.decMin + ((b.decMax - b.decMin) * k) / N;
            best = Math.min(best, crossSep(ra, dec, edge, d));
          }
        }
        step = Math.max(step, (b.decMax - b.decMin) / N);
      }
      // Parallel edges, sampled in RA.
      for (const d of [b.decMin, b.decMax]) {
        for (let k = 0; k <= N; k++) {
          const r = b.raMin + (raSpan * k) / N;
          best = Math.min(best, crossSep(ra, dec, r, d));
        }
        step = Math.max(step, (raSpan / N) * Math.cos(d * D2R));
      }
      assert.ok(got <= best + 1e-9, `${b} from (${ra}, ${dec}): ${got} > sampled ${best}`);
      assert.ok(got >= best - step, `${b} from (${ra}, ${dec}): ${got} < sampled ${best} - ${step}`);
    }
  });

  test("is a lower bound on the separation to any point of the box", () => {
    const rnd = mulberry32(42);
    for (let i = 0; i < 200; i++) {
      const b = randomBox(rnd, 90, 40);
      const [ra, dec] = randomPoint(rnd);
      const d = b.distanceTo(ra, dec);
      for (let k = 0; k < 30; k++) {
        const pr = rnd() * 360;
        const pd = -90 + rnd() * 180;
        if (!b.contains(pr, pd)) continue;
        assert.ok(d <= crossSep(ra, dec, pr, pd) + 1e-9);
      }
    }
  });
});

// --- regions: shared property checks ----------------------------------------------------------

/**
 * For sampled points of a region: the bounding box holds them, and intersectsBox() is true for
 * any box holding one of them. Returns how many sampled points were inside the region.
 */
function checkBoundsProperty(region: Region, points: Array<[number, number]>, rnd: () => number, what: string): number {
  const bbox = region.boundingBox();
  let inside = 0;
  for (const [ra, dec] of points) {
    if (!region.contains(ra, dec)) continue;
    inside++;
    assert.ok(bbox.contains(ra, dec), `${what}: (${ra}, ${dec}) is inside but not in ${bbox}`);
    // A small box around the point, and a random box containing it.
    const tiny = SphericalBox.fromBounds(ra - 1e-6, Math.max(-90, dec - 1e-6), ra + 1e-6, Math.min(90, dec + 1e-6));
    assert.ok(region.intersectsBox(tiny), `${what}: misses ${tiny} around (${ra}, ${dec})`);
    const w = rnd() * 20;
    const lo = Math.max(-90, dec - rnd() * 10);
    const hi = Math.min(90, dec + rnd() * 10);
    const around = SphericalBox.fromBounds(ra - w * rnd(), lo, ra + w * rnd(), hi);
    assert.ok(around.contains(ra, dec));
    assert.ok(region.intersectsBox(around), `${what}: misses ${around} around (${ra}, ${dec})`);
  }
  return inside;
}

/** intersectsBox is never false when a sampled point of the region lies in the box. */
function checkIntersectsRandomBoxes(region: Region, points: Array<[number, number]>, rnd: () => number): void {
  for (let i = 0; i < 20; i++) {
    const box = randomBox(rnd, 120, 60);
    if (region.intersectsBox(box)) continue;
    for (const [ra, dec] of points) {
      assert.ok(!(region.contains(ra, dec) && box.contains(ra, dec)), `(${ra}, ${dec}) in region and in ${box}`);
    }
  }
}

// --- BoxRegion --------------------------------------------------------------------------------

describe("BoxRegion", () => {
  test("delegates to its box", () => {
    const r = BoxRegion.of(350, -10, 10, 10);
    assert.equal(r.kind, "box");
    assert.ok(r.contains(0, 0));
    assert.ok(!r.contains(180, 0));
    assert.ok(r.boundingBox().contains(355, 5));
    assert.ok(r.intersectsBox(SphericalBox.fromBounds(5, 5, 20, 20)));
    assert.ok(!r.intersectsBox(SphericalBox.fromBounds(20, 5, 30, 20)));
    assert.throws(() => BoxRegion.of(0, 10, 5, -10), badRegion);
  });
});

// --- CircleRegion -----------------------------------------------------------------------------

describe("CircleRegion", () => {
  test("contains points just inside and not just outside the boundary", () => {
    const rnd = mulberry32(51);
    for (let i = 0; i < 200; i++) {
      const [ra, dec] = randomPoint(rnd);
      const r = 0.001 + rnd() * 30;
      const c = new CircleRegion(ra, dec, r);
      const bearing = rnd() * 360;
      const [ira, idec] = destination(ra, dec, r * (1 - 1e-9), bearing);
      const [ora, odec] = destination(ra, dec, r * (1 + 1e-9), bearing);
      assert.ok(c.contains(ira, idec), `circle(${ra}, ${dec}, ${r}) inner point`);
      assert.ok(!c.contains(ora, odec), `circle(${ra}, ${dec}, ${r}) outer point`);
      assert.ok(c.contains(ra, dec));
    }
  });

  test("simple cases", () => {
    const c = new CircleRegion(10, 20, 2);
    assert.equal(c.kind, "circle");
    assert.ok(c.contains(10, 21.999999));
    assert.ok(!c.contains(10, 22.000001));
    assert.ok(c.contains(10, 18.000001));
    assert.ok(!c.contains(10, 17.999999));
    assert.ok(!c.contains(190, -20));
    const zero = new CircleRegion(10, 20, 0);
    assert.ok(zero.contains(10, 20));
    assert.ok(!zero.contains(10, 20.000001));
  });

  test("circles containing a pole contain points at every RA", () => {
    const c = new CircleRegion(0, 89, 2);
    for (let ra = 0; ra < 360; ra += 7.5) {
      assert.ok(c.contains(ra, 89.5), `ra ${ra}`);
      assert.ok(c.contains(ra, 90));
    }
    assert.ok(c.contains(180, 89.1), "across the pole: 1.9 deg");
    assert.ok(!c.contains(180, 88.9), "across the pole: 2.1 deg");
    const b = c.boundingBox();
    assert.equal(b.fullRa, true);
    near(b.decMin, 87, 1e-12);
    assert.equal(b.decMax, 90);
    const s = new CircleRegion(123, -89.5, 1);
    for (let ra = 0; ra < 360; ra += 15) assert.ok(s.contains(ra, -89.9));
    assert.equal(s.boundingBox().fullRa, true);
    assert.equal(s.boundingBox().decMin, -90);
  });

  test("circles across RA 0", () => {
    const c = new CircleRegion(359.5, 0, 1);
    assert.ok(c.contains(0.4, 0));
    assert.ok(c.contains(359, 0.5));
    assert.ok(c.contains(360.2, 0));
    assert.ok(!c.contains(0.6, 0));
    assert.ok(!c.contains(1.6, 0));
    assert.ok(!c.contains(180, 0));
    const b = c.boundingBox();
    assert.equal(b.wraps, true);
    assert.ok(b.contains(0.4, 0));
    assert.ok(b.contains(358.6, 0));
    assert.ok(!b.contains(180, 0));
    // A negative centre RA is range-reduced.
    const n = new CircleRegion(-0.5, 0, 1);
    near(n.ra, 359.5, 1e-12);
    assert.ok(n.contains(0.4, 0));
  });

  test("bounding box is the tight declination band and maxAlpha RA range", () => {
    const rnd = mulberry32(52);
    for (let i = 0; i < 200; i++) {
      const r = 0.01 + rnd() * 20;
      const dec = (rnd() * 2 - 1) * (88 - r);
      const ra = rnd() * 360;
      const b = new CircleRegion(ra, dec, r).boundingBox();
      near(b.decMin, dec - r, 1e-12);
      near(b.decMax, dec + r, 1e-12);
      const alpha = circleHalfWidth(r, dec);
      let lo = b.raMin - (ra - alpha);
      lo -= 360 * Math.round(lo / 360);
      let hi = b.raMax - (ra + alpha);
      hi -= 360 * Math.round(hi / 360);
      near(lo, 0, 1e-9, "raMin");
      near(hi, 0, 1e-9, "raMax");
    }
  });

  test("bounding box and intersectsBox hold every sampled point (random circles)", () => {
    const rnd = mulberry32(53);
    for (let i = 0; i < 150; i++) {
      const [ra, dec] = i % 4 === 0 ? [rnd() * 360, (rnd() < 0.5 ? -1 : 1) * (80 + rnd() * 10)] : randomPoint(rnd);
      const r = i % 10 === 0 ? 1e-4 + rnd() * 0.01 : rnd() * (i % 7 === 0 ? 120 : 25);
      const c = new CircleRegion(ra, dec, r);
      const pts: Array<[number, number]> = [];
      for (let k = 0; k < 100; k++) {
        // Half uniform in the disc, half right at the rim, where the box is tight.
        pts.push(
          k % 2 === 0 ? randomPointInCap(rnd, ra, dec, r) : destination(ra, dec, r * (1 - rnd() * 1e-9), rnd() * 360),
        );
      }
      const inside = checkBoundsProperty(c, pts, rnd, `circle(${ra}, ${dec}, ${r})`);
      assert.ok(inside > 40, `only ${inside} points inside`);
      checkIntersectsRandomBoxes(c, pts, rnd);
    }
  });

  test("intersectsBox is exact for simple cases", () => {
    const c = new CircleRegion(0, 0, 1);
    assert.ok(c.intersectsBox(SphericalBox.fromBounds(0.5, -1, 3, 1)));
    assert.ok(!c.intersectsBox(SphericalBox.fromBounds(1.5, -1, 3, 1)));
    assert.ok(!c.intersectsBox(SphericalBox.fromBounds(10, -5, 20, 5)));
    assert.ok(c.intersectsBox(SphericalBox.fromBounds(-3, -3, 3, 3)), "box around the circle");
    assert.ok(c.intersectsBox(SphericalBox.fromBounds(359.9, -0.1, 0.1, 0.1)), "box inside the circle");
    // The corner (1, 1) is at acos(cos^2 1deg) ~ 1.414 deg, so no intersection.
    assert.ok(!c.intersectsBox(SphericalBox.fromBounds(1, 1, 5, 5)));
    assert.ok(new CircleRegion(0, 0, 1.5).intersectsBox(SphericalBox.fromBounds(1, 1, 5, 5)));
  });

  test("large circles (radius > 90)", () => {
    const c = new CircleRegion(0, 0, 120);
    assert.ok(c.contains(119.9, 0));
    assert.ok(!c.contains(120.1, 0));
    assert.ok(c.contains(0, 90));
    assert.ok(!c.contains(180, 0));
    assert.ok(!c.contains(170, 10));
    const b = c.boundingBox();
    assert.equal(b.fullRa, true);
    assert.equal(b.decMin, -90);
    assert.equal(b.decMax, 90);
    assert.ok(!c.intersectsBox(SphericalBox.fromBounds(170, -10, 190, 10)));
    assert.ok(new CircleRegion(0, 0, 180).contains(180, 0));
  });

  test("invalid circles are BAD_REGION errors", () => {
    assert.throws(() => new CircleRegion(0, 0, -1), badRegion);
    assert.throws(() => new CircleRegion(0, 0, 181), badRegion);
    assert.throws(() => new CircleRegion(0, 0, Number.NaN), badRegion);
    assert.throws(() => new CircleRegion(0, 91, 1), badRegion);
    assert.throws(() => new CircleRegion(0, -90.5, 1), badRegion);
    assert.throws(() => new CircleRegion(Number.POSITIVE_INFINITY, 0, 1), badRegion);
  });
});

// --- EllipseRegion ----------------------------------------------------------------------------

/**
 * scisql's s2PtInEllipse written from its definition: orthographic coordinates of the point in
 * the (north, east) frame at the centre are (sin t cos b, sin t sin b) for separation t and
 * bearing b; rotate by the position angle and test against the axes (radians). The point must
 * also be on the centre's hemisphere.
 */
function refInEllipse(
  ra: number,
  dec: number,
  cra: number,
  cdec: number,
  major: number,
  minor: number,
  pa: number,
): { inside: boolean; margin: number } {
  const t = crossSep(cra, cdec, ra, dec) * D2R;
  if (t >= Math.PI / 2) return { inside: false, margin: 1 };
  const b = bearingTo(cra, cdec, ra, dec) * D2R;
  const north = Math.sin(t) * Math.cos(b);
  const east = Math.sin(t) * Math.sin(b);
  const p = pa * D2R;
  const along = north * Math.cos(p) + east * Math.sin(p);
  const across = -north * Math.sin(p) + east * Math.cos(p);
  const M = (major / 3600) * D2R;
  const m = (minor / 3600) * D2R;
  const q = (along * along) / (M * M) + (across * across) / (m * m);
  return { inside: q <= 1, margin: Math.abs(q - 1) };
}

describe("EllipseRegion", () => {
  test("position angle 0: the major axis points north", () => {
    const e = new EllipseRegion(0, 0, 3600, 1800, 0);
    assert.equal(e.kind, "ellipse");
    assert.ok(e.contains(0, 0));
    assert.ok(e.contains(0, 0.99));
    assert.ok(!e.contains(0, 1.01));
    assert.ok(e.contains(0, -0.99));
    assert.ok(!e.contains(0, -1.01));
    assert.ok(e.contains(0.49, 0));
    assert.ok(!e.contains(0.51, 0));
    assert.ok(e.contains(359.51, 0));
    assert.ok(!e.contains(359.49, 0));
  });

  test("position angle 90: the major axis points east", () => {
    const e = new EllipseRegion(0, 0, 3600, 1800, 90);
    assert.ok(e.contains(0.99, 0));
    assert.ok(e.contains(359.01, 0));
    assert.ok(!e.contains(1.01, 0));
    assert.ok(!e.contains(0, 0.6));
    assert.ok(e.contains(0, 0.49));
    // PA -90 and PA 270 are the same ellipse.
    for (const pa of [-90, 270]) {
      const f = new EllipseRegion(0, 0, 3600, 1800, pa);
      assert.ok(f.contains(0.99, 0));
      assert.ok(!f.contains(0, 0.6));
    }
  });

  test("position angle 45 points north-east", () => {
    const e = new EllipseRegion(0, 0, 3600, 1800, 45);
    const [ra1, dec1] = destination(0, 0, 0.99, 45);
    const [ra2, dec2] = destination(0, 0, 0.99, 225);
    const [ra3, dec3] = destination(0, 0, 0.6, 135);
    const [ra4, dec4] = destination(0, 0, 0.6, 315);
    assert.ok(e.contains(ra1, dec1));
    assert.ok(e.contains(ra2, dec2));
    assert.ok(!e.contains(ra3, dec3));
    assert.ok(!e.contains(ra4, dec4));
    assert.ok(!e.contains(0, 0.99), "due north is off the major axis");
  });

  test("off-equator centre", () => {
    const e = new EllipseRegion(100, 60, 3600, 1800, 0);
    assert.ok(e.contains(100, 60.99));
    assert.ok(!e.contains(100, 61.01));
    const [ira, idec] = destination(100, 60, 0.49, 90);
    const [ora, odec] = destination(100, 60, 0.51, 90);
    assert.ok(e.contains(ira, idec));
    assert.ok(!e.contains(ora, odec));
    // An RA offset of 0.51 deg at dec 60 is only ~0.255 deg on the sky.
    assert.ok(e.contains(100.51, 60));
  });

  test("the antipode and the far hemisphere are never inside", () => {
    const e = new EllipseRegion(10, 20, 3600, 1800, 30);
    assert.ok(!e.contains(190, -20));
    const z = new EllipseRegion(0, 0, 36000, 36000, 0);
    assert.ok(!z.contains(180, 0));
    assert.ok(!z.contains(180, 0.05));
    assert.ok(!z.contains(179.9, -0.05));
  });

  test("agrees with an independent bearing/separation formulation", () => {
    const rnd = mulberry32(61);
    let inside = 0;
    let compared = 0;
    for (let i = 0; i < 150; i++) {
      const [cra, cdec] = i % 5 === 0 ? [rnd() * 360, (rnd() < 0.5 ? -1 : 1) * (85 + rnd() * 5)] : randomPoint(rnd);
      const major = rnd() * 36000;
      const minor = rnd() * major;
      const pa = rnd() * 720 - 360;
      const e = new EllipseRegion(cra, cdec, major, minor, pa);
      for (let k = 0; k < 40; k++) {
        const [ra, dec] = destination(cra, cdec, rnd() * (major / 3600) * 1.3, rnd() * 360);
        const ref = refInEllipse(ra, dec, cra, cdec, major, minor, pa);
        if (ref.margin < 1e-8) continue;
        compared++;
        if (ref.inside) inside++;
        assert.equal(
          e.contains(ra, dec),
          ref.inside,
          `ellipse(${cra}, ${cdec}, ${major}, ${minor}, ${pa}) at (${ra}, ${dec})`,
        );
      }
    }
    assert.ok(compared > 5000 && inside > 1000, `compared ${compared}, inside ${inside}`);
  });

  test("bounding box holds the tips of the major axis", () => {
    // The test bounds sin(distance) by the semi-major axis, so the ellipse reaches
    // asin(10 deg in rad) = 10.0513 deg along its major axis: (0, 10.03) is inside.
    const e = new EllipseRegion(0, 0, 36000, 18000, 0);
    assert.ok(Math.sin(10.03 * D2R) < 10 * D2R);
    assert.ok(e.contains(0, 10.03));
    assert.ok(!e.contains(0, 10.06));
    assert.ok(e.boundingBox().contains(0, 10.03));
    assert.ok(e.intersectsBox(SphericalBox.fromBounds(-1, 10.02, 1, 10.04)));
    const f = new EllipseRegion(0, 0, 36000, 18000, 90);
    assert.ok(f.contains(10.03, 0));
    assert.ok(f.boundingBox().contains(10.03, 0));
    assert.ok(f.intersectsBox(SphericalBox.fromBounds(10.02, -1, 10.04, 1)));
  });

  test("bounding box and intersectsBox hold every sampled point (random ellipses)", () => {
    const rnd = mulberry32(62);
    for (let i = 0; i < 150; i++) {
      const [cra, cdec] = i % 4 === 0 ? [rnd() * 360, (rnd() < 0.5 ? -1 : 1) * (80 + rnd() * 10)] : randomPoint(rnd);
      const major = 1 + rnd() * 35999;
      const minor = rnd() * major;
      const pa = rnd() * 360;
      const e = new EllipseRegion(cra, cdec, major, minor, pa);
      const M = (major / 3600) * D2R;
      const m = (minor / 3600) * D2R;
      const pts: Array<[number, number]> = [];
      for (let k = 0; k < 100; k++) {
        // A point of the projected ellipse (half of them on the rim), mapped back to the sphere.
        const phi = rnd() * 2 * Math.PI;
        const s = k % 2 === 0 ? Math.sqrt(rnd()) : 1 - rnd() * 1e-9;
        const along = s * M * Math.cos(phi);
        const across = s * m * Math.sin(phi);
        const t = Math.asin(Math.hypot(along, across)) / D2R;
        const bearing = pa + Math.atan2(across, along) / D2R;
        pts.push(destination(cra, cdec, t, bearing));
      }
      const inside = checkBoundsProperty(e, pts, rnd, `ellipse(${cra}, ${cdec}, ${major}, ${minor}, ${pa})`);
      assert.ok(inside > 40, `only ${inside} points inside`);
      checkIntersectsRandomBoxes(e, pts, rnd);
    }
  });

  test("invalid ellipses are BAD_REGION errors", () => {
    assert.throws(() => new EllipseRegion(0, 0, 1800, 3600, 0), badRegion, "minor > major");
    assert.throws(() => new EllipseRegion(0, 0, 36001, 10, 0), badRegion, "major > 10 deg");
    assert.throws(() => new EllipseRegion(0, 0, 3600, -1, 0), badRegion, "negative minor");
    assert.throws(() => new EllipseRegion(0, 0, Number.NaN, 1, 0), badRegion);
    assert.throws(() => new EllipseRegion(0, 0, 3600, 1800, Number.POSITIVE_INFINITY), badRegion);
    assert.throws(() => new EllipseRegion(0, 91, 3600, 1800, 0), badRegion);
    assert.doesNotThrow(() => new EllipseRegion(0, 0, 36000, 36000, 0));
    assert.doesNotThrow(() => new EllipseRegion(0, 90, 3600, 0, 0));
  });
});

// --- ConvexPolygonRegion ----------------------------------------------------------------------

/**
 * Independent point-in-convex-polygon test: gnomonic projection onto the plane tangent at `h`
 * maps great circles to straight lines, so the spherical test becomes a 2-D one. Requires the
 * polygon to lie within 90 degrees of h. Returns the smallest normalised edge distance too, so
 * callers can skip points too close to an edge to be decided reliably.
 */
function refInPolygon(coords: number[], h: V3, ra: number, dec: number): { inside: boolean; margin: number } {
  const e1 = vunit(Math.abs(h[2]) < 0.9 ? vcross([0, 0, 1], h) : vcross([1, 0, 0], h));
  const e2 = vcross(h, e1);
  const project = (r: number, d: number): [number, number] | undefined => {
    const v = vec(r, d);
    const w = vdot(v, h);
    if (w <= 1e-6) return undefined;
    return [vdot(v, e1) / w, vdot(v, e2) / w];
  };
  const p = project(ra, dec);
  if (!p) return { inside: false, margin: 1 };
  const pts: Array<[number, number]> = [];
  for (let i = 0; i < coords.length; i += 2) {
    const q = project(coords[i]!, coords[i + 1]!);
    if (!q) throw new Error("polygon not within 90 degrees of the projection centre");
    pts.push(q);
  }
  let sign = 0;
  let margin = Number.POSITIVE_INFINITY;
  let inside = true;
  for (let i = 0; i < pts.length; i++) {
    const [ax, ay] = pts[i]!;
    const [bx, by] = pts[(i + 1) % pts.length]!;
    const ex = bx - ax;
    const ey = by - ay;
    const c = (ex * (p[1] - ay) - ey * (p[0] - ax)) / Math.hypot(ex, ey) / (1 + Math.hypot(p[0], p[1]));
    margin = Math.min(margin, Math.abs(c));
    const s = Math.sign(c);
    if (s === 0) continue;
    if (sign === 0) sign = s;
    else if (s !== sign) inside = false;
  }
  return { inside, margin };
}

/** Vertices at sorted random bearings on the circle of radius rho around a centre. */
function randomConvexPolygon(
  rnd: () => number,
  cra: number,
  cdec: number,
  rho: number,
  n: number,
  clustered: boolean,
): number[] {
  const bearings: number[] = [];
  const start = rnd() * 360;
  for (let i = 0; i < n; i++)
    bearings.push(i === 0 ? start : start + (clustered && rnd() < 0.7 ? rnd() * 40 : rnd() * 360));
  bearings.sort((a, b) => a - b);
  const coords: number[] = [];
  for (const b of bearings) coords.push(...destination(cra, cdec, rho, b));
  return coords;
}

function reversed(coords: number[]): number[] {
  const out: number[] = [];
  for (let i = coords.length - 2; i >= 0; i -= 2) out.push(coords[i]!, coords[i + 1]!);
  return out;
}

describe("ConvexPolygonRegion", () => {
  test("triangle in either vertex order", () => {
    const ccw = [0, 0, 10, 0, 5, 10];
    for (const coords of [ccw, reversed(ccw), [10, 0, 5, 10, 0, 0]]) {
      const p = new ConvexPolygonRegion(coords);
      assert.equal(p.kind, "polygon");
      assert.ok(p.contains(5, 3), `${coords}`);
      assert.ok(p.contains(5, 9));
      assert.ok(p.contains(1, 0.5));
      assert.ok(!p.contains(5, -1));
      assert.ok(!p.contains(11, 1));
      assert.ok(!p.contains(5, 11));
      assert.ok(!p.contains(185, -3), "antipode of an interior point");
      // Vertices are on the boundary, which is inside.
      assert.ok(p.contains(0, 0));
    }
  });

  test("square: edges are great circles", () => {
    const sq = [0, 0, 10, 0, 10, 10, 0, 10];
    // The great circle through (0, 10) and (10, 10) peaks at dec atan(tan 10 / cos 5) = 10.038 at RA 5.
    const peak = Math.atan(Math.tan(10 * D2R) / Math.cos(5 * D2R)) / D2R;
    assert.ok(peak > 10.03 && peak < 10.05);
    for (const coords of [sq, reversed(sq)]) {
      const p = new ConvexPolygonRegion(coords);
      assert.ok(p.contains(5, 5));
      assert.ok(p.contains(0.001, 0.001));
      assert.ok(p.contains(9.999, 9.999));
      assert.ok(p.contains(5, 10.03), "inside the bulge of the top edge");
      assert.ok(!p.contains(5, 10.05), "beyond the bulge");
      assert.ok(!p.contains(5, -0.001), "the bottom edge is the equator");
      assert.ok(!p.contains(10.001, 5));
      assert.ok(!p.contains(-0.001, 5));
    }
  });

  test("polygon across RA 0", () => {
    const coords = [355, -5, 5, -5, 5, 5, 355, 5];
    for (const c of [coords, reversed(coords)]) {
      const p = new ConvexPolygonRegion(c);
      assert.ok(p.contains(0, 0));
      assert.ok(p.contains(358, 0));
      assert.ok(p.contains(2, 0));
      assert.ok(p.contains(360, 0));
      assert.ok(!p.contains(180, 0));
      assert.ok(!p.contains(10, 0));
      assert.ok(!p.contains(350, 0));
      const b = p.boundingBox();
      assert.ok(b.contains(0, 0) && b.contains(355, 4.9) && b.contains(4.9, -4.9));
      assert.ok(p.intersectsBox(SphericalBox.fromBounds(359, -1, 1, 1)));
      assert.ok(!p.intersectsBox(SphericalBox.fromBounds(100, -1, 200, 1)));
    }
  });

  test("polygon around a pole", () => {
    const coords = [0, 80, 90, 80, 180, 80, 270, 80];
    const p = new ConvexPolygonRegion(coords);
    for (let ra = 0; ra < 360; ra += 10) assert.ok(p.contains(ra, 85));
    assert.ok(p.contains(0, 90));
    assert.ok(!p.contains(45, 79));
    const b = p.boundingBox();
    assert.ok(b.contains(45, 81) && b.contains(200, 89));
  });

  test("agrees with a gnomonic-projection point-in-polygon test", () => {
    const rnd = mulberry32(71);
    let compared = 0;
    let inside = 0;
    let made = 0;
    for (let i = 0; i < 200; i++) {
      const [cra, cdec] = randomPoint(rnd);
      const rho = 0.01 + rnd() * 60;
      const n = 3 + Math.floor(rnd() * 6);
      const coords = randomConvexPolygon(rnd, cra, cdec, rho, n, i % 2 === 0);
      let poly: ConvexPolygonRegion;
      try {
        poly = new ConvexPolygonRegion(coords);
      } catch {
        continue; // nearly coincident random vertices
      }
      made++;
      const rev = new ConvexPolygonRegion(reversed(coords));
      const h = vec(cra, cdec);
      for (let k = 0; k < 60; k++) {
        const [ra, dec] = randomPointInCap(rnd, cra, cdec, rho * 1.2);
        const ref = refInPolygon(coords, h, ra, dec);
        if (ref.margin < 1e-9) continue;
        compared++;
        if (ref.inside) inside++;
        assert.equal(poly.contains(ra, dec), ref.inside, `polygon ${coords} at (${ra}, ${dec})`);
        assert.equal(rev.contains(ra, dec), ref.inside, `reversed polygon ${coords} at (${ra}, ${dec})`);
      }
    }
    assert.ok(made > 180, `only ${made} polygons built`);
    assert.ok(compared > 8000 && inside > 2000, `compared ${compared}, inside ${inside}`);
  });

  test("bounding box and intersectsBox hold every sampled point (random polygons)", () => {
    const rnd = mulberry32(72);
    let made = 0;
    for (let i = 0; i < 250; i++) {
      const [cra, cdec] = i % 5 === 0 ? [rnd() * 360, (rnd() < 0.5 ? -1 : 1) * (75 + rnd() * 15)] : randomPoint(rnd);
      // Up to nearly a hemisphere, with vertices bunched on one side for some.
      const rho = 0.01 + rnd() * (i % 3 === 0 ? 89 : 20);
      const n = 3 + Math.floor(rnd() * 6);
      const coords = randomConvexPolygon(rnd, cra, cdec, rho, n, i % 2 === 0);
      let poly: ConvexPolygonRegion;
      try {
        poly = new ConvexPolygonRegion(coords);
      } catch {
        continue;
      }
      made++;
      const pts: Array<[number, number]> = [];
      for (let k = 0; k < 120; k++) pts.push(randomPointInCap(rnd, cra, cdec, rho));
      // Vertices and points just inside them (towards the centre) are inside too.
      for (let v = 0; v < coords.length; v += 2) {
        const vr = coords[v]!;
        const vd = coords[v + 1]!;
        pts.push([vr, vd]);
        const b = bearingTo(vr, vd, cra, cdec);
        pts.push(destination(vr, vd, rho * 1e-6, b));
      }
      checkBoundsProperty(poly, pts, rnd, `polygon ${coords}`);
      checkIntersectsRandomBoxes(poly, pts, rnd);
    }
    assert.ok(made > 220, `only ${made} polygons built`);
  });

  test("a large polygon with bunched vertices: bounding box still holds it", () => {
    // Vertices far from their centroid: the cap around the vertex centroid is wider than a
    // hemisphere here (about 118 deg), and such a cap need not hold the polygon. Its bounding
    // box would stop at dec -47.7, yet the polygon reaches below dec -54 near RA 354.
    const coords = [
      15.9157, 56.4392, 16.8859, 53.5871, 20.6821, -22.8159, 219.7174, -19.5886, 221.1725, 41.9859, 221.2417, 42.4181,
      243.5704, 75.6659,
    ];
    const p = new ConvexPolygonRegion(coords);
    // Every vertex and the probe are within 90 deg of (300, 1), so the gnomonic test applies.
    const h = vec(300, 1);
    for (const [ra, dec] of [
      [354.44, -51],
      [354.44, -54],
    ] as const) {
      const ref = refInPolygon(coords, h, ra, dec);
      assert.ok(ref.inside && ref.margin > 1e-6, `(${ra}, ${dec}) is inside the polygon`);
      assert.ok(p.contains(ra, dec));
      assert.ok(p.boundingBox().contains(ra, dec), `${p.boundingBox()} holds (${ra}, ${dec})`);
      assert.ok(p.intersectsBox(SphericalBox.fromBounds(ra - 0.5, dec - 0.5, ra + 0.5, dec + 0.5)));
    }
    assert.ok(!refInPolygon(coords, h, 354.44, -56).inside);
  });

  test("invalid polygons are BAD_REGION errors", () => {
    assert.throws(() => new ConvexPolygonRegion([0, 0, 10, 0]), badRegion, "two vertices");
    assert.throws(() => new ConvexPolygonRegion([]), badRegion, "no vertices");
    assert.throws(() => new ConvexPolygonRegion([0, 0, 10, 0, 5]), badRegion, "odd coordinate count");
    assert.throws(() => new ConvexPolygonRegion([0, 0, 10, 10, 10, 0, 0, 10]), badRegion, "bowtie");
    assert.throws(() => new ConvexPolygonRegion([0, 0, 10, 0, 3, 3, 0, 10]), badRegion, "concave quadrilateral");
    assert.throws(() => new ConvexPolygonRegion([0, 0, 3, 3, 10, 0, 0, 10]), badRegion, "concave, other order");
    assert.throws(() => new ConvexPolygonRegion([0, 0, 10, 0, 10, 0, 0, 10]), badRegion, "repeated adjacent vertex");
    assert.throws(() => new ConvexPolygonRegion([0, 0, 10, 0, 0, 0, 0, 10]), badRegion, "repeated vertex");
    assert.throws(() => new ConvexPolygonRegion([0, 0, 10, 0, 0, 10, 0, 0]), badRegion, "closing vertex repeated");
    assert.throws(() => new ConvexPolygonRegion([0, 0, 5, 0, 10, 0, 5, 5]), badRegion, "collinear on the equator");
    assert.throws(() => new ConvexPolygonRegion([20, 0, 20, 5, 20, 10, 25, 5]), badRegion, "collinear on a meridian");
    assert.throws(() => new ConvexPolygonRegion([0, 0, 180, 0, 90, 10]), badRegion, "antipodal vertices");
    // A pentagram: the vertices of a convex pentagon visited in star order.
    const star: number[] = [];
    for (const k of [0, 2, 4, 1, 3]) star.push(...destination(0, 0, 5, k * 72));
    assert.throws(() => new ConvexPolygonRegion(star), badRegion, "pentagram");
    assert.throws(() => new ConvexPolygonRegion([0, 0, 10, 0, 5, 91]), badRegion, "dec out of range");
    assert.throws(() => new ConvexPolygonRegion([0, 0, Number.NaN, 0, 5, 5]), badRegion, "NaN");
  });
});
