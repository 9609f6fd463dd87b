/**
 * The web console's routes on the czar's HTTP port (the page uses only the public API):
 * `GET /` the page and `GET /console/<asset>` its script and style (built into dist/web by
 * `npm run build`); `GET /events` a server-sent event stream (`status`: the cluster as
 * `GET /status` shows it, without probing the workers, every `eventEveryMs`; `query`: each query
 * that ends); `GET /history` finished queries (`?failed=1`, `?slowest=1`, `?limit=`, `?user=`);
 * `GET /chunks?database=` every chunk with its sky box, rows and replicas (chunkMap.ts).
 */
import { readFileSync } from "node:fs";
import type http from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { QservError } from "../../common/errors.js";
import type { QueryHistory, QueryRecord } from "../../czar/queryHistory.js";
import type { Caller } from "../http/server.js";
import type { ChunkMap } from "./chunkMap.js";

export interface WebSources {
  /** The cluster's state as last seen (no probe); the running queries are those `caller` may see. */
  status(caller: Caller): Promise<unknown>;
  chunks(database: string): ChunkMap;
  history: QueryHistory;
  /** Between two status events (ms). */
  eventEveryMs: number;
}

/** The built page (dist/web), beside dist/src/frontends/web. */
const ASSETS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "web");
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  map: "application/json; charset=utf-8",
};

/** The GET paths answered here. */
export function isWebRoute(method: string, path: string): boolean {
  return method === "GET" && (path === "/" || path.startsWith("/console/") || WEB_API.includes(path));
}
const WEB_API = ["/events", "/history", "/chunks"];

/** Event streams open now per console, ended by `closeWeb`. */
const streamsOf = new WeakMap<WebSources, Set<http.ServerResponse>>();

function asset(res: http.ServerResponse, name: string): void {
  const m = /^([a-z]+)\.(js|css|map|html)$/.exec(name);
  let body: Buffer;
  try {
    if (m === null) throw new Error("no such asset");
    body = readFileSync(join(ASSETS, name));
  } catch {
    throw new QservError("NOT_FOUND", `no console asset ${name} (is the page built? npm run build)`);
  }
  res.writeHead(200, {
    "content-type": TYPES[m[2] as string] ?? "application/octet-stream",
    "content-length": body.length,
    "cache-control": "no-cache",
  });
  res.end(body);
}

const visible = (caller: Caller, r: QueryRecord) => caller.ownQueriesOnly !== true || r.user === caller.user;

function events(w: WebSources, caller: Caller, res: http.ServerResponse): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  const send = (event: string, data: unknown) => {
    if (!res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  let busy = false;
  const tick = () => {
    if (busy) return; // a slow status is not stacked up
    busy = true;
    w.status(caller)
      .then((s) => send("status", s))
      .catch((e: unknown) => send("failure", { message: e instanceof Error ? e.message : String(e) }))
      .finally(() => {
        busy = false;
      });
  };
  tick();
  const timer = setInterval(tick, w.eventEveryMs);
  const unsubscribe = w.history.subscribe((r) => {
    if (visible(caller, r)) send("query", r);
  });
  const streams = streamsOf.get(w) ?? new Set();
  streamsOf.set(w, streams);
  streams.add(res);
  res.on("close", () => {
    clearInterval(timer);
    unsubscribe();
    streams.delete(res);
  });
}

/**
 * Answers a console route; its JSON answer, or `streamed` once it wrote the answer itself, or
 * undefined when the route is not one of these.
 */
export async function handleWeb<S>(
  w: WebSources | undefined,
  caller: Caller,
  url: URL,
  res: http.ServerResponse,
  streamed: S,
): Promise<unknown> {
  if (w === undefined) throw new QservError("NOT_FOUND", "this czar serves no web console");
  const path = url.pathname;
  const q = (k: string) => url.searchParams.get(k) ?? undefined;
  switch (path) {
    case "/":
      asset(res, "index.html");
      return streamed;
    case "/events":
      events(w, caller, res);
      return streamed;
    case "/history": {
      const limit = Number(q("limit") ?? 100);
      if (!Number.isInteger(limit) || limit < 1)
        throw new QservError("BAD_ARGUMENT", `"limit" must be a positive integer`);
      const user = caller.ownQueriesOnly === true ? caller.user : q("user");
      return {
        queries: w.history.list({
          failed: q("failed") === "1",
          slowest: q("slowest") === "1",
          limit,
          ...(user === undefined ? {} : { user }),
        }),
      };
    }
    case "/chunks": {
      const db = q("database");
      if (db === undefined || db === "")
        throw new QservError("BAD_ARGUMENT", `"database" is required: /chunks?database=`);
      return w.chunks(db);
    }
    default:
      asset(res, path.slice("/console/".length));
      return streamed;
  }
}

/** Ends the open event streams (the czar is closing). */
export function closeWeb(w: WebSources): void {
  for (const s of streamsOf.get(w) ?? []) s.end();
  streamsOf.delete(w);
}
