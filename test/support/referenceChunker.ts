/**
 * An independent, deliberately plain transcription of the chunker formulas of DESIGN.md, used
 * only to check src/sphere's Chunker. Home location only.
 */
export function referenceLocate(
  S: number,
  T: number,
  ra: number,
  dec: number,
): { chunkId: number; subChunkId: number } {
  const rad = Math.PI / 180;
  const seg = (latMin: number, latMax: number, w: number): number => {
    const lat = Math.max(Math.abs(latMin), Math.abs(latMax));
    if (lat > 90 - 1 / 3600 || w >= 180) return 1;
    const x = Math.cos(w * rad) - Math.sin(lat * rad) ** 2;
    const u = Math.cos(lat * rad) ** 2;
    const y = Math.sqrt(Math.abs(u * u - x * x));
    return Math.floor(360 / Math.abs(Math.atan2(y, x) / rad));
  };
  const H = 180 / S;
  const h = 180 / (S * T);
  let M = 0;
  const nsc: number[] = [];
  for (let i = 0; i < S; i++) {
    const nci = seg(i * H - 90, (i + 1) * H - 90, H);
    for (let j = 0; j < T; j++) {
      const ss = i * T + j;
      nsc[ss] = Math.floor(seg(ss * h - 90, (ss + 1) * h - 90, h) / nci);
      M = Math.max(M, nsc[ss] as number);
    }
  }
  const ss = Math.min(Math.floor((dec + 90) / h), S * T - 1);
  const stripe = Math.floor(ss / T);
  const nc = seg(stripe * H - 90, (stripe + 1) * H - 90, H);
  const n = nsc[ss] as number;
  const scw = 360 / (n * nc);
  const sc = Math.min(Math.floor(ra / scw), nc * n - 1);
  const chunk = Math.floor(sc / n);
  return { chunkId: stripe * 2 * S + chunk, subChunkId: (ss - stripe * T) * M + (sc - chunk * n) };
}
