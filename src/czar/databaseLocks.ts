/**
 * Two locks per database. The readers–writer lock: queries (while their chunks run on the
 * workers; not while a client reads, their rows are spooled on the czar) and publishes hold it
 * shared — a query sees all of a load or none of it by its snapshot (Metadata.snapshotSeq), not by
 * waiting — and what removes rows or files (gc, drops) holds it alone. The writer lock: one
 * publish of a database at a time. Waiters are served in arrival order, so no side starves. No
 * wait is unbounded: past the lock wait timeout, or when its signal aborts, a waiter gives up with
 * an error naming what it waited for.
 */
import { QservError } from "../common/errors.js";

export const DEFAULT_LOCK_WAIT_TIMEOUT_MS = 300_000;

export class DatabaseLocks {
  private readonly locks = new Map<string, Lock>();
  private readonly writers = new Map<string, Lock>();

  /** `waitTimeoutMs`: the longest a query or a publish waits for a database (0: no limit). */
  constructor(private readonly waitTimeoutMs = DEFAULT_LOCK_WAIT_TIMEOUT_MS) {}

  /** Resolves, once no publish holds or awaits the database, to the function that releases it. */
  shared(db: string, signal?: AbortSignal): Promise<() => void> {
    return this.lock(db).acquire(false, this.waitTimeoutMs, signal);
  }

  /** Resolves, once nothing else holds the database, to the function that releases it. */
  exclusive(db: string, signal?: AbortSignal): Promise<() => void> {
    return this.lock(db).acquire(true, this.waitTimeoutMs, signal);
  }

  /** Resolves, once no other publish of the database runs or waits before it, to its release. */
  writer(db: string, signal?: AbortSignal): Promise<() => void> {
    return this.lock(db, this.writers, "another load publishing").acquire(true, this.waitTimeoutMs, signal);
  }

  private lock(db: string, locks = this.locks, what?: string): Lock {
    let l = locks.get(db);
    if (l === undefined) {
      l = new Lock(db, () => locks.delete(db), what);
      locks.set(db, l);
    }
    return l;
  }
}

interface Waiter {
  exclusive: boolean;
  grant: () => void;
}

class Lock {
  private readers = 0;
  private writer = false;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly db: string,
    private readonly onIdle: () => void,
    /** What holds it, named in a timeout (default: by the holders' kinds). */
    private readonly what?: string,
  ) {}

  acquire(exclusive: boolean, timeoutMs: number, signal?: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new QservError("CANCELLED", "cancelled while waiting for the database"));
        return;
      }
      const giveUp = (err: QservError) => {
        const i = this.queue.indexOf(w);
        if (i < 0) return;
        this.queue.splice(i, 1);
        stop();
        reject(err);
        this.next();
      };
      const onAbort = () => giveUp(new QservError("CANCELLED", "cancelled while waiting for the database"));
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              const held =
                this.what ??
                (exclusive
                  ? `${this.readers} running ${this.readers === 1 ? "query or publish" : "queries or publishes"}`
                  : "a drop or garbage collection");
              giveUp(
                new QservError(
                  "UNAVAILABLE",
                  `lock wait timeout: waited ${timeoutMs / 1000} s for database '${this.db}' (${held})`,
                ),
              );
            }, timeoutMs)
          : undefined;
      const stop = () => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const w: Waiter = {
        exclusive,
        grant: () => {
          stop();
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            if (exclusive) this.writer = false;
            else this.readers--;
            this.next();
          });
        },
      };
      this.queue.push(w);
      this.next();
    });
  }

  private next(): void {
    for (let w = this.queue[0]; w !== undefined && !this.writer; w = this.queue[0]) {
      if (w.exclusive && this.readers > 0) return;
      this.queue.shift();
      if (w.exclusive) this.writer = true;
      else this.readers++;
      w.grant();
    }
    if (!this.writer && this.readers === 0 && this.queue.length === 0) this.onIdle();
  }
}
