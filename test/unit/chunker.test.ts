/**
 * Unit tests for the Qserv chunker in src/sphere/chunker.ts.
 *
 * The partitioning formulas are re-implemented here from the Qserv specification (RefChunker)
 * in plain code, and the chunker is checked against them; overlap and region lookups are
 * checked against brute force.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { prng as mulberry32 } from "../../bench/generate.js";
import { QservError } from "../../src/common/errors.js";
import {
  BoxRegion,
  Chunker,
  type ChunkLocation,
  CircleRegion,
  ConvexPolygonRegion,
  EllipseRegion,
  type Region,
  type SphericalBox,
  segments,
} from "../../src/sphere/index.js";
import { destination, wrapRa } from "../support/sphereRef.js";

const D2R = Math.PI / 180;

function randomPoint(rnd: () => number): [number, number] {
  return [rnd() * 360, Math.asin(2 * rnd() - 1) / D2R];
}

function randomPointInCap(rnd: () => number, ra: number, dec: number, r: number): [number, number] {
  const t = Math.acos(1 - rnd() * (1 - Math.cos(r * D2R))) / D2R;
  return destination(ra, dec, t, rnd() * 360);
}

// --- the specification, re-implemented --------------------------------------------------------

function refSegments(latMin: number, latMax: number, w: number): number {
  const lat = Math.max(Math.abs(latMin), Math.abs(latMax));
  if (lat > 90 - 1 / 3600 || w >= 180) return 1;
  const latR = lat * D2R;
  const x = Math.cos(w * D2R) - Math.sin(latR) * Math.sin(latR);
  const u = Math.cos(latR) * Math.cos(latR);
  const y = Math.sqrt(Math.abs(u * u - x * x));
  return Math.floor(360 / Math.abs((Math.atan2(y, x) * 180) / Math.PI));
}

/** Half-width in RA of a circle of radius r centred at latitude c (180 when it nears a pole). */
function refAlpha(r: number, c: number): number {
  if (r === 0) return 0;
  if (Math.abs(c) + r > 90 - 1 / 3600) return 180;
  return Math.asin(Math.sin(r * D2R) / Math.cos(c * D2R)) / D2R;
}

class RefChunker {
  readonly H: number;
  readonly h: number;
  readonly nc: number[] = [];
  readonly nsc: number[] = [];
  readonly scw: number[] = [];
  readonly alpha: number[] = [];
  readonly M: number;

  constructor(
    readonly S: number,
    readonly T: number,
    readonly overlap: number,
  ) {
    this.H = 180 / S;
    this.h = 180 / (S * T);
    for (let i = 0; i < S; i++) this.nc.push(refSegments(i * this.H - 90, (i + 1) * this.H - 90, this.H));
    for (let ss = 0; ss < S * T; ss++) {
      const i = Math.floor(ss / T);
      const latMin = ss * this.h - 90;
      const latMax = (ss + 1) * this.h - 90;
      this.nsc.push(Math.floor(refSegments(latMin, latMax, this.h) / this.nc[i]!));
      this.scw.push(360 / (this.nsc[ss]! * this.nc[i]!));
      this.alpha.push(refAlpha(overlap, Math.max(Math.abs(latMin), Math.abs(latMax))));
    }
    this.M = Math.max(...this.nsc);
  }

  get totalChunks(): number {
    return this.nc.reduce((a, b) => a + b, 0);
  }

  subStripe(dec: number): number {
    return Math.min(Math.floor((dec + 90) / this.h), this.S * this.T - 1);
  }

  /** Chunk and sub-chunk ids of sub-chunk `sc` (0-based across the whole sub-stripe `ss`). */
  ids(ss: number, sc: number): { chunkId: number; subChunkId: number } {
    const stripe = Math.floor(ss / this.T);
    const chunk = Math.floor(sc / this.nsc[ss]!);
    return {
      chunkId: stripe * 2 * this.S + chunk,
      subChunkId: (ss - stripe * this.T) * this.M + (sc - chunk * this.nsc[ss]!),
    };
  }

