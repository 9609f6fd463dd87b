/**
 * Runs async TAP jobs: the query's document streamed to a file in the job's directory
 * (result.part, renamed once whole), the job's phase kept in its record. ABORT and an exceeded
 * execution duration stop the query as KILL does (its chunk queries are cancelled on every
 * worker). Jobs run as the czar's queries do, side by side; SHOW PROCESSLIST lists them.
 */
import { open, rename, rm } from "node:fs/promises";
import type { Logger } from "pino";
import { isQservError } from "../../common/errors.js";
import type { Czar } from "../../czar/czar.js";
import { Params } from "./params.js";
import { runTapQuery, tapQuery } from "./query.js";
import { DEFAULT_UPLOAD_SOURCES, fetchUploads, type UploadSources } from "./uploadUrl.js";
import { ACTIVE, type Job, type JobStore } from "./uwsJobs.js";
import { CONTENT_TYPE } from "./votable.js";

const EXTENSION = { binary2: "vot", tabledata: "vot", csv: "csv", tsv: "tsv", json: "json" } as const;

export class JobRunner {
  /** Running jobs: how to stop each, with the phase and message it then ends in. */
  private readonly running = new Map<string, (phase: "ABORTED" | "ERROR", why: string) => void>();

  constructor(
    private readonly czar: Czar,
    readonly store: JobStore,
    private readonly log?: Logger,
    private readonly uploads: UploadSources = DEFAULT_UPLOAD_SOURCES,
  ) {
    store.onTimer = () => this.sweep();
  }

  /** PHASE=RUN: a PENDING (or HELD) job starts; any other phase is left as it is (UWS). */
  run(job: Job): void {
    if (job.phase !== "PENDING" && job.phase !== "HELD") return;
    this.store.update(job, { phase: "QUEUED" });
    void this.execute(job);
  }

  /** PHASE=ABORT: a job not yet ended is ABORTED (a running query is cancelled). */
  abort(job: Job): void {
    if (!ACTIVE.has(job.phase) && job.phase !== "HELD") return;
    const stop = this.running.get(job.id);
    if (stop !== undefined) stop("ABORTED", "aborted");
    else this.store.update(job, { phase: "ABORTED", endTime: new Date().toISOString() });
  }

  /** Deletes a job (aborted first if running). */
  remove(job: Job): void {
    this.running.get(job.id)?.("ABORTED", "deleted");
    this.store.remove(job.id);
  }

  /** Removes jobs past their destruction time (running ones aborted); their ids. */
  sweep(): string[] {
    return this.store.sweep((id) => this.running.get(id)?.("ABORTED", "destroyed"));
  }

  private async execute(job: Job): Promise<void> {
    const controller = new AbortController();
    const state: { ending: { phase: "ABORTED" | "ERROR"; why: string } | null } = { ending: null };
    // The job ends in its phase at once; its query is cancelled on the workers meanwhile.
    const stop = (phase: "ABORTED" | "ERROR", why: string) => {
      if (state.ending !== null) return;
      state.ending = { phase, why };
      if (this.store.list().includes(job)) {
        this.store.update(job, { phase, endTime: new Date().toISOString(), error: phase === "ERROR" ? why : null });
      }
      this.log?.info({ job: job.id, phase, why }, "TAP job stopped");
      controller.abort();
    };
    this.running.set(job.id, stop);
    const duration = job.executionDuration;
    const timer =
      duration > 0
        ? setTimeout(
            () => stop("ERROR", `the job exceeded its execution duration of ${duration} s and was stopped`),
            duration * 1000,
          )
        : null;
    const part = this.store.path(job.id, "result.part");
    try {
      const params = new Params();
      for (const [k, v] of Object.entries(job.parameters)) params.add(k, v);
      for (const [k, v] of this.store.files(job.id)) params.files.set(k, v);
      await fetchUploads(params, this.uploads);
      const t = tapQuery(params);
      this.store.update(job, { phase: "EXECUTING", startTime: new Date().toISOString() });
      const fh = await open(part, "w");
      let run: Awaited<ReturnType<typeof runTapQuery>>;
      try {
        run = await runTapQuery(
          this.czar,
          t,
          async (data) => {
            await fh.write(data);
          },
          controller.signal,
          job.ownerId ?? `tap:${job.id}`,
        );
        await fh.sync();
      } finally {
        await fh.close();
      }
      const file = `result.${EXTENSION[t.format]}`;
      await rename(part, this.store.path(job.id, file));
      if (state.ending !== null) throw new Error("stopped");
      const result = { file, contentType: CONTENT_TYPE[t.format], rows: run.rows, bytes: run.bytes };
      this.store.update(job, { phase: "COMPLETED", endTime: new Date().toISOString(), result });
      this.log?.info({ job: job.id, rows: run.rows, bytes: run.bytes }, "TAP job completed");
    } catch (e) {
      await rm(part, { force: true });
      if (state.ending === null && this.store.list().includes(job)) {
        const why = isQservError(e) || e instanceof Error ? e.message : String(e);
        this.store.update(job, { phase: "ERROR", endTime: new Date().toISOString(), error: why });
        this.log?.info({ job: job.id, why }, "TAP job failed");
      }
    } finally {
      if (timer !== null) clearTimeout(timer);
      this.running.delete(job.id);
    }
  }
}
