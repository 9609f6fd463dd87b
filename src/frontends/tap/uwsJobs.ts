/**
 * The UWS job store: each async TAP job is a directory under the czar's DATA_DIR/tap/jobs, holding
 * job.json (parameters, phase, times, error) and, once COMPLETED, its result file. A job record is
 * rewritten whole (temp file, then rename) at each change, so a czar that dies leaves each record
 * as it was last written; on start, a job that was QUEUED or EXECUTING is set to ERROR. A job whose
 * destruction time has passed is gone: removed from disk by `sweep` (a timer, the gc pass) and
 * never served after it.
 */
import { randomInt } from "node:crypto";
import { EventEmitter } from "node:events";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { QservError } from "../../common/errors.js";

export const PHASES = [
  "PENDING",
  "QUEUED",
  "EXECUTING",
  "COMPLETED",
  "ERROR",
  "ABORTED",
  "UNKNOWN",
  "HELD",
  "SUSPENDED",
  "ARCHIVED",
] as const;
export type Phase = (typeof PHASES)[number];

/** Phases a job may still leave by itself. */
export const ACTIVE: ReadonlySet<Phase> = new Set(["PENDING", "QUEUED", "EXECUTING"]);

export interface JobResult {
  /** The file in the job's directory. */
  file: string;
  contentType: string;
  rows: number;
  bytes: number;
}

export interface Job {
  id: string;
  runId: string | null;
  ownerId: string | null;
  phase: Phase;
  creationTime: string;
  startTime: string | null;
  endTime: string | null;
  /** Seconds the job may execute (0: no limit). */
  executionDuration: number;
  destruction: string;
  /** Parameters, names upper-cased, as given at creation or later while PENDING. */
  parameters: Record<string, string>;
  error: string | null;
  result: JobResult | null;
}

/** Defaults of a new job. */
export const DEFAULT_EXECUTION_S = 3600;
export const MAX_EXECUTION_S = 86_400;
export const DEFAULT_DESTRUCTION_S = 7 * 86_400;

const JOB_FILE = "job.json";

