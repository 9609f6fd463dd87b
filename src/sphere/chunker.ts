import { QservError } from "../common/errors.js";
import { clampDec, clampRa, DEG_PER_RAD, EPSILON_DEG, maxAlpha, RAD_PER_DEG } from "./angles.js";
import { SphericalBox } from "./box.js";
import type { Region } from "./regions.js";

/** Partitioning parameters of a database (Qserv's num_stripes, num_sub_stripes, overlap). */
export interface ChunkerParams {
  readonly numStripes: number;
  readonly numSubStripesPerStripe: number;
  /** Overlap radius in degrees. */
  readonly overlap: number;
}

/** Where a row lands: its home (overlap = false) or the overlap of a neighbouring sub-chunk. */
export interface ChunkLocation {
  chunkId: number;
  subChunkId: number;
  overlap: boolean;
}

/**
 * The number of segments of width at least `width` (deg) that fit in the latitude band
 * [latMin, latMax], exactly as Qserv computes it.
 */
export function segments(latMin: number, latMax: number, width: number): number {
  const lat = Math.max(Math.abs(latMin), Math.abs(latMax));
  if (lat > 90 - EPSILON_DEG) return 1;
  if (width >= 180) return 1;
  const w = Math.max(width, EPSILON_DEG);
  const latRad = lat * RAD_PER_DEG;
  const cw = Math.cos(w * RAD_PER_DEG);
  const sl = Math.sin(latRad);
  const cl = Math.cos(latRad);
  const x = cw - sl * sl;
  const u = cl * cl;
  const y = Math.sqrt(Math.abs(u * u - x * x));
  return Math.floor(360 / Math.abs(DEG_PER_RAD * Math.atan2(y, x)));
}

/**
 * Qserv's chunker: the sky cut into declination stripes, each cut in RA into chunks about as
 * wide as they are tall; every chunk cut again into sub-stripes and sub-chunks. Chunk and
 * sub-chunk ids are identical to Qserv's.
 */
export class Chunker {
  readonly numStripes: number;
  readonly numSubStripesPerStripe: number;
  readonly numSubStripes: number;
  readonly overlap: number;
  readonly stripeHeight: number;
  readonly subStripeHeight: number;
  /** Chunks in each stripe. */
  readonly numChunksPerStripe: Int32Array;
  /** Sub-chunks per chunk in each sub-stripe. */
  readonly numSubChunksPerChunk: Int32Array;
  /** Sub-chunk width (deg) in each sub-stripe. */
  readonly subChunkWidth: Float64Array;
  /** RA half-width (deg) of the overlap margin in each sub-stripe. */
  readonly alpha: Float64Array;
  readonly maxSubChunksPerChunk: number;

  constructor(params: ChunkerParams) {
    const { numStripes, numSubStripesPerStripe, overlap } = params;
    if (!Number.isInteger(numStripes) || !Number.isInteger(numSubStripesPerStripe)) {
      throw new QservError("BAD_CONFIG", "num_stripes and num_sub_stripes must be integers");
    }
    if (numStripes < 1 || numSubStripesPerStripe < 1) {
      throw new QservError("BAD_CONFIG", "num_stripes and num_sub_stripes must be positive");
    }
    if (!(overlap >= 0 && overlap <= 10)) {
      throw new QservError("BAD_CONFIG", `overlap ${overlap} outside [0, 10] degrees`);
    }
    this.numStripes = numStripes;
    this.numSubStripesPerStripe = numSubStripesPerStripe;
    this.numSubStripes = numStripes * numSubStripesPerStripe;
    this.overlap = overlap;
    this.stripeHeight = 180 / numStripes;
    this.subStripeHeight = 180 / this.numSubStripes;
    if (this.subStripeHeight < overlap) {
      throw new QservError(
        "BAD_CONFIG",
        `overlap ${overlap} is greater than the sub-stripe height ${this.subStripeHeight}`,
      );
    }
    this.numChunksPerStripe = new Int32Array(numStripes);
    this.numSubChunksPerChunk = new Int32Array(this.numSubStripes);
    this.subChunkWidth = new Float64Array(this.numSubStripes);
    this.alpha = new Float64Array(this.numSubStripes);
    let maxSc = 0;
    for (let i = 0; i < numStripes; i++) {
      const nc = segments(i * this.stripeHeight - 90, (i + 1) * this.stripeHeight - 90, this.stripeHeight);
      this.numChunksPerStripe[i] = nc;
      for (let j = 0; j < numSubStripesPerStripe; j++) {
        const ss = i * numSubStripesPerStripe + j;
        const latMin = ss * this.subStripeHeight - 90;
        const latMax = (ss + 1) * this.subStripeHeight - 90;
        const nsc = Math.floor(segments(latMin, latMax, this.subStripeHeight) / nc);
        maxSc = Math.max(maxSc, nsc);
        this.numSubChunksPerChunk[ss] = nsc;
        const scw = 360 / (nsc * nc);
        this.subChunkWidth[ss] = scw;
        const a = maxAlpha(overlap, Math.max(Math.abs(latMin), Math.abs(latMax)));
        if (a > scw) {
          throw new QservError("BAD_CONFIG", `overlap ${overlap} is greater than the sub-chunk width ${scw}`);
        }
        this.alpha[ss] = a;
      }
    }
    this.maxSubChunksPerChunk = maxSc;
  }