  locate(ra: number, dec: number): { chunkId: number; subChunkId: number } {
    const ss = this.subStripe(dec);
    const stripe = Math.floor(ss / this.T);
    const sc = Math.min(Math.floor(ra / this.scw[ss]!), this.nc[stripe]! * this.nsc[ss]! - 1);
    return this.ids(ss, sc);
  }

  numSubChunks(ss: number): number {
    return this.nc[Math.floor(ss / this.T)]! * this.nsc[ss]!;
  }
}

const QSERV = { numStripes: 85, numSubStripesPerStripe: 12, overlap: 0.01667 };

function badConfig(e: unknown): boolean {
  return e instanceof QservError && e.code === "BAD_CONFIG";
}

const key = (l: { chunkId: number; subChunkId: number }) => `${l.chunkId}:${l.subChunkId}`;

// --- construction and ids ---------------------------------------------------------------------

describe("segments", () => {
  test("matches the specification", () => {
    const rnd = mulberry32(1);
    for (let i = 0; i < 2000; i++) {
      const a = -90 + rnd() * 180;
      const b = Math.min(90, a + rnd() * 10);
      const w = 1e-3 + rnd() * (i % 10 === 0 ? 200 : 5);
      assert.equal(segments(a, b, w), refSegments(a, b, w), `segments(${a}, ${b}, ${w})`);
    }
    assert.equal(segments(89.9999, 90, 1), 1);
    assert.equal(segments(-10, 10, 180), 1);
    // On the equator, width w gives floor(360 / w) segments.
    assert.equal(segments(0, 0, 7), 51);
    // Elsewhere the RA step d between two points at latitude lat that are w apart satisfies
    // cos w = sin^2 lat + cos^2 lat cos d: at lat 1, w 1 that is d = 1.00015 deg, 359 segments;
    // at lat 2, w 2, d = 2.0012 deg, 179 segments; at lat 60, w 1, d = 2.0003 deg, 179 segments.
    assert.equal(segments(-1, 0, 1), 359);
    assert.equal(segments(0, 2, 2), 179);
    assert.equal(segments(59, 60, 1), 179);
  });
});

describe("Chunker construction", () => {
  test("Qserv's default partitioning (85 stripes, 12 sub-stripes)", () => {
    const ch = new Chunker(QSERV);
    const ref = new RefChunker(85, 12, QSERV.overlap);
    assert.equal(ch.totalChunks, 8983);
    assert.equal(ref.totalChunks, 8983);
    assert.equal(ch.maxSubChunksPerChunk, 69);
    assert.equal(ref.M, 69);
    assert.equal(ch.locate(0, 0).chunkId, 7140);
    assert.equal(ref.locate(0, 0).chunkId, 7140);
    assert.equal(ch.numStripes, 85);
    assert.equal(ch.numSubStripes, 85 * 12);
    assert.equal(ch.stripeHeight, 180 / 85);
    assert.equal(ch.subStripeHeight, 180 / 1020);
    assert.deepEqual([...ch.numChunksPerStripe], ref.nc);
    assert.deepEqual([...ch.numSubChunksPerChunk], ref.nsc);
    for (let ss = 0; ss < ref.scw.length; ss++) {
      assert.ok(Math.abs(ch.subChunkWidth[ss]! - ref.scw[ss]!) <= 1e-12, `sub-chunk width ${ss}`);
      assert.ok(Math.abs(ch.alpha[ss]! - ref.alpha[ss]!) <= 1e-9, `alpha ${ss}`);
      // The overlap margin in RA is never narrower than the overlap itself.
      assert.ok(ch.alpha[ss]! >= QSERV.overlap);
    }
    // Polar stripes hold a single chunk.
    assert.equal(ch.numChunksPerStripe[0], 1);
    assert.equal(ch.numChunksPerStripe[84], 1);
  });

  test("other partitionings match the specification", () => {
    for (const [S, T, overlap] of [
      [18, 5, 1],
      [340, 3, 0.01],
      [1, 1, 0],
      [2, 2, 5],
      [60, 7, 0.1],
    ] as const) {
      const ch = new Chunker({ numStripes: S, numSubStripesPerStripe: T, overlap });
      const ref = new RefChunker(S, T, overlap);
      assert.equal(ch.totalChunks, ref.totalChunks, `${S}/${T}`);
      assert.equal(ch.maxSubChunksPerChunk, ref.M, `${S}/${T}`);
      assert.deepEqual([...ch.numChunksPerStripe], ref.nc);
      assert.deepEqual([...ch.numSubChunksPerChunk], ref.nsc);
      const rnd = mulberry32(S * 100 + T);
      for (let i = 0; i < 500; i++) {
        const [ra, dec] = randomPoint(rnd);
        assert.deepEqual(ch.locate(ra, dec), ref.locate(ra, dec), `${S}/${T} (${ra}, ${dec})`);
      }
    }
  });

  test("invalid parameters are BAD_CONFIG errors", () => {
    assert.throws(() => new Chunker({ numStripes: 0, numSubStripesPerStripe: 1, overlap: 0 }), badConfig);
    assert.throws(() => new Chunker({ numStripes: 10, numSubStripesPerStripe: 0, overlap: 0 }), badConfig);
    assert.throws(() => new Chunker({ numStripes: 8.5, numSubStripesPerStripe: 1, overlap: 0 }), badConfig);
    assert.throws(() => new Chunker({ numStripes: 10, numSubStripesPerStripe: 2.5, overlap: 0 }), badConfig);
    assert.throws(() => new Chunker({ numStripes: 10, numSubStripesPerStripe: 1, overlap: -1 }), badConfig);
    assert.throws(() => new Chunker({ numStripes: 10, numSubStripesPerStripe: 1, overlap: Number.NaN }), badConfig);
    // The overlap may not exceed the sub-stripe height (180 / 1020 = 0.176 deg here).
    assert.throws(() => new Chunker({ numStripes: 85, numSubStripesPerStripe: 12, overlap: 0.2 }), badConfig);
  });
});

