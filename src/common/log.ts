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
 * about to end itself by a signal, which would lose them. A write already handed to the thread
 * pool is waited for first (a synchronous flush skips it, and the signal would lose it).
 */
export async function flushLog(log: Logger, boundMs = 5000): Promise<void> {
  type Boom = { _writing?: boolean; flushSync?: () => void; once?(ev: string, f: () => void): void };
  const stream = (log as unknown as Record<symbol, Boom>)[pino.symbols.streamSym];
  const deadline = Date.now() + boundMs;
  while (stream?._writing === true && stream.once !== undefined && Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      stream.once?.("write", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
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