  // --- id arithmetic -------------------------------------------------------------------------

  chunkIdOf(stripe: number, chunk: number): number {
    return stripe * 2 * this.numStripes + chunk;
  }
  stripeOf(chunkId: number): number {
    return Math.floor(chunkId / (2 * this.numStripes));
  }
  private chunkInStripe(chunkId: number, stripe: number): number {
    return chunkId - stripe * 2 * this.numStripes;
  }
  private subChunkIdOf(stripe: number, subStripe: number, chunk: number, subChunk: number): number {
    const nsc = this.numSubChunksPerChunk[subStripe] as number;
    return (subStripe - stripe * this.numSubStripesPerStripe) * this.maxSubChunksPerChunk + (subChunk - chunk * nsc);
  }

  /** Whether `chunkId` names a chunk of this partitioning. */
  isValidChunkId(chunkId: number): boolean {
    if (!Number.isInteger(chunkId) || chunkId < 0) return false;
    const stripe = this.stripeOf(chunkId);
    return (
      stripe < this.numStripes && this.chunkInStripe(chunkId, stripe) < (this.numChunksPerStripe[stripe] as number)
    );
  }

  get totalChunks(): number {
    let n = 0;
    for (const nc of this.numChunksPerStripe) n += nc;
    return n;
  }

