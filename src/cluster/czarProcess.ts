import type { ChildProcess } from "node:child_process";
import { QservError } from "../common/errors.js";

// STUB (branch conf): the real czar process launcher replaces this file; only the signature matters here.

export interface CzarProcess {
  /** http://127.0.0.1:port */
  url: string;
  proc: ChildProcess;
  logs: Array<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a czar over `workers` ("127.0.0.1:port"); not built yet. */
export async function startCzarProcess(
  _dataDir: string,
  _workers: string[],
  _extra: string[] = [],
): Promise<CzarProcess> {
  throw new QservError("UNAVAILABLE", "the czar is not built yet (src/cluster/czarProcess.ts is a stub)");
}