export class JobStore {
  private readonly jobs = new Map<string, Job>();
  private readonly events = new EventEmitter();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly dir: string,
    private readonly log?: Logger,
  ) {
    this.events.setMaxListeners(0);
    mkdirSync(dir, { recursive: true });
    for (const id of readdirSync(dir)) this.load(id);
    this.sweep();
  }

  /** A job's directory. */
  path(id: string, file = ""): string {
    return join(this.dir, id, file);
  }

  private load(id: string): void {
    const f = this.path(id, JOB_FILE);
    let job: Job;
    try {
      job = JSON.parse(readFileSync(f, "utf8")) as Job;
    } catch (e) {
      // A job directory whose record was never written whole: its creation did not finish.
      this.log?.warn({ job: id, err: String(e) }, "TAP job without a readable record removed");
      rmSync(this.path(id), { recursive: true, force: true });
      return;
    }
    this.jobs.set(id, job);
    if (job.phase === "QUEUED" || job.phase === "EXECUTING") {
      this.update(job, {
        phase: "ERROR",
        endTime: new Date().toISOString(),
        error: `the czar stopped while this job was ${job.phase}; its result was lost: submit the query again`,
      });
      rmSync(this.path(id, "result.part"), { force: true });
    }
  }

  create(parameters: Record<string, string>, ownerId: string | null, runId: string | null): Job {
    const now = Date.now();
    // Digits, as Qserv's query ids (SELECT * FROM qserv_result(id) takes the same id).
    let id = String(randomInt(1, 2 ** 48));
    while (this.jobs.has(id)) id = String(randomInt(1, 2 ** 48));
    const job: Job = {
      id,
      runId,
      ownerId,
      phase: "PENDING",
      creationTime: new Date(now).toISOString(),
      startTime: null,
      endTime: null,
      executionDuration: DEFAULT_EXECUTION_S,
      destruction: new Date(now + DEFAULT_DESTRUCTION_S * 1000).toISOString(),
      parameters,
      error: null,
      result: null,
    };
    mkdirSync(this.path(id), { recursive: true });
    this.jobs.set(id, job);
    this.write(job);
    this.schedule();
    return job;
  }

  /** Keeps a new job's uploaded files (multipart parts, by name) in its directory. */
  saveFiles(id: string, files: ReadonlyMap<string, Buffer>): void {
    for (const [name, data] of files) writeFileSync(this.path(id, `upload.${encodeURIComponent(name)}`), data);
  }

  /** A job's uploaded files, by part name. */
  files(id: string): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const f of readdirSync(this.path(id))) {
      if (f.startsWith("upload.")) out.set(decodeURIComponent(f.slice(7)), readFileSync(this.path(id, f)));
    }
    return out;
  }

  /** The job, or NOT_FOUND (also once its destruction time has passed). */
  get(id: string): Job {
    const job = this.jobs.get(id);
    if (job === undefined || Date.parse(job.destruction) <= Date.now()) {
      throw new QservError("NOT_FOUND", `no TAP job ${id}`);
    }
    return job;
  }

  /** Jobs not yet destroyed, oldest first. */
  list(): Job[] {
    const now = Date.now();
    return [...this.jobs.values()]
      .filter((j) => Date.parse(j.destruction) > now)
      .sort((a, b) => a.creationTime.localeCompare(b.creationTime));
  }

  /** Changes a job and writes its record; a change of phase wakes those waiting on it. */
  update(job: Job, patch: Partial<Omit<Job, "id">>): void {
    const before = job.phase;
    Object.assign(job, patch);
    this.write(job);
    if (patch.destruction !== undefined) this.schedule();
    if (job.phase !== before) this.events.emit(job.id, job.phase);
  }

  /**
   * Resolves once the job leaves `phase`, is removed, `timeoutMs` passes or `signal` aborts
   * (UWS WAIT: blocking, woken by the change itself).
   */
  waitChange(id: string, phase: Phase, timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.events.off(id, done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.events.on(id, done);
      signal.addEventListener("abort", done, { once: true });
      if (signal.aborted || this.jobs.get(id)?.phase !== phase) done();
    });
  }

  /** Removes a job: its record and its result. */
  remove(id: string): void {
    if (!this.jobs.delete(id)) return;
    rmSync(this.path(id), { recursive: true, force: true });
    this.events.emit(id, "ARCHIVED");
  }

  /**
   * Removes the jobs whose destruction time has passed (`abort` first stops one still running);
   * their ids.
   */
  sweep(abort: (id: string) => void = () => {}): string[] {
    const now = Date.now();
    const gone = [...this.jobs.values()].filter((j) => Date.parse(j.destruction) <= now).map((j) => j.id);
    for (const id of gone) {
      abort(id);
      this.remove(id);
      this.log?.info({ job: id }, "TAP job destroyed");
    }
    // Directories without a job (a removal the czar died in).
    for (const d of existsSync(this.dir) ? readdirSync(this.dir) : []) {
      if (!this.jobs.has(d)) rmSync(this.path(d), { recursive: true, force: true });
    }
    this.schedule();
    return gone;
  }

  /** Sets the timer of the next destruction. */
  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const next = Math.min(...[...this.jobs.values()].map((j) => Date.parse(j.destruction)));
    if (!Number.isFinite(next)) return;
    const delay = Math.max(0, Math.min(next - Date.now(), 2 ** 31 - 1));
    this.timer = setTimeout(() => this.onTimer(), delay);
    this.timer.unref();
  }

  /** The destruction timer's sweep; the runner sets how running jobs are stopped. */
  onTimer: () => void = () => this.sweep();

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private write(job: Job): void {
    const f = this.path(job.id, JOB_FILE);
    writeFileSync(`${f}.tmp`, JSON.stringify(job));
    renameSync(`${f}.tmp`, f);
  }
}