  /** Every chunk id, in increasing order. */
  allChunks(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.numStripes; s++) {
      const nc = this.numChunksPerStripe[s] as number;
      for (let c = 0; c < nc; c++) out.push(this.chunkIdOf(s, c));
    }
    return out;
  }

  /** Every sub-chunk id of a chunk. */
  subChunksOf(chunkId: number): number[] {
    const out: number[] = [];
    const ss0 = this.stripeOf(chunkId) * this.numSubStripesPerStripe;
    for (let j = 0; j < this.numSubStripesPerStripe; j++) {
      const nsc = this.numSubChunksPerChunk[ss0 + j] as number;
      for (let sc = 0; sc < nsc; sc++) out.push(j * this.maxSubChunksPerChunk + sc);
    }
    return out;
  }

  // --- bounds --------------------------------------------------------------------------------

  chunkBounds(chunkId: number): SphericalBox {
    const stripe = this.stripeOf(chunkId);
    const chunk = this.chunkInStripe(chunkId, stripe);
    const width = 360 / (this.numChunksPerStripe[stripe] as number);
    const h = this.numSubStripesPerStripe * this.subStripeHeight;
    return new SphericalBox(
      chunk * width,
      clampRa((chunk + 1) * width),
      clampDec(stripe * h - 90),
      clampDec((stripe + 1) * h - 90),
    );
  }

  subChunkBounds(chunkId: number, subChunkId: number): SphericalBox {
    const stripe = this.stripeOf(chunkId);
    const chunk = this.chunkInStripe(chunkId, stripe);
    const subStripe = stripe * this.numSubStripesPerStripe + Math.floor(subChunkId / this.maxSubChunksPerChunk);
    const nsc = this.numSubChunksPerChunk[subStripe] as number;
    const subChunk = (subChunkId % this.maxSubChunksPerChunk) + chunk * nsc;
    const w = this.subChunkWidth[subStripe] as number;
    return new SphericalBox(
      subChunk * w,
      clampRa((subChunk + 1) * w),
      clampDec(subStripe * this.subStripeHeight - 90),
      clampDec((subStripe + 1) * this.subStripeHeight - 90),
    );
  }

  // --- locate --------------------------------------------------------------------------------

  private subStripeOf(dec: number): number {
    const ss = Math.floor((dec + 90) / this.subStripeHeight);
    return ss >= this.numSubStripes ? this.numSubStripes - 1 : ss;
  }

  /** The home chunk and sub-chunk of a position (ra in [0, 360), dec in [-90, 90]). */
  locate(ra: number, dec: number): { chunkId: number; subChunkId: number } {
    const subStripe = this.subStripeOf(dec);
    const stripe = Math.floor(subStripe / this.numSubStripesPerStripe);
    const nc = this.numChunksPerStripe[stripe] as number;
    const nsc = this.numSubChunksPerChunk[subStripe] as number;
    let subChunk = Math.floor(ra / (this.subChunkWidth[subStripe] as number));
    if (subChunk >= nc * nsc) subChunk = nc * nsc - 1;
    const chunk = Math.floor(subChunk / nsc);
    return {
      chunkId: this.chunkIdOf(stripe, chunk),
      subChunkId: this.subChunkIdOf(stripe, subStripe, chunk, subChunk),
    };
  }

  /**
   * Every location of a position: its home first, then one entry per sub-chunk whose overlap
   * margin holds it (Qserv's order). Appends to `out`, which is cleared first.
   */
  locateAll(ra: number, dec: number, out: ChunkLocation[]): ChunkLocation[] {
    out.length = 0;
    const subStripe = this.subStripeOf(dec);
    const stripe = Math.floor(subStripe / this.numSubStripesPerStripe);
    const nc = this.numChunksPerStripe[stripe] as number;
    const nsc = this.numSubChunksPerChunk[subStripe] as number;
    const numSubChunks = nc * nsc;
    const w = this.subChunkWidth[subStripe] as number;
    let subChunk = Math.floor(ra / w);
    if (subChunk >= numSubChunks) subChunk = numSubChunks - 1;
    const chunk = Math.floor(subChunk / nsc);
    out.push({
      chunkId: this.chunkIdOf(stripe, chunk),
      subChunkId: this.subChunkIdOf(stripe, subStripe, chunk, subChunk),
      overlap: false,
    });
    if (this.overlap === 0) return out;
    const raMin = subChunk * w;
    const raMax = clampRa((subChunk + 1) * w);
    const decMin = clampDec(subStripe * this.subStripeHeight - 90);
    const decMax = clampDec((subStripe + 1) * this.subStripeHeight - 90);
    if (subStripe > 0 && dec < decMin + this.overlap) this.upDownOverlap(ra, subStripe - 1, out);
    if (subStripe < this.numSubStripes - 1 && dec >= decMax - this.overlap) this.upDownOverlap(ra, subStripe + 1, out);
    if (numSubChunks === 1) return out;
    const alpha = this.alpha[subStripe] as number;
    if (ra < raMin + alpha) {
      const osc = subChunk === 0 ? numSubChunks - 1 : subChunk - 1;
      const oc = subChunk === 0 ? nc - 1 : Math.floor(osc / nsc);
      out.push({
        chunkId: this.chunkIdOf(stripe, oc),
        subChunkId: this.subChunkIdOf(stripe, subStripe, oc, osc),
        overlap: true,
      });
    }
    if (ra > raMax - alpha) {
      const osc = subChunk === numSubChunks - 1 ? 0 : subChunk + 1;
      const oc = subChunk === numSubChunks - 1 ? 0 : Math.floor(osc / nsc);
      out.push({
        chunkId: this.chunkIdOf(stripe, oc),
        subChunkId: this.subChunkIdOf(stripe, subStripe, oc, osc),
        overlap: true,
      });
    }
    return out;
  }

  /** Overlap locations of a position in the sub-chunks of an adjacent sub-stripe. */
  private upDownOverlap(ra: number, subStripe: number, out: ChunkLocation[]): void {
    const stripe = Math.floor(subStripe / this.numSubStripesPerStripe);
    const nc = this.numChunksPerStripe[stripe] as number;
    const nsc = this.numSubChunksPerChunk[subStripe] as number;
    const numSubChunks = nc * nsc;
    const w = this.subChunkWidth[subStripe] as number;
    const alpha = this.alpha[subStripe] as number;
    let minSc = Math.floor((ra - alpha) / w);
    let maxSc = Math.floor((ra + alpha) / w);
    if (minSc < 0) minSc += numSubChunks;
    if (maxSc >= numSubChunks) maxSc -= numSubChunks;
    const emit = (sc: number): void => {
      const c = Math.floor(sc / nsc);
      out.push({
        chunkId: this.chunkIdOf(stripe, c),
        subChunkId: this.subChunkIdOf(stripe, subStripe, c, sc),
        overlap: true,
      });
    };
    if (minSc > maxSc) {
      for (let sc = minSc; sc < numSubChunks; sc++) emit(sc);
      minSc = 0;
    }
    for (let sc = minSc; sc <= maxSc; sc++) emit(sc);
  }

  // --- regions -------------------------------------------------------------------------------

  /** Ids of every chunk whose box the region may meet (conservative: never misses one). */
  chunksIn(region: Region): number[] {
    const bbox = region.boundingBox();
    const out: number[] = [];
    const s0 = this.stripeOf(this.locate(0, bbox.decMin).chunkId);
    const s1 = this.stripeOf(this.locate(0, bbox.decMax).chunkId);
    for (let s = s0; s <= s1; s++) {
      const nc = this.numChunksPerStripe[s] as number;
      for (const c of this.rangesIn(bbox, 360 / nc, nc)) {
        const id = this.chunkIdOf(s, c);
        if (region.intersectsBox(this.chunkBounds(id))) out.push(id);
      }
    }
    return out.sort((a, b) => a - b);
  }

  /** Ids of the sub-chunks of `chunkId` whose box the region may meet. */
  subChunksIn(region: Region, chunkId: number): number[] {
    return this.subChunksOf(chunkId).filter((sc) => region.intersectsBox(this.subChunkBounds(chunkId, sc)));
  }

  /** Segment indexes [0, n) of width w whose RA span meets the box's RA intervals. */
  private rangesIn(box: SphericalBox, w: number, n: number): number[] {
    const seen = new Set<number>();
    for (const [lo, hi] of box.raIntervals()) {
      const a = Math.max(0, Math.floor(lo / w) - 1);
      const b = Math.min(n - 1, Math.floor(hi / w) + 1);
      for (let i = a; i <= b; i++) seen.add(i);
    }
    return [...seen];
  }
}
