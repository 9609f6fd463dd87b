/**
 * A stable sort that gives the event loop a turn every few thousand steps (a bottom-up merge
 * sort): sorting a few hundred thousand rows no longer holds other clients for its whole time.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";

/** Steps (comparisons or moves) between turns of the event loop. */
const STEPS_PER_TURN = 20_000;

export async function sortInTurns<T>(items: T[], cmp: (a: T, b: T) => number): Promise<T[]> {
  let src = items.slice();
  let dst = new Array<T>(src.length);
  let steps = 0;
  const n = src.length;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let [i, j, k] = [lo, mid, lo];
      while (i < mid && j < hi) dst[k++] = cmp(src[j] as T, src[i] as T) < 0 ? (src[j++] as T) : (src[i++] as T);
      while (i < mid) dst[k++] = src[i++] as T;
      while (j < hi) dst[k++] = src[j++] as T;
      steps += hi - lo;
      if (steps >= STEPS_PER_TURN) {
        steps = 0;
        await yieldToLoop();
      }
    }
    [src, dst] = [dst, src];
  }
  return src;
}
