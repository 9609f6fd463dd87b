import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

/** A pino logger named for its component: JSON lines, or readable lines on a terminal. */
export function createLogger(name: string, level = process.env.MINI_QSERV_LOG ?? "info"): Logger {
  if (process.stdout.isTTY) {
    return pino({ name, level }, pretty({ colorize: true, translateTime: "HH:MM:ss.l", sync: true }));
  }
  return pino({ name, level });
}

/**
 * Writes out what the logger still buffers (its JSON lines go out asynchronously): for a process
 * about to end itself by a signal, which would lose them.
 */
export function flushLogSync(log: Logger): void {
  const stream = (log as unknown as Record<symbol, { flushSync?: () => void }>)[pino.symbols.streamSym];
  // A full pipe (its reader busy) answers EAGAIN: wait for it a little, a bounded number of times.
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let tries = 0; tries < 500; tries++) {
    try {
      stream?.flushSync?.();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") return; // nothing more can be done for the lines
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}
