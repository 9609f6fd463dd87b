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
  try {
    stream?.flushSync?.();
  } catch {
    // nothing more can be done for the lines
  }
}
