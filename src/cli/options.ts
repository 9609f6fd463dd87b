import type { Logger } from "pino";
import { QservError } from "../common/errors.js";

/** A whole-number option value (undefined when absent). */
export function int(what: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new QservError("BAD_ARGUMENT", `${what} must be a whole number, got ${v}`);
  return n;
}

/** A duration option in seconds, fractions allowed (undefined when absent). */
export function seconds(what: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new QservError("BAD_ARGUMENT", `${what} must be a number of seconds, got ${v}`);
  }
  return n;
}

/** SIGTERM / SIGINT: log, run `close`, exit 0 (1 if closing failed). */
export function exitOnSignals(log: Logger, close: () => Promise<void>): void {
  const stop = (signal: string) => {
    log.info({ signal }, "shutting down");
    close().then(
      () => process.exit(0),
      (e) => {
        log.error({ err: String(e) }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

/** The czar URL: --czar, else $MINI_QSERV_CZAR, else the local default. */
export function czarUrl(v: string | undefined): string {
  return (v ?? process.env.MINI_QSERV_CZAR ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
}