describe("Chunker ids", () => {
  const ch = new Chunker(QSERV);
  const ref = new RefChunker(85, 12, QSERV.overlap);

  test("allChunks lists totalChunks distinct valid ids in increasing order", () => {
    const all = ch.allChunks();
    assert.equal(all.length, 8983);
    assert.equal(new Set(all).size, all.length);
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]! < all[i]!);
    for (const id of all) assert.ok(ch.isValidChunkId(id), `${id}`);
    // The ids are exactly stripe * 2 * S + chunk for chunk < nc[stripe].
    const expected: number[] = [];
    for (let s = 0; s < 85; s++) for (let c = 0; c < ref.nc[s]!; c++) expected.push(s * 170 + c);
    assert.deepEqual(all, expected);
  });

  test("isValidChunkId rejects everything else", () => {
    assert.equal(ch.isValidChunkId(-1), false);
    assert.equal(ch.isValidChunkId(1.5), false);
    assert.equal(ch.isValidChunkId(Number.NaN), false);
    assert.equal(ch.isValidChunkId(1), false, "stripe 0 has one chunk");
    assert.equal(ch.isValidChunkId(85 * 170), false, "past the last stripe");
    const valid = new Set(ch.allChunks());
    for (let id = 0; id < 85 * 170; id++) assert.equal(ch.isValidChunkId(id), valid.has(id), `${id}`);
  });

  test("subChunksOf lists the sub-chunks of each sub-stripe of the chunk", () => {
    for (const chunkId of [0, 7140, 7141, 8499, 85 * 170 - 170]) {
      const stripe = Math.floor(chunkId / 170);
      const expected: number[] = [];
      for (let j = 0; j < 12; j++) for (let k = 0; k < ref.nsc[stripe * 12 + j]!; k++) expected.push(j * ref.M + k);
      assert.deepEqual(ch.subChunksOf(chunkId), expected, `${chunkId}`);
    }
  });
});

// --- locate -----------------------------------------------------------------------------------

