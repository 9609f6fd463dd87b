/**
 * The czar's HTTP JSON API: `POST /query` {"query","database"} → {"columns","rows","stats"},
 * written as the rows come (src/frontends/http/jsonAnswer.ts: an error after rows started cuts the body
 * short), `POST /ingest` {"database","table","files"}, `GET /ingest` (or `/loads`; `?database=&table=`:
 * the recorded loads), `DELETE /ingest/<loadId>` (unload one), `GET /status` (workers, databases, queries and
 * ingests under way), `GET /watch` / `POST /watch` (watched directories), `POST /replicate` (one repair pass), `POST /gc` (one garbage collection pass),
 * and the web console's `GET /`, `/console/...`, `/events`, `/history`, `/chunks` (src/frontends/web/routes.ts). Errors: {"error": {"code","message","line","column"}} with a 4xx/5xx
 * status. An ingest asked for progress (`"progress":
 * true` or `Accept: application/x-ndjson`) answers 200 with NDJSON: {"progress": {...}} lines,
 * then one {"result": ...} or {"error": ...} line. A client that goes away cancels its request.
 * Every request, /tap included, is first checked by src/czar/auth/httpAuth.ts (users, roles).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { type ErrorCode, isQservError, QservError } from "../../common/errors.js";
import { authorize, type HttpAuth, roleFor } from "../../czar/auth/httpAuth.js";
import type { Czar, Session } from "../../czar/czar.js";
import { isUpload, type ReceivedUpload } from "../../czar/ingestInput.js";
import { writeWithin } from "../../czar/writeWithin.js";
import type { WatchRegistry } from "../../watch/registry.js";
import { handleTap, type TapService } from "../tap/routes.js";
import { handleWeb, isWebRoute, type WebSources } from "../web/routes.js";
import { JsonAnswer } from "./jsonAnswer.js";
import { readBody } from "./requestBody.js";
import { watchRoute } from "./watchRoutes.js";

/** Who is asking: their name, and whether they see only their own queries (not an admin). */
export type Caller = Pick<Session, "user" | "ownQueriesOnly" | "readOnly">;

export interface HttpRoutes {
  czar: Czar;
  /** Users and the login throttle every request is checked against (src/czar/auth/httpAuth.ts). */
  auth: HttpAuth;
  tap: TapService;
  ingest(
    body: Record<string, unknown>,
    signal: AbortSignal,
    onProgress?: (p: unknown) => void,
    upload?: ReceivedUpload,
  ): Promise<unknown>;
  /** Receives an upload's files (src/czar/ingestInput.ts) for `ingest`. */
  receiveUpload(req: http.IncomingMessage): Promise<ReceivedUpload>;
  /** The cluster's state; the running queries are those `caller` may see. */
  status(caller: Caller): Promise<unknown>;
  /** One replica repair pass; what it copied, adopted and dropped. */
  replicate(): Promise<unknown>;
  /** One garbage collection pass; what it removed. */
  gc(): Promise<unknown>;
  /** Recorded loads, of one database and table when given. */
  loads(database?: string, table?: string): unknown;
  /** Takes one load out. */
  unload(loadId: string, signal: AbortSignal): Promise<unknown>;
  /** What the watchers of directories report (src/watch/registry.ts). */
  watch?: WatchRegistry;
  /** The web console (src/frontends/web/routes.ts). */
  web?: WebSources;
}

/** Progress lines of a streamed ingest: at most one per this many ms within a phase. */
const PROGRESS_EVERY_MS = 200;

const STATUS_OF: Record<ErrorCode, number> = {
  BAD_CONFIG: 400,
  BAD_INPUT: 400,
  BAD_REGION: 400,
  BAD_ARGUMENT: 400,
  SYNTAX_ERROR: 400,
  SQL_ERROR: 400,
  BAD_QUERY: 400,
  UNSUPPORTED: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_LARGE: 413,
  CANCELLED: 409,
  IO: 500,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
};

