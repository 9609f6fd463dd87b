/** Copying chunk files: temporary files of a worker, and the copy thread that does the SQLite work. */
import fs from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { QservError } from "../common/errors.js";
import type { StageRecord, TableRecord } from "./layout.js";

export type CopyTask =
  | { t: "snapshot"; src: string; tmp: string }
  | { t: "verify"; tmp: string; chunkId: number }
  | { t: "replace"; tmp: string; dest: string };

export type CopyResult =
  | { t: "snapshot"; size: number; sha256: string }
  | { t: "verified"; records: TableRecord[]; published: StageRecord[] }
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

type Reply = { id: number; ok: true; result: CopyResult } | { id: number; ok: false; message: string };

/** The copy thread (started on first use) and the callers waiting for its replies. */
let thread: Worker | null = null;
const waiting = new Map<number, { resolve: (r: CopyResult) => void; reject: (e: QservError) => void; code: string }>();
let nextTask = 1;

function copyThread(): Worker {
  if (thread !== null) return thread;
  const t = new Worker(new URL("./chunkCopyThread.js", import.meta.url));
  t.on("message", (m: Reply) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) w?.resolve(m.result);
    else w?.reject(new QservError(w.code as "IO" | "BAD_INPUT", m.message));
  });
  const lost = (why: string) => {
    thread = null;
    for (const w of waiting.values()) w.reject(new QservError("INTERNAL", `copy thread ${why}`));
    waiting.clear();
  };
  t.on("error", (e) => lost(`failed: ${e.message}`));
  t.on("exit", () => lost("exited"));
  t.unref();
  thread = t;
  return t;
}

/** Runs one step in the copy thread; its failure is a QservError with `code`. */
export function runCopyTask<T extends CopyResult["t"]>(
  task: CopyTask,
  code: "IO" | "BAD_INPUT",
): Promise<Extract<CopyResult, { t: T }>> {
  return new Promise((resolve, reject) => {
    const id = nextTask++;
    waiting.set(id, { resolve: resolve as (r: CopyResult) => void, reject, code });
    copyThread().postMessage({ id, task });
  });
}
