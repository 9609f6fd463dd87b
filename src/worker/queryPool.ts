import fs from "node:fs";
import { Worker } from "node:worker_threads";
import { type ErrorCode, QservError } from "../common/errors.js";
import type { ResultColumn } from "./messages.js";
import {
  CTRL_CANCEL,
  CTRL_CREDITS,
  CTRL_SLOTS,
  type FromQueryThread,
  type QueryJob,
  type ToQueryThread,
} from "./threadMessages.js";

/** Batches a thread may have sent and not yet seen taken by gRPC. */
const WINDOW = 4;
/** How long a cancelled job may take to notice before its thread is replaced. */
const CANCEL_GRACE_MS = 250;

/** What the pool tells the caller about its job. */
export interface JobSink {
  header(columns: ResultColumn[]): void;
  /** A batch; call `taken()` once it has been handed on, to let the thread produce more. */
  batch(rows: number, data: Buffer, taken: () => void): void;
  done(summary: { rows: number; bytes: number; execMs: number; queuedMs: number }): void;
  error(err: QservError): void;
}

export interface JobHandle {
  cancel(): void;
}

type JobSpec = Omit<QueryJob, "job">;

interface Slot {
  thread: Worker;
  ctrl: Int32Array;
  job: { id: number; sink: JobSink; startedAt: number; queuedMs: number; cancelTimer?: NodeJS.Timeout } | null;
}

interface Queued {
  id: number;
  spec: JobSpec;
  sink: JobSink;
  enqueuedAt: number;
}

/**
 * Chunk connections each of `threads` executor threads may keep open: up to 1024, within a half
 * of the process's open-file limit (Linux: /proc/self/limits; 256 when it cannot be read).
 */
export function connectionsPerThread(threads: number): number {
  let limit = 0;
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync("/proc/self/limits", "utf8"));
    limit = m === null ? 0 : Number(m[1]);
  } catch {
    // not Linux
  }
  if (limit === 0) return 256;
  return Math.max(16, Math.min(1024, Math.floor(limit / 2 / Math.max(1, threads))));
}

/** N executor threads; jobs beyond N wait in arrival order. */
export class QueryPool {
  private readonly slots: Slot[] = [];
  /** Every executor thread not yet exited, those replaced while inside a SQLite step included. */
  private readonly alive = new Set<Worker>();
  private readonly queue: Queued[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const slot = { job: null } as Slot;
      this.startThread(slot);
      this.slots.push(slot);
    }
  }

  get running(): number {
    return this.slots.filter((s) => s.job !== null).length;
  }

  get queued(): number {
    return this.queue.length;
  }

  run(spec: JobSpec, sink: JobSink): JobHandle {
    if (this.closed) throw new QservError("UNAVAILABLE", "worker is shutting down");
    const q: Queued = { id: this.nextId++, spec, sink, enqueuedAt: performance.now() };
    this.queue.push(q);
    this.pump();
    return { cancel: () => this.cancel(q.id) };
  }

  /** Tells every thread to close its connections to `file` (dropped or replaced). */
  closeFile(file: string): void {
    for (const s of this.slots) s.thread.postMessage({ t: "close", file } satisfies ToQueryThread);
  }

  /** Stops every thread; resolves to the number still inside a SQLite step (they end with the process). */
  async close(): Promise<number> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.sink.error(new QservError("CANCELLED", "worker is shutting down"));
    // A thread inside a long SQLite step only stops when the step returns: do not wait for it.
    const stopped = Promise.all([...this.alive].map((t) => t.terminate()));
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 500).unref())]);
    return this.alive.size;
  }

  /** Gives the slot a new thread (and control array) wired to this pool. */
  private startThread(slot: Slot): void {
    slot.ctrl = new Int32Array(new SharedArrayBuffer(CTRL_SLOTS * 4));
    const thread = new Worker(new URL("./queryThread.js", import.meta.url), {
      workerData: { ctrl: slot.ctrl.buffer, maxConnections: connectionsPerThread(this.size) },
    });
    thread.on("message", (m: FromQueryThread) => this.onMessage(slot, m));
    thread.on("error", (e) => this.onThreadLost(slot, `executor thread failed: ${e.message}`));
    thread.on("exit", () => this.onThreadLost(slot, "executor thread exited"));
    thread.unref();
    this.alive.add(thread);
    thread.once("exit", () => this.alive.delete(thread));
    slot.thread = thread;
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job !== null) continue;
      const q = this.queue.shift()!;
      const now = performance.now();
      slot.job = { id: q.id, sink: q.sink, startedAt: now, queuedMs: now - q.enqueuedAt };
      Atomics.store(slot.ctrl, CTRL_CREDITS, WINDOW);
      slot.thread.postMessage({ t: "query", job: q.id, ...q.spec } satisfies ToQueryThread);
    }
  }

  private cancel(id: number): void {
    const i = this.queue.findIndex((q) => q.id === id);
    if (i >= 0) {
      const [q] = this.queue.splice(i, 1);
      q!.sink.error(new QservError("CANCELLED", "query cancelled"));
      return;
    }
    const slot = this.slots.find((s) => s.job?.id === id);
    if (slot === undefined || slot.job === null || slot.job.cancelTimer !== undefined) return;
    Atomics.store(slot.ctrl, CTRL_CANCEL, id);
    Atomics.notify(slot.ctrl, CTRL_CREDITS);
    // A scan that yields no rows never looks at the flag: replace its thread. (better-sqlite3 has
    // no sqlite3_interrupt; the old thread stops when its current statement ends.)
    slot.job.cancelTimer = setTimeout(() => {
      if (slot.job?.id !== id || this.closed) return;
      this.replace(slot, "CANCELLED", "query cancelled");
    }, CANCEL_GRACE_MS);
  }

  private finish(slot: Slot): { sink: JobSink; queuedMs: number } | null {
    const job = slot.job;
    if (job === null) return null;
    clearTimeout(job.cancelTimer);
    slot.job = null;
    setImmediate(() => this.pump());
    return { sink: job.sink, queuedMs: job.queuedMs };
  }

  private onMessage(slot: Slot, m: FromQueryThread): void {
    const job = slot.job;
    if (job === null || job.id !== m.job) return; // a late message of a replaced job
    switch (m.t) {
      case "header":
        job.sink.header(m.columns);
        return;
      case "batch": {
        let given = false;
        job.sink.batch(m.rows, Buffer.from(m.data, m.offset, m.length), () => {
          if (given || slot.job?.id !== m.job) return;
          given = true;
          Atomics.add(slot.ctrl, CTRL_CREDITS, 1);
          Atomics.notify(slot.ctrl, CTRL_CREDITS);
        });
        return;
      }
      case "done": {
        const f = this.finish(slot)!;
        f.sink.done({ rows: m.rows, bytes: m.bytes, execMs: m.execMs, queuedMs: f.queuedMs });
        return;
      }
      case "error":
        this.finish(slot)!.sink.error(new QservError(m.code, m.message));
        return;
    }
  }

  /** Ends the slot's job with an error and gives the slot a fresh thread. */
  private replace(slot: Slot, code: ErrorCode, message: string): void {
    const old = slot.thread;
    old.removeAllListeners();
    old.on("error", () => {});
    void old.terminate();
    this.startThread(slot);
    this.finish(slot)?.sink.error(new QservError(code, message));
  }

  private onThreadLost(slot: Slot, message: string): void {
    if (this.closed) {
      this.finish(slot)?.sink.error(new QservError("CANCELLED", "worker is shutting down"));
      return;
    }
    this.replace(slot, "INTERNAL", message);
  }
}
