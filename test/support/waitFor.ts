import assert from "node:assert/strict";
import { setImmediate as nextTick } from "node:timers/promises";

/**
 * Re-asks `probe` — an async question to a process (status, process list), which paces the loop
 * by its own round trip — until it gives a value, then returns it. No fixed sleep: it waits on the
 * state, bounded by `boundMs` (generous, for a busy machine).
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, boundMs = 60_000): Promise<T> {
  const end = Date.now() + boundMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    assert.ok(Date.now() < end, `${what}: not within ${boundMs / 1000} s`);
    await nextTick();
  }
}