/** What a handler returns once it has written its answer itself. */
const STREAMED = Symbol("streamed");

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  let v: unknown;
  try {
    v = JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw new QservError("BAD_ARGUMENT", `request body is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new QservError("BAD_ARGUMENT", "request body must be a JSON object");
  }
  return v as Record<string, unknown>;
}

/** Bytes of an answer written at a time (each write may wait for the client, within the write timeout). */
const WRITE_SLICE = 1 << 20;

/**
 * Writes a JSON answer; a client that reads nothing of it for `timeoutMs` is disconnected (the
 * answer is dropped), as is one that goes away.
 */
async function send(res: http.ServerResponse, status: number, body: unknown, timeoutMs = 0): Promise<void> {
  const bytes = Buffer.from(JSON.stringify(body), "utf8");
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": bytes.length,
  });
  for (let at = 0; at < bytes.length; at += WRITE_SLICE) {
    await writeWithin(res, bytes.subarray(at, at + WRITE_SLICE), timeoutMs);
  }
  res.end();
}

export function errorBody(e: unknown): { status: number; body: unknown } {
  const err = isQservError(e) ? e : new QservError("INTERNAL", e instanceof Error ? e.message : String(e));
  const d = err.details as { line?: unknown; column?: unknown };
  const pos = typeof d.line === "number" ? { line: d.line, column: d.column } : {};
  return { status: STATUS_OF[err.code] ?? 500, body: { error: { code: err.code, message: err.message, ...pos } } };
}

/** Rows of an answer the czar holds whole, handed to the JSON writer at a time. */
const ROWS_PER_BATCH = 1000;

/** `POST /query`: the answer written as its rows come (src/frontends/http/jsonAnswer.ts). */
async function query(
  r: HttpRoutes,
  caller: Caller,
  body: Record<string, unknown>,
  res: http.ServerResponse,
  signal: AbortSignal,
  timeoutMs: number,
  log: Logger,
): Promise<void> {
  const sql = body.query;
  const db = body.database ?? null;
  if (typeof sql !== "string") throw new QservError("BAD_ARGUMENT", `"query" must be a string`);
  if (db !== null && typeof db !== "string") throw new QservError("BAD_ARGUMENT", `"database" must be a string`);
  const timeout = body.timeout;
  if (timeout !== undefined && (typeof timeout !== "number" || !(timeout >= 0))) {
    throw new QservError("BAD_ARGUMENT", `"timeout" must be a number of seconds (0: none)`);
  }
  const session: Session = {
    ...caller,
    database: db === "" ? null : db,
    ...(timeout === undefined ? {} : { timeoutMs: timeout * 1000 }),
  };
  const out = new JsonAnswer(res, timeoutMs);
  try {
    const a = await r.czar.execute(sql, session, signal, out);
    if (!a.streamed) {
      await out.header(a.columns);
      for (let i = 0; i < a.rows.length; i += ROWS_PER_BATCH) await out.rows(a.rows.slice(i, i + ROWS_PER_BATCH));
    }
    await out.end(a.stats);
  } catch (e) {
    if (!out.started) throw e; // nothing sent yet: answered with its status
    if (res.destroyed) {
      log.info({ route: "POST /query", why: (e as Error).message }, "client let go: answer not delivered");
      return;
    }
    const { status, body: err } = errorBody(e);
    if (status >= 500) log.error({ err: e, route: "POST /query" }, "request failed");
    await out.fail((err as { error: unknown }).error);
  }
}

/** An ingest whose answer is NDJSON: progress lines as it goes, then the result or the error. */
async function streamIngest(
  r: HttpRoutes,
  body: Record<string, unknown>,
  res: http.ServerResponse,
  signal: AbortSignal,
  log: Logger,
  upload?: ReceivedUpload,
): Promise<void> {
  res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8" });
  const line = (v: unknown) => res.write(`${JSON.stringify(v)}\n`);
  let last = 0;
  let phase = "";
  const onProgress = (p: unknown) => {
    const now = performance.now();
    const { phase: ph = "", done, total, bytes, totalBytes } = p as Record<string, unknown>;
    const final = done === total || bytes === totalBytes;
    if (ph === phase && now - last < PROGRESS_EVERY_MS && !final) return;
    phase = String(ph);
    last = now;
    line({ progress: p });
  };
  try {
    line({ result: await r.ingest(body, signal, onProgress, upload) });
  } catch (e) {
    const { status, body: err } = errorBody(e);
    if (status >= 500) log.error({ err: e, route: "POST /ingest" }, "request failed");
    line(err);
  }
  res.end();
}

export async function startHttp(r: HttpRoutes, port: number, host: string, log: Logger): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    // A request target URL cannot parse (e.g. "//") is answered 400 below, never thrown here.
    const url = URL.canParse(req.url ?? "/", "http://czar") ? new URL(req.url ?? "/", "http://czar") : null;
    const path = url?.pathname ?? "<malformed>";
    const route = `${req.method} ${path.startsWith("/ingest/") ? "/ingest/<loadId>" : path}`;
    const timeoutMs = r.czar.writeTimeoutMs({ database: null });
    const handle = async (): Promise<unknown> => {
      const who = await authorize(r.auth, req, roleFor(req.method ?? "GET", route.slice(route.indexOf(" ") + 1)));
      const caller: Caller =
        who === null
          ? {}
          : {
              user: who.user,
              ownQueriesOnly: who.role !== "admin",
              ...(who.role === "reader" ? { readOnly: true } : {}),
            };
      switch (route) {
        case "POST /query":
          await query(r, caller, await readJson(req), res, abort.signal, timeoutMs, log);
          return STREAMED;
        case "POST /ingest": {
          const upload = isUpload(req) ? await r.receiveUpload(req) : undefined;
          try {
            const body = upload?.body ?? (await readJson(req));
            if (body.progress === true || /application\/x-ndjson/.test(req.headers.accept ?? "")) {
              await streamIngest(r, body, res, abort.signal, log, upload);
              return STREAMED;
            }
            return await r.ingest(body, abort.signal, undefined, upload);
          } finally {
            upload?.discard();
          }
        }
        case "GET /status":
          return r.status(caller);
        case "POST /replicate":
          return r.replicate();
        case "POST /gc":
          return r.gc();
        case "GET /ingest":
        case "GET /loads": {
          const q = (k: string) => url?.searchParams.get(k) ?? undefined;
          return r.loads(q("database"), q("table"));
        }
        case "DELETE /ingest/<loadId>":
          return r.unload(decodeURIComponent(path.slice("/ingest/".length)), abort.signal);
        case "GET /watch":
        case "POST /watch":
          return watchRoute(r.watch, req.method as string, () => readJson(req));
        default:
          if (url !== null && isWebRoute(req.method ?? "", path)) return handleWeb(r.web, caller, url, res, STREAMED);
          if (/^\/tap(\/|$)/.test(req.url ?? "")) {
            await handleTap(r.tap, req, res, abort.signal, (e) => errorBody(e).status, timeoutMs);
            return STREAMED;
          }
          throw new QservError(
            "NOT_FOUND",
            `no route ${route} (POST /query, POST /ingest, GET /ingest, DELETE /ingest/<loadId>, GET /status, GET /watch, POST /replicate, POST /gc, GET /, GET /events, GET /history, GET /chunks)`,
          );
      }
    };
    const dropped = (e: unknown) =>
      log.info({ route, why: (e as Error).message }, "client let go: answer not delivered");
    handle().then(
      (body) => {
        if (body !== STREAMED) send(res, 200, body, timeoutMs).catch(dropped);
      },
      (e) => {
        const { status, body } = errorBody(e);
        if (status >= 500) log.error({ err: e, route }, "request failed");
        if (status === 401 && !res.headersSent) res.setHeader("www-authenticate", 'Basic realm="mini-qserv"');
        if (!res.headersSent) send(res, status, body, timeoutMs).catch(dropped);
      },
    );
  });
  // Idle keep-alive connections are kept a minute (Node's default is 5 s): a client reusing one
  // just as the server closes it sees "other side closed", a race a busy event loop widens.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  return server;
}

export function portOf(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}