describe("Chunker.locate", () => {
  const ch = new Chunker(QSERV);
  const ref = new RefChunker(85, 12, QSERV.overlap);

  test("agrees with the specification for random positions", () => {
    const rnd = mulberry32(2);
    for (let i = 0; i < 5000; i++) {
      const [ra, dec] = randomPoint(rnd);
      assert.deepEqual(ch.locate(ra, dec), ref.locate(ra, dec), `(${ra}, ${dec})`);
    }
  });

  test("agrees with the specification on stripe and chunk edges", () => {
    const rnd = mulberry32(3);
    for (let i = 0; i < 2000; i++) {
      const ss = Math.floor(rnd() * 1020);
      const dec = Math.min(90, ss * ref.h - 90 + (rnd() < 0.5 ? 0 : ref.h * (1 - 1e-9)));
      const sc = Math.floor(rnd() * ref.numSubChunks(ref.subStripe(dec)));
      const ra = Math.min(sc * ref.scw[ref.subStripe(dec)]! + (rnd() < 0.5 ? 1e-9 : -1e-9), 359.9999999);
      assert.deepEqual(ch.locate(Math.max(0, ra), dec), ref.locate(Math.max(0, ra), dec), `(${ra}, ${dec})`);
    }
  });

  test("poles and RA just below 360 locate to valid chunks", () => {
    const below360 = 360 - 2 ** -44; // the largest double below 360
    assert.ok(below360 < 360);
    for (const ra of [0, 45, 180, 359.999999, below360]) {
      for (const dec of [90, -90, 89.99999, -89.99999]) {
        const loc = ch.locate(ra, dec);
        assert.ok(ch.isValidChunkId(loc.chunkId), `(${ra}, ${dec}) -> ${loc.chunkId}`);
        assert.deepEqual(loc, ref.locate(ra, dec));
        assert.ok(ch.subChunksOf(loc.chunkId).includes(loc.subChunkId));
      }
    }
    assert.equal(ch.locate(123, 90).chunkId, 84 * 170, "north polar cap");
    assert.equal(ch.locate(123, -90).chunkId, 0, "south polar cap");
    for (const dec of [-60, -0.1, 0, 0.1, 45, 75]) {
      const loc = ch.locate(below360, dec);
      const stripe = Math.floor(loc.chunkId / 170);
      assert.equal(loc.chunkId, stripe * 170 + ref.nc[stripe]! - 1, `last chunk of the stripe at dec ${dec}`);
      assert.ok(ch.chunkBounds(loc.chunkId).contains(below360, dec));
      assert.ok(ch.subChunkBounds(loc.chunkId, loc.subChunkId).contains(below360, dec));
    }
  });

  test("located positions lie inside their chunk and sub-chunk bounds", () => {
    const rnd = mulberry32(4);
    for (let i = 0; i < 3000; i++) {
      const [ra, dec] = i < 100 ? [rnd() * 360, (i % 2 === 0 ? 1 : -1) * (89.5 + rnd() * 0.5)] : randomPoint(rnd);
      const loc = ch.locate(ra, dec);
      assert.ok(ch.isValidChunkId(loc.chunkId));
      assert.ok(ch.subChunksOf(loc.chunkId).includes(loc.subChunkId), `(${ra}, ${dec})`);
      const cb = ch.chunkBounds(loc.chunkId);
      const sb = ch.subChunkBounds(loc.chunkId, loc.subChunkId);
      assert.ok(cb.contains(ra, dec), `(${ra}, ${dec}) not in chunk ${loc.chunkId} ${cb}`);
      assert.ok(sb.contains(ra, dec), `(${ra}, ${dec}) not in sub-chunk ${key(loc)} ${sb}`);
      // The sub-chunk lies within its chunk (up to rounding of the computed edges).
      const eps = 1e-9;
      assert.ok(sb.decMin >= cb.decMin - eps && sb.decMax <= cb.decMax + eps, `${sb} within ${cb}`);
      if (!cb.fullRa) assert.ok(sb.raMin >= cb.raMin - eps && sb.raMax <= cb.raMax + eps, `${sb} within ${cb}`);
      // Chunks are about as wide as they are tall (except the polar caps).
      if (!cb.fullRa) assert.ok(cb.raMax - cb.raMin >= 180 / 85 - 1e-9);
    }
  });

  test("chunk bounds follow the stripe/chunk layout", () => {
    const b = ch.chunkBounds(7140);
    assert.ok(Math.abs(b.decMin - (42 * 180) / 85 + 90) < 1e-12);
    assert.ok(Math.abs(b.decMax - (43 * 180) / 85 + 90) < 1e-12);
    assert.equal(b.raMin, 0);
    assert.ok(Math.abs(b.raMax - 360 / ref.nc[42]!) < 1e-12);
    const polar = ch.chunkBounds(0);
    assert.equal(polar.decMin, -90);
    assert.equal(polar.fullRa, true);
  });
});

