/**
 * Planning off the czar's event loop: long statement texts (parsing and planning them takes
 * milliseconds per kilobyte) are parsed, and their SELECTs planned, by a small pool of threads
 * (planThread.ts), each with its own read-only connection to the metadata file. A plan is plain
 * data (strings, numbers), cheap to hand back; other statements come back as their AST. Short
 * texts never take the hop: the caller plans them inline.
 */
import { Worker } from "node:worker_threads";
import { type ErrorCode, QservError } from "../../common/errors.js";
import type { Statement } from "../sql/ast.js";
import type { Plan } from "./planner.js";

/** Texts this long (UTF-16 units) or longer are parsed and planned in a thread. */
export const OFF_LOOP_TEXT = 4096;

/**
 * Shorter texts with more operators and separators than this go to a thread too: planning cost
 * grows faster than the text with them (a 1.6 KB chain of 500 `* 1` took 0.7 s to plan inline on
 * a loaded machine), while the usual short query has a few dozen.
 */
export const OFF_LOOP_TERMS = 64;

const TERMS = /[-(,+*/%&|^~!<>=]|\b(?:AND|OR|XOR|NOT|WHEN|BINARY|DIV|MOD|IS|IN|LIKE|BETWEEN)\b/gi;

/** Whether a text is to be parsed and planned in a thread (long, or many operators). */
export function planOffLoop(sql: string): boolean {
  if (sql.length >= OFF_LOOP_TEXT) return true;
  if (sql.length < OFF_LOOP_TERMS) return false;
  TERMS.lastIndex = 0;
  let n = 0;
  while (TERMS.exec(sql) !== null) if (++n > OFF_LOOP_TERMS) return true;
  return false;
}

/** Heap one planner thread may use (MiB): past it the statement is refused (TOO_LARGE), the czar lives on. */
const THREAD_HEAP_MB = 1024;

export type PlanRequest =
  | { op: "parse"; id: number; sql: string; maxBytes: number; defaultDb: string | null }
  | { op: "replan"; id: number; defaultDb: string | null }
  | { op: "forget"; id: number };

export type PlanReply =
  | { id: number; kind: "plan"; plan: Plan }
  | { id: number; kind: "statement"; stmt: Statement }
  | { id: number; kind: "error"; code: ErrorCode; message: string; details?: Record<string, unknown> };

/** What a long text parsed to: a planned SELECT (to be planned again with `replan`) or another statement. */
export type Planned =
  | { kind: "plan"; plan: Plan; replan(defaultDb: string | null): Promise<Plan>; done(): void }
  | { kind: "statement"; stmt: Statement };

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve(r: PlanReply): void; reject(e: Error): void }>;
  /** Why it ended (its pending requests failed with this), once it has. */
  lost: QservError | null;
}

export class PlanPool {
  private readonly threads: Array<Thread | null>;
  private nextId = 1;

  /**
   * `metadataFile`: the czar's metadata (WAL), read by each thread. `holdFile` (tests only): while
   * it exists a thread waits before each text, having written `<holdFile>.reached`.
   */
  constructor(
    private readonly metadataFile: string,
    size = 2,
    private readonly holdFile?: string,
  ) {
    this.threads = Array.from({ length: size }, () => null);
  }

  /** Parses `sql` (and plans it, if a SELECT over tables) in a thread. */
  async parse(sql: string, maxBytes: number, defaultDb: string | null): Promise<Planned> {
    const t = this.leastBusy();
    const id = this.nextId++;
    const r = await this.ask(t, { op: "parse", id, sql, maxBytes, defaultDb });
    if (r.kind === "statement") return r;
    if (r.kind !== "plan") throw new Error("unreachable");
    return {
      kind: "plan",
      plan: r.plan,
      replan: async (db) => {
        const again = await this.ask(t, { op: "replan", id, defaultDb: db });
        if (again.kind !== "plan") throw new QservError("INTERNAL", "the planner thread answered no plan");
        return again.plan;
      },
      done: () => {
        if (t.lost === null) t.worker.postMessage({ op: "forget", id } satisfies PlanRequest);
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t?.worker.terminate()));
    this.threads.fill(null);
  }

  private ask(t: Thread, m: PlanRequest): Promise<PlanReply> {
    return new Promise<PlanReply>((resolve, reject) => {
      if (t.lost !== null) return reject(t.lost);
      t.pending.set(m.id, { resolve, reject });
      t.worker.postMessage(m);
    }).then((r) => {
      if (r.kind === "error") throw new QservError(r.code, r.message, r.details ?? {});
      return r;
    });
  }

  private leastBusy(): Thread {
    let best = 0;
    for (let i = 0; i < this.threads.length; i++) {
      const t = this.threads[i];
      if (t === null || t === undefined) {
        best = i;
        break;
      }
      if (t.pending.size < (this.threads[best]?.pending.size ?? 0)) best = i;
    }
    return this.threads[best] ?? this.start(best);
  }

  private start(i: number): Thread {
    const worker = new Worker(new URL("./planThread.js", import.meta.url), {
      workerData: { metadataFile: this.metadataFile, holdFile: this.holdFile },
      resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB },
    });
    const t: Thread = { worker, pending: new Map(), lost: null };
    worker.unref();
    worker.on("message", (r: PlanReply) => {
      const p = t.pending.get(r.id);
      t.pending.delete(r.id);
      p?.resolve(r);
    });
    // A thread that dies (out of its heap) fails what it held; the next text starts a new one.
    const lost = (e?: Error & { code?: string }) => {
      if (this.threads[i] === t) this.threads[i] = null;
      if (t.lost !== null) return;
      const err =
        e?.code === "ERR_WORKER_OUT_OF_MEMORY"
          ? new QservError("TOO_LARGE", `statement too large to plan: it took more than ${THREAD_HEAP_MB} MiB`)
          : new QservError("INTERNAL", `planner thread ended: ${e?.message ?? "exited"}`);
      t.lost = err;
      for (const p of t.pending.values()) p.reject(err);
      t.pending.clear();
    };
    worker.on("error", lost);
    worker.on("exit", () => lost());
    this.threads[i] = t;
    return t;
  }
}
