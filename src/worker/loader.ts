import { Worker } from "node:worker_threads";
import { QservError } from "../common/errors.js";
import type { LoadPart } from "./messages.js";
import type { FromLoadThread, LoadCounts, LoadJob, StageRef, ToLoadThread } from "./threadMessages.js";

type Reply = Exclude<FromLoadThread, { t: "failed" }>;

interface Waiter {
  resolve: (m: Reply) => void;
  reject: (e: QservError) => void;
}

/**
 * The main thread's side of the load thread: every request is a promise of the reply to it.
 * Replies to one load come in the order of its requests, so each load keeps a queue of waiters;
 * a failure rejects them all.
 */
export class Loader {
  private readonly thread: Worker;
  private readonly waiters = new Map<number, Waiter[]>();
  private nextId = 1;

  constructor() {
    this.thread = new Worker(new URL("./loadThread.js", import.meta.url));
    this.thread.on("message", (m: FromLoadThread) => this.onMessage(m));
    this.thread.on("error", (e) => this.failAll(new QservError("INTERNAL", `load thread failed: ${e.message}`)));
    this.thread.unref();
  }

  get running(): number {
    return this.waiters.size;
  }

  newId(): number {
    return this.nextId++;
  }

  /** Opens the transaction; resolves to the counts of an earlier commit of the same load id, if any. */
  async begin(job: LoadJob): Promise<LoadCounts | null> {
    const r = await this.request({ t: "begin", ...job });
    const duplicate = r.t === "begun" ? r.duplicate : null;
    if (duplicate !== null) this.waiters.delete(job.id);
    return duplicate;
  }

  async data(id: number, part: LoadPart, data: Uint8Array): Promise<void> {
    await this.request({ t: "data", id, part, data });
  }

  async commit(id: number): Promise<{ loaded: LoadCounts; totals: LoadCounts }> {
    const r = await this.request({ t: "commit", id });
    if (r.t !== "committed") throw new QservError("INTERNAL", `unexpected load reply ${r.t}`);
    return { loaded: r.loaded, totals: r.totals };
  }

  /** Rolls the load back; never throws (a failed load is rolled back already). */
  async abort(id: number): Promise<void> {
    await this.request({ t: "abort", id }).catch(() => {});
    this.waiters.delete(id);
  }

  /** Drops a table from a file; resolves to true when the file is left without tables. */
  async dropTable(file: string, table: string, chunkId: number): Promise<boolean> {
    const r = await this.request({ t: "dropTable", id: this.newId(), file, table, chunkId });
    return r.t === "dropped" && r.empty;
  }

  /** Moves a stage into the live tables of its file (in the load thread, one transaction). */
  async publish(r: Omit<StageRef, "id">): Promise<Extract<FromLoadThread, { t: "published" }>> {
    const m = await this.request({ t: "publish", id: this.newId(), ...r });
    if (m.t !== "published") throw new QservError("INTERNAL", `unexpected load reply ${m.t}`);
    return m;
  }

  /** Undoes the publish of a stage in its file (in the load thread, one transaction). */
  async unpublish(r: Omit<StageRef, "id">): Promise<Extract<FromLoadThread, { t: "unpublished" }>> {
    const m = await this.request({ t: "unpublish", id: this.newId(), ...r });
    if (m.t !== "unpublished") throw new QservError("INTERNAL", `unexpected load reply ${m.t}`);
    return m;
  }

  /** Drops a table's pending stage ("*": every one) from a file; true when the file is left empty. */
  async dropStage(r: Omit<StageRef, "id">): Promise<boolean> {
    const m = await this.request({ t: "dropStage", id: this.newId(), ...r });
    return m.t === "dropped" && m.empty;
  }

  async close(): Promise<void> {
    this.failAll(new QservError("CANCELLED", "worker is shutting down"));
    await this.thread.terminate();
  }

  private request(m: ToLoadThread): Promise<Reply> {
    return new Promise((resolve, reject) => {
      let q = this.waiters.get(m.id);
      if (q === undefined) {
        q = [];
        this.waiters.set(m.id, q);
      }
      q.push({ resolve, reject });
      this.thread.postMessage(m);
    });
  }

  private onMessage(m: FromLoadThread): void {
    const q = this.waiters.get(m.id);
    if (q === undefined) return;
    if (m.t === "failed") {
      this.waiters.delete(m.id);
      for (const w of q) w.reject(new QservError(m.code, m.message));
      return;
    }
    q.shift()?.resolve(m);
    if (q.length === 0 && m.t !== "begun" && m.t !== "ack") this.waiters.delete(m.id);
  }

  private failAll(e: QservError): void {
    for (const q of this.waiters.values()) for (const w of q) w.reject(e);
    this.waiters.clear();
  }
}
