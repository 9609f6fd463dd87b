/**
 * Test hook for crash tests: with MINI_QSERV_HALT_AT=<name> in its environment, a process that
 * reaches the point of that name logs "halted at a test point" and waits there for ever, so that a
 * test can kill it at exactly that state. Without the variable it costs one comparison.
 */
import type { Logger } from "pino";

export const HALT_ENV = "MINI_QSERV_HALT_AT";

/** True when this process is to halt at `name`. */
export function haltsAt(name: string): boolean {
  return process.env[HALT_ENV] === name;
}

/** Halts (never resolves) when this process is to halt at `name`; else returns at once. */
export async function haltPoint(name: string, log?: Logger): Promise<void> {
  if (!haltsAt(name)) return;
  log?.warn({ point: name }, "halted at a test point");
  await new Promise<never>(() => {});
}
