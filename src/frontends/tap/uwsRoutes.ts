/**
 * `/tap/async`: UWS 1.1. The job list (PHASE, AFTER, LAST filters), job creation (POST → 303 to
 * the job; PHASE=RUN starts it), and each job's resources: phase (RUN, ABORT), WAIT (blocks until
 * the phase changes), executionduration, destruction, quote, error, results/result (the result
 * file, streamed), parameters, owner; DELETE or POST ACTION=DELETE removes it.
 */
import { createReadStream } from "node:fs";
import type http from "node:http";
import { QservError } from "../../common/errors.js";
import { writeWithin } from "../../czar/writeWithin.js";
import type { Params } from "./params.js";
import { jobDocument, jobListDocument, parametersDocument, resultsDocument } from "./uwsDocs.js";
import { ACTIVE, type Job, MAX_EXECUTION_S, PHASES, type Phase } from "./uwsJobs.js";
import type { JobRunner } from "./uwsRunner.js";
import { errorDocument } from "./votable.js";

/** The longest a WAIT blocks (s), also for WAIT=-1. */
export const MAX_WAIT_S = 600;

const XML_TYPE = "text/xml; charset=utf-8";
const TEXT_TYPE = "text/plain; charset=utf-8";

const bad = (m: string) => new QservError("BAD_ARGUMENT", m);

/** Parameters that steer UWS rather than belong to the job's query. */
const CONTROL = new Set(["PHASE", "RUNID", "ACTION"]);

export interface AsyncRequest {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** The path under /tap/async, e.g. "", "/ID", "/ID/phase". */
  rest: string;
  /** The job list's URL, e.g. http://host/tap/async. */
  base: string;
  params: Params;
  signal: AbortSignal;
  timeoutMs: number;
}

