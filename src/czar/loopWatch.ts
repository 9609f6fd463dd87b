/**
 * Finds what blocks the czar's event loop: a timer due every TICK ms that fires late by more than
 * the threshold means the loop was held that long; the statements in flight then (the one holding
 * it is among them) are logged with the delay (`event loop blocked`, `--log-loop-stalls MS`).
 * `activeMs` is how much of that time the loop spent running code rather than waiting for events:
 * a late timer with little activity is the process not scheduled (a loaded machine), not a block.
 */
import type { Logger } from "pino";

const TICK = 10;

/** A statement the czar is working on. */
export interface InFlight {
  sql: string;
  /** performance.now() when it started. */
  since: number;
}

/** Starts watching; returns the stop. */
export function watchLoop(thresholdMs: number, inFlight: () => Iterable<InFlight>, log: Logger): () => void {
  let last = performance.now();
  let elu = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - TICK;
    last = now;
    const used = performance.eventLoopUtilization(elu);
    elu = performance.eventLoopUtilization();
    if (late <= thresholdMs) return;
    const statements = [...inFlight()]
      .filter((q) => q.since < now - late) // started before the loop was held
      .map((q) => ({
        sql: q.sql.length > 300 ? `${q.sql.slice(0, 200)} ... ${q.sql.slice(-80)}` : q.sql,
        chars: q.sql.length,
        runningMs: Math.round(now - q.since),
      }));
    log.warn({ blockedMs: Math.round(late), activeMs: Math.round(used.active), statements }, "event loop blocked");
  }, TICK);
  timer.unref();
  return () => clearInterval(timer);
}