// --- overlap ----------------------------------------------------------------------------------

/** Whether a point lies within a sub-chunk box grown by `r` in dec and by `alpha` in RA. */
function inGrownBox(box: SphericalBox, alpha: number, r: number, ra: number, dec: number): boolean {
  const eps = 1e-9;
  if (dec < box.decMin - r - eps || dec > box.decMax + r + eps) return false;
  if (box.fullRa || alpha >= 180) return true;
  // RA distance from the interval [raMin, raMax], going either way round.
  const lo = wrapRa(ra - box.raMin);
  const width = box.raMax - box.raMin;
  if (lo <= width) return true;
  const past = lo - width; // east of raMax
  const before = 360 - lo; // west of raMin
  return Math.min(past, before) <= alpha + eps;
}

describe("Chunker.locateAll (overlap)", () => {
  const ch = new Chunker(QSERV);
  const ref = new RefChunker(85, 12, QSERV.overlap);
  const r = QSERV.overlap;

  /**
   * Check one position: home first, overlap entries valid and justified, and every sub-chunk
   * within angular distance r of the point (searched in the home and adjacent sub-stripes)
   * listed.
   */
  function checkPosition(ra: number, dec: number, out: ChunkLocation[]): void {
    ch.locateAll(ra, dec, out);
    const home = ch.locate(ra, dec);
    assert.ok(out.length >= 1);
    assert.deepEqual(out[0], { ...home, overlap: false }, `home of (${ra}, ${dec})`);
    const listed = new Set<string>();
    for (const [i, loc] of out.entries()) {
      assert.equal(loc.overlap, i > 0);
      const k = key(loc);
      assert.ok(!listed.has(k), `(${ra}, ${dec}): ${k} listed twice`);
      listed.add(k);
      if (i === 0) continue;
      assert.ok(ch.isValidChunkId(loc.chunkId));
      assert.ok(ch.subChunksOf(loc.chunkId).includes(loc.subChunkId), `${k} is not a sub-chunk`);
      const ss = Math.floor(loc.chunkId / 170) * 12 + Math.floor(loc.subChunkId / ref.M);
      const box = ch.subChunkBounds(loc.chunkId, loc.subChunkId);
      assert.ok(
        inGrownBox(box, ref.alpha[ss]!, r, ra, dec),
        `(${ra}, ${dec}) listed in ${k} ${box} but outside its overlap margin`,
      );
    }
    // Brute force over the sub-chunks of the home and adjacent sub-stripes. Points within r of
    // the position differ from it in RA by at most refAlpha(r, dec), so sub-chunks further away
    // in RA than twice that cannot qualify and are skipped to keep this fast.
    const hs = ref.subStripe(dec);
    const reach = 2 * refAlpha(r, dec) + 1e-9;
    for (const ss of [hs - 1, hs, hs + 1]) {
      if (ss < 0 || ss >= 1020) continue;
      const n = ref.numSubChunks(ss);
      for (let sc = 0; sc < n; sc++) {
        const ids = ref.ids(ss, sc);
        const box = ch.subChunkBounds(ids.chunkId, ids.subChunkId);
        if (reach < 180 && !inGrownBox(box, reach, 180, ra, dec)) continue;
        if (box.distanceTo(ra, dec) < r) {
          assert.ok(listed.has(key(ids)), `(${ra}, ${dec}) is within ${r} of ${key(ids)} ${box} but not listed`);
        }
      }
    }
  }

  test("random positions near sub-stripe edges", () => {
    const rnd = mulberry32(5);
    const out: ChunkLocation[] = [];
    for (let i = 0; i < 500; i++) {
      const ss = Math.floor(rnd() * 1020);
      const f = rnd() < 0.5 ? rnd() * 0.15 : 1 - rnd() * 0.15;
      const dec = Math.min(90, (ss + f) * ref.h - 90);
      checkPosition(rnd() * 360, dec, out);
    }
  });

  test("positions near sub-chunk corners, including across RA 0/360", () => {
    const rnd = mulberry32(6);
    const out: ChunkLocation[] = [];
    for (let i = 0; i < 500; i++) {
      const ss = 1 + Math.floor(rnd() * 1018);
      // Just inside the top or bottom of the sub-stripe...
      const dec = rnd() < 0.5 ? (ss + 1) * ref.h - 90 - rnd() * r : ss * ref.h - 90 + rnd() * r;
      // ...and near an RA edge of a sub-chunk there or in the adjacent sub-stripe.
      const edgeSs = rnd() < 0.5 ? ss : dec > ss * ref.h - 90 + ref.h / 2 ? ss + 1 : ss - 1;
      const n = ref.numSubChunks(edgeSs);
      const edge = i % 5 === 0 ? 0 : Math.floor(rnd() * n) * ref.scw[edgeSs]!;
      const ra = wrapRa(edge + (rnd() - 0.5) * 3 * ref.alpha[edgeSs]!);
      checkPosition(ra, dec, out);
    }
  });

  test("specific positions: RA 0/360, stripe edges, poles", () => {
    const out: ChunkLocation[] = [];
    const stripeEdge = (43 * 180) / 85 - 90;
    for (const dec of [-89.99, -45, 0, 0.005, -0.005, stripeEdge - 0.005, stripeEdge + 0.005, 60, 89.9, 89.99, 90]) {
      for (const ra of [0, 1e-4, 0.01, 359.99, 359.9999, 360 - 2 ** -44, 180]) checkPosition(ra, dec, out);
    }
    // Right at RA 0 the previous sub-chunk (the last one, ending at 360) is an overlap target.
    ch.locateAll(0.001, 10, out);
    const ss = ref.subStripe(10);
    const last = ref.ids(ss, ref.numSubChunks(ss) - 1);
    assert.ok(
      out.slice(1).some((l) => key(l) === key(last)),
      "wraps to the last sub-chunk",
    );
    ch.locateAll(359.999, 10, out);
    const first = ref.ids(ss, 0);
    assert.ok(
      out.slice(1).some((l) => key(l) === key(first)),
      "wraps to the first sub-chunk",
    );
    // Far from every edge there is no overlap entry.
    const b = ch.subChunkBounds(ch.locate(100, 20).chunkId, ch.locate(100, 20).subChunkId);
    const mid: [number, number] = [(b.raMin + b.raMax) / 2, (b.decMin + b.decMax) / 2];
    assert.equal(ch.locateAll(mid[0], mid[1], out).length, 1);
    // The output array is reused: cleared, then filled.
    out.push({ chunkId: -1, subChunkId: -1, overlap: true });
    assert.equal(ch.locateAll(mid[0], mid[1], out).length, 1);
  });

  test("zero overlap: only the home location", () => {
    const z = new Chunker({ numStripes: 85, numSubStripesPerStripe: 12, overlap: 0 });
    const out: ChunkLocation[] = [];
    const rnd = mulberry32(7);
    for (let i = 0; i < 200; i++) {
      const [ra, dec] = randomPoint(rnd);
      assert.deepEqual(z.locateAll(ra, dec, out), [{ ...ref.locate(ra, dec), overlap: false }]);
    }
  });

  test("a coarse partitioning with a wide overlap", () => {
    const S = 18;
    const T = 3;
    const ov = 2;
    const c = new Chunker({ numStripes: S, numSubStripesPerStripe: T, overlap: ov });
    const cref = new RefChunker(S, T, ov);
    const rnd = mulberry32(8);
    const out: ChunkLocation[] = [];
    for (let i = 0; i < 300; i++) {
      const [ra, dec] = randomPoint(rnd);
      c.locateAll(ra, dec, out);
      assert.deepEqual(out[0], { ...cref.locate(ra, dec), overlap: false });
      const listed = new Set(out.map(key));
      assert.equal(listed.size, out.length);
      const hs = cref.subStripe(dec);
      for (const ss of [hs - 1, hs, hs + 1]) {
        if (ss < 0 || ss >= S * T) continue;
        for (let sc = 0; sc < cref.numSubChunks(ss); sc++) {
          const ids = cref.ids(ss, sc);
          if (c.subChunkBounds(ids.chunkId, ids.subChunkId).distanceTo(ra, dec) < ov) {
            assert.ok(listed.has(key(ids)), `(${ra}, ${dec}) near ${key(ids)} not listed`);
          }
        }
      }
    }
  });
});