function reply(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function redirect(res: http.ServerResponse, to: string): void {
  res.writeHead(303, { location: to, "content-length": 0 });
  res.end();
}

/** An ISO 8601 time, or BAD_ARGUMENT. */
function isoTime(name: string, text: string): string {
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
  if (!Number.isFinite(t)) throw bad(`${name} must be an ISO 8601 time, not '${text}'`);
  return new Date(t).toISOString();
}

function phaseFilter(params: Params): Set<Phase> | null {
  const asked = params.getAll("PHASE");
  if (asked.length === 0) return null;
  for (const p of asked) if (!(PHASES as readonly string[]).includes(p)) throw bad(`PHASE=${p} is not a UWS phase`);
  return new Set(asked as Phase[]);
}

/** GET /tap/async: the jobs, filtered by PHASE (repeatable), AFTER (created after) and LAST (the newest n). */
function list(r: JobRunner, a: AsyncRequest): void {
  const phases = phaseFilter(a.params);
  const afterText = a.params.get("AFTER");
  const after = afterText === undefined ? null : isoTime("AFTER", afterText);
  const lastText = a.params.get("LAST");
  if (lastText !== undefined && !/^\d+$/.test(lastText)) throw bad(`LAST must be a non-negative integer`);
  let jobs = r.store
    .list()
    .filter((j) => (phases === null ? j.phase !== "ARCHIVED" : phases.has(j.phase)))
    .filter((j) => after === null || j.creationTime > after);
  if (lastText !== undefined) jobs = jobs.reverse().slice(0, Number(lastText));
  reply(a.res, 200, XML_TYPE, jobListDocument(jobs, a.base));
}

function create(r: JobRunner, a: AsyncRequest): void {
  const parameters: Record<string, string> = {};
  for (const [k, v] of a.params.entries()) if (!CONTROL.has(k)) parameters[k] = v;
  const job = r.store.create(parameters, null, a.params.get("RUNID") ?? null);
  r.store.saveFiles(job.id, a.params.files);
  setTiming(r, job, a.params);
  const phase = a.params.get("PHASE");
  if (phase !== undefined && phase !== "RUN") throw bad(`PHASE=${phase} on creation: only RUN is accepted`);
  if (phase === "RUN") r.run(job);
  redirect(a.res, `${a.base}/${job.id}`);
}

/** EXECUTIONDURATION and DESTRUCTION given with a job's creation or to their own resources. */
function setTiming(r: JobRunner, job: Job, params: Params): void {
  const d = params.get("EXECUTIONDURATION");
  if (d !== undefined) {
    if (!/^\d+$/.test(d)) throw bad(`EXECUTIONDURATION must be a whole number of seconds, not '${d}'`);
    if (job.phase !== "PENDING") throw new QservError("CONFLICT", `job ${job.id} is ${job.phase}, no longer PENDING`);
    // 0 (no limit) and anything over the most allowed become the most allowed.
    const s = Number(d) === 0 ? MAX_EXECUTION_S : Math.min(Number(d), MAX_EXECUTION_S);
    r.store.update(job, { executionDuration: s });
  }
  const t = params.get("DESTRUCTION");
  if (t !== undefined) r.store.update(job, { destruction: isoTime("DESTRUCTION", t) });
}

/** Answers a request under /tap/async. */
export async function handleAsync(r: JobRunner, a: AsyncRequest): Promise<void> {
  const { req, res, params } = a;
  const m = a.rest.split("/").filter((s) => s !== "");
  const method = req.method ?? "GET";
  const get = method === "GET" || method === "HEAD";
  if (m.length === 0) {
    if (get) return list(r, a);
    if (method === "POST") return create(r, a);
    throw new QservError("NOT_FOUND", `no route ${method} /tap/async`);
  }
  const job = r.store.get(m[0]!);
  const jobUrl = `${a.base}/${job.id}`;
  const what = m.slice(1).join("/");
  const noRoute = () => new QservError("NOT_FOUND", `no route ${method} /tap/async/${job.id}/${what}`);
  switch (what) {
    case "": {
      if (method === "DELETE" || (method === "POST" && params.get("ACTION")?.toUpperCase() === "DELETE")) {
        r.remove(job);
        return redirect(res, a.base);
      }
      if (method === "POST") {
        if (params.has("PHASE")) return phase(r, job, params.get("PHASE")!, res, jobUrl);
        setTiming(r, job, params);
        return redirect(res, jobUrl);
      }
      if (!get) throw noRoute();
      await wait(r, job, a);
      return reply(res, 200, XML_TYPE, jobDocument(job, jobUrl));
    }
    case "phase":
      if (method === "POST") return phase(r, job, params.get("PHASE") ?? "", res, jobUrl);
      if (!get) throw noRoute();
      return reply(res, 200, TEXT_TYPE, job.phase);
    case "executionduration":
    case "destruction":
      if (method === "POST") {
        if (!params.has(what.toUpperCase())) throw bad(`${what.toUpperCase()} is required`);
        setTiming(r, job, params);
        return redirect(res, jobUrl);
      }
      if (!get) throw noRoute();
      return reply(res, 200, TEXT_TYPE, what === "destruction" ? job.destruction : String(job.executionDuration));
    case "quote":
    case "owner":
      if (!get) throw noRoute();
      return reply(res, 200, TEXT_TYPE, what === "owner" ? (job.ownerId ?? "") : "");
    case "error":
      if (!get) throw noRoute();
      if (job.phase !== "ERROR") throw new QservError("NOT_FOUND", `job ${job.id} is ${job.phase}: it has no error`);
      return reply(res, 200, "application/x-votable+xml", errorDocument(job.error ?? "the job failed"));
    case "parameters":
      if (method === "POST") {
        if (job.phase !== "PENDING")
          throw new QservError("CONFLICT", `job ${job.id} is ${job.phase}, no longer PENDING`);
        const parameters = { ...job.parameters };
        for (const [k, v] of params.entries()) if (!CONTROL.has(k)) parameters[k] = v;
        r.store.update(job, { parameters });
        return redirect(res, jobUrl);
      }
      if (!get) throw noRoute();
      return reply(res, 200, XML_TYPE, parametersDocument(job));
    case "results":
      if (!get) throw noRoute();
      return reply(res, 200, XML_TYPE, resultsDocument(job, jobUrl));
    case "results/result":
      if (!get) throw noRoute();
      return result(r, job, a);
    default:
      throw noRoute();
  }
}

function phase(r: JobRunner, job: Job, p: string, res: http.ServerResponse, jobUrl: string): void {
  if (p === "RUN") r.run(job);
  else if (p === "ABORT") r.abort(job);
  else throw bad(`PHASE=${p}: RUN or ABORT`);
  redirect(res, jobUrl);
}

/** WAIT=n (s; -1: as long as the server allows), optionally only while in PHASE. */
async function wait(r: JobRunner, job: Job, a: AsyncRequest): Promise<void> {
  const w = a.params.get("WAIT");
  if (w === undefined) return;
  if (!/^-?\d+$/.test(w)) throw bad(`WAIT must be a whole number of seconds, not '${w}'`);
  const s = Number(w) < 0 ? MAX_WAIT_S : Math.min(Number(w), MAX_WAIT_S);
  const p = a.params.get("PHASE");
  if (!ACTIVE.has(job.phase) || (p !== undefined && p !== job.phase)) return;
  await r.store.waitChange(job.id, job.phase, s * 1000, a.signal);
}

/** The result file, streamed (a client that reads nothing for the write timeout is let go). */
async function result(_r: JobRunner, job: Job, a: AsyncRequest): Promise<void> {
  if (job.phase !== "COMPLETED" || job.result === null) {
    throw new QservError("NOT_FOUND", `job ${job.id} is ${job.phase}: it has no result`);
  }
  const { res } = a;
  const file = _r.store.path(job.id, job.result.file);
  res.writeHead(200, { "content-type": job.result.contentType, "content-length": job.result.bytes });
  if (a.req.method === "HEAD") return void res.end();
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      await writeWithin(res, chunk as Buffer, a.timeoutMs);
    }
    res.end();
  } catch {
    res.destroy(); // a job removed meanwhile, or a client let go: the transfer is cut short
  }
}
