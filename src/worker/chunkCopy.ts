/** Copying chunk files: temporary files of a worker and the steps run in a thread. */
import fs from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { QservError } from "../common/errors.js";
import type { TableRecord } from "./layout.js";

export type CopyTask =
  | { t: "snapshot"; src: string; tmp: string }
  | { t: "verify"; tmp: string; chunkId: number }
  | { t: "replace"; tmp: string; dest: string };

export type CopyResult =
  | { t: "snapshot"; size: number; sha256: string }
  | { t: "verified"; records: TableRecord[] }
  | { t: "replaced" };

/** Where exports and imports in progress live; not a database name (names start with a letter or _). */
const TEMP_DIR = ".mq-tmp";
let nextTemp = 1;

/** Removes what exports and imports of an earlier run left behind. */
export function clearTemp(dataDir: string): void {
  fs.rmSync(path.join(dataDir, TEMP_DIR), { recursive: true, force: true });
}

/** A fresh temporary file name in the data dir (same file system: renames are atomic). */
export function tempFile(dataDir: string, what: string): string {
  const dir = path.join(dataDir, TEMP_DIR);
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${what}-${process.pid}-${nextTemp++}.tmp`);
}

/** Runs one step in a thread of its own; its failure is a QservError with `code`. */
export function runCopyTask<T extends CopyResult["t"]>(
  task: CopyTask,
  code: "IO" | "BAD_INPUT",
): Promise<Extract<CopyResult, { t: T }>> {
  return new Promise((resolve, reject) => {
    const thread = new Worker(new URL("./chunkCopyThread.js", import.meta.url), { workerData: task });
    thread.once("message", (m: { ok: true; result: CopyResult } | { ok: false; message: string }) => {
      if (m.ok) resolve(m.result as Extract<CopyResult, { t: T }>);
      else reject(new QservError(code, m.message));
    });
    thread.once("error", (e) => reject(new QservError("INTERNAL", `copy thread failed: ${e.message}`)));
    thread.once("exit", () => reject(new QservError("INTERNAL", "copy thread exited without an answer")));
  });
}
