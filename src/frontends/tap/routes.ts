/**
 * The IVOA TAP service under `/tap` on the czar's HTTP port: sync queries, async UWS jobs, VOSI
 * tables, capabilities and availability, DALI examples. Errors are VOTable error documents with
 * a 4xx/5xx status.
 */
import type http from "node:http";
import { join } from "node:path";
import type { Logger } from "pino";
import { isQservError, QservError } from "../../common/errors.js";
import type { Czar } from "../../czar/czar.js";
import { examplesDocument } from "./examples.js";
import { readParams } from "./params.js";
import { syncQuery } from "./sync.js";
import { DEFAULT_UPLOAD_SOURCES, type UploadSources } from "./uploadUrl.js";
import { JobStore } from "./uwsJobs.js";
import { handleAsync } from "./uwsRoutes.js";
import { JobRunner } from "./uwsRunner.js";
import { availabilityDocument, capabilitiesDocument, tablesDocument } from "./vosi.js";
import { errorDocument } from "./votable.js";

const XML_TYPE = "text/xml; charset=utf-8";

/** The TAP service of a czar: its query engine and its async jobs (kept under `dataDir`). */
export class TapService {
  readonly jobs: JobRunner;
  constructor(
    readonly czar: Czar,
    dataDir: string,
    log?: Logger,
    /** Where UPLOAD by URL may read (file:// under the ingest roots, http). */
    readonly uploads: UploadSources = DEFAULT_UPLOAD_SOURCES,
  ) {
    this.jobs = new JobRunner(czar, new JobStore(join(dataDir, "jobs"), log), log, uploads);
  }
  /** Removes the jobs past their destruction time (the gc pass); their ids. */
  sweep(): string[] {
    return this.jobs.sweep();
  }
  close(): void {
    this.jobs.store.close();
  }
}

function reply(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    server: "mini-qserv TAP",
  });
  res.end(body);
}

/**
 * Answers a request whose path starts with /tap; `status` maps an error to its HTTP status,
 * `timeoutMs` is how long a write may wait for the client. Resolves once the answer is written.
 */
export async function handleTap(
  tap: TapService,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  signal: AbortSignal,
  status: (e: unknown) => number,
  timeoutMs: number,
): Promise<void> {
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
  const path = url.pathname.replace(/\/+$/, "");
  const base = `http://${req.headers.host ?? "localhost"}/tap`;
  try {
    const get = req.method === "GET" || req.method === "HEAD";
    if (path === "/tap/sync" && (get || req.method === "POST")) {
      return await syncQuery(tap.czar, await readParams(req, url), res, signal, timeoutMs, tap.uploads);
    }
    if (path === "/tap/async" || path.startsWith("/tap/async/")) {
      const params = await readParams(req, url);
      const rest = path.slice("/tap/async".length);
      return await handleAsync(tap.jobs, { req, res, rest, base: `${base}/async`, params, signal, timeoutMs });
    }
    if (!get) throw new QservError("NOT_FOUND", `no route ${req.method} ${path}`);
    switch (path) {
      case "/tap/tables":
        return reply(res, 200, XML_TYPE, tablesDocument(tap.czar.catalog));
      case "/tap/capabilities":
        return reply(res, 200, XML_TYPE, capabilitiesDocument(base));
      case "/tap/availability":
        return reply(res, 200, XML_TYPE, availabilityDocument());
      case "/tap/examples":
        return reply(res, 200, "application/xhtml+xml; charset=utf-8", examplesDocument(tap.czar.catalog));
      default:
        throw new QservError(
          "NOT_FOUND",
          `no route GET ${path} (/tap/sync, /tap/async, /tap/tables, /tap/capabilities, /tap/availability, /tap/examples)`,
        );
    }
  } catch (e) {
    const message = isQservError(e) ? e.message : e instanceof Error ? e.message : String(e);
    if (!res.headersSent) reply(res, status(e), "application/x-votable+xml", errorDocument(message));
  }
}