// --- regions ----------------------------------------------------------------------------------

describe("Chunker.chunksIn", () => {
  const ch = new Chunker(QSERV);

  function checkRegion(region: Region, samples: Array<[number, number]>, what: string): number[] {
    const chunks = ch.chunksIn(region);
    const set = new Set(chunks);
    assert.equal(set.size, chunks.length, `${what}: duplicates`);
    for (let i = 1; i < chunks.length; i++) assert.ok(chunks[i - 1]! < chunks[i]!, `${what}: not sorted`);
    for (const c of chunks) assert.ok(ch.isValidChunkId(c));
    let inside = 0;
    const subChunks = new Map<number, Set<number>>();
    for (const [ra, dec] of samples) {
      if (!region.contains(ra, dec)) continue;
      inside++;
      const loc = ch.locate(ra, dec);
      assert.ok(set.has(loc.chunkId), `${what}: (${ra}, ${dec}) is in chunk ${loc.chunkId}, not in [${chunks}]`);
      let scs = subChunks.get(loc.chunkId);
      if (!scs) {
        scs = new Set(ch.subChunksIn(region, loc.chunkId));
        subChunks.set(loc.chunkId, scs);
      }
      assert.ok(scs.has(loc.subChunkId), `${what}: (${ra}, ${dec}) sub-chunk ${key(loc)} missing`);
    }
    assert.ok(inside > samples.length / 10, `${what}: only ${inside} of ${samples.length} samples inside`);
    return chunks;
  }

  test("random circles", () => {
    const rnd = mulberry32(9);
    for (let i = 0; i < 60; i++) {
      const [ra, dec] = i % 6 === 0 ? [rnd() * 360, (rnd() < 0.5 ? -1 : 1) * (85 + rnd() * 5)] : randomPoint(rnd);
      const radius = i % 3 === 0 ? rnd() * 0.2 : rnd() * 8;
      const c = new CircleRegion(ra, dec, radius);
      const samples: Array<[number, number]> = [];
      for (let k = 0; k < 200; k++) {
        samples.push(
          k % 2 === 0 ? randomPointInCap(rnd, ra, dec, radius) : destination(ra, dec, radius * (1 - 1e-9), rnd() * 360),
        );
      }
      const chunks = checkRegion(c, samples, `circle(${ra}, ${dec}, ${radius})`);
      // Not absurdly conservative: every chunk returned comes within the radius of the centre.
      for (const id of chunks) assert.ok(ch.chunkBounds(id).distanceTo(ra, dec) <= radius + 1e-9);
      // And exact the other way: every chunk strictly within the radius is returned.
      const set = new Set(chunks);
      for (const id of ch.allChunks()) {
        if (ch.chunkBounds(id).distanceTo(ra, dec) < radius) assert.ok(set.has(id), `chunk ${id} missing`);
      }
    }
  });

  test("random boxes, including wrapping ones", () => {
    const rnd = mulberry32(10);
    for (let i = 0; i < 60; i++) {
      const raMin = i % 5 === 0 ? 355 + rnd() * 5 : rnd() * 360;
      const w = rnd() * (i % 4 === 0 ? 40 : 6);
      const dMin = -90 + rnd() * 180;
      const dMax = Math.min(90, dMin + rnd() * 6);
      const region = BoxRegion.of(raMin, dMin, raMin + w, dMax);
      const samples: Array<[number, number]> = [];
      for (let k = 0; k < 200; k++) samples.push([wrapRa(raMin + rnd() * w), dMin + rnd() * (dMax - dMin)]);
      // The corners too.
      samples.push([raMin, dMin], [wrapRa(raMin + w), dMax]);
      checkRegion(region, samples, `box(${raMin}, ${dMin}, ${raMin + w}, ${dMax})`);
    }
  });

  test("random polygons and ellipses", () => {
    const rnd = mulberry32(11);
    for (let i = 0; i < 40; i++) {
      const [ra, dec] = randomPoint(rnd);
      const rho = 0.05 + rnd() * 5;
      const coords: number[] = [];
      const n = 3 + Math.floor(rnd() * 4);
      const start = rnd() * 360;
      for (let k = 0; k < n; k++) coords.push(...destination(ra, dec, rho, start + (k * 360) / n + rnd() * 20));
      const poly = new ConvexPolygonRegion(coords);
      const samples: Array<[number, number]> = [];
      for (let k = 0; k < 200; k++) samples.push(randomPointInCap(rnd, ra, dec, rho));
      checkRegion(poly, samples, `polygon ${coords}`);

      const major = 10 + rnd() * 35990;
      const minor = major * (0.05 + 0.95 * rnd());
      const pa = rnd() * 360;
      const e = new EllipseRegion(ra, dec, major, minor, pa);
      const es: Array<[number, number]> = [];
      for (let k = 0; k < 200; k++) {
        // Along a random direction, out to a random fraction of the ellipse's extent there.
        const phi = rnd() * 2 * Math.PI;
        const s = Math.sqrt(rnd());
        const along = (s * major * Math.cos(phi) * D2R) / 3600;
        const across = (s * minor * Math.sin(phi) * D2R) / 3600;
        es.push(destination(ra, dec, Math.asin(Math.hypot(along, across)) / D2R, pa + Math.atan2(across, along) / D2R));
      }
      checkRegion(e, es, `ellipse(${ra}, ${dec}, ${major}, ${minor}, ${pa})`);
    }
  });

  test("a small circle far from chunk edges is in exactly one chunk", () => {
    for (const [ra, dec] of [
      [0.5, 0.5],
      [100, 20],
      [250, -45],
      [10, 80],
    ] as const) {
      const home = ch.locate(ra, dec).chunkId;
      const b = ch.chunkBounds(home);
      const center: [number, number] = [(b.raMin + b.raMax) / 2, (b.decMin + b.decMax) / 2];
      const c = new CircleRegion(center[0], center[1], 0.01);
      assert.deepEqual(ch.chunksIn(c), [ch.locate(center[0], center[1]).chunkId]);
      assert.deepEqual(ch.chunksIn(c), [home]);
      // Likewise a tiny circle in the middle of a sub-chunk meets only that sub-chunk.
      const loc = ch.locate(ra, dec);
      const sb = ch.subChunkBounds(loc.chunkId, loc.subChunkId);
      const sc = new CircleRegion((sb.raMin + sb.raMax) / 2, (sb.decMin + sb.decMax) / 2, 0.01);
      assert.deepEqual(ch.chunksIn(sc), [home]);
      assert.deepEqual(ch.subChunksIn(sc, home), [loc.subChunkId]);
    }
  });

  test("whole-sky and polar regions", () => {
    assert.equal(ch.chunksIn(BoxRegion.of(0, -90, 360, 90)).length, 8983);
    assert.deepEqual(ch.chunksIn(new CircleRegion(0, 90, 0.5)), [84 * 170]);
    assert.deepEqual(ch.chunksIn(new CircleRegion(0, -90, 0.5)), [0]);
    // A thin band just north of the equator: exactly the chunks of stripe 42.
    const band = ch.chunksIn(BoxRegion.of(0, 0.1, 360, 0.2));
    assert.deepEqual(
      band,
      ch.allChunks().filter((id) => Math.floor(id / 170) === 42),
    );
  });
});
