import { createReadStream, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { QservError } from "../common/errors.js";

/** HTTP Basic credentials of $MINI_QSERV_USER / $MINI_QSERV_PASSWORD (set by --user/--password-file), if any. */
function credentials(): Record<string, string> {
  const user = process.env.MINI_QSERV_USER;
  if (user === undefined || user === "") return {};
  const token = Buffer.from(`${user}:${process.env.MINI_QSERV_PASSWORD ?? ""}`, "utf8").toString("base64");
  return { authorization: `Basic ${token}` };
}

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

/**
 * One request with node:http on a keep-alive connection, the whole body read: a fraction of a
 * millisecond where fetch takes half of one (it counts in every point lookup).
 */
function exchange(
  url: string,
  method: string,
  body?: string,
  attempt = 0,
): Promise<{ status: number; ok: boolean; text: string }> {
  const secure = url.startsWith("https:");
  const headers: Record<string, string> = { accept: "application/json", ...credentials() };
  if (body !== undefined) headers["content-type"] = "application/json";
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      { method, headers, agent: secure ? agents.https : agents.http },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("error", (e) => reject(res.complete ? e : cutShort(Buffer.concat(parts).toString("utf8"))));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          resolve({ status, ok: status >= 200 && status < 300, text: Buffer.concat(parts).toString("utf8") });
        });
      },
    );
    req.on("error", (e: Error & { code?: string }) => {
      // A kept-alive connection the czar closed as this request went out (the socket "hung up"
      // before any answer): the request never reached it, so it is sent again on a new one.
      if (req.reusedSocket && e.code === "ECONNRESET" && attempt === 0) {
        resolve(exchange(url, method, body, 1));
        return;
      }
      reject(new QservError("UNAVAILABLE", `cannot reach the czar at ${url}: ${e.message}`));
    });
    req.end(body);
  });
}

/**
 * A streamed answer the czar cut short (an error after its rows started, see
 * src/frontends/http/jsonAnswer.ts): the error it wrote last, else a generic one.
 */
function cutShort(text: string): QservError {
  const m = /\],"error":(\{.*\})\}$/s.exec(text);
  if (m !== null) {
    try {
      const e = JSON.parse(m[1] as string) as { code?: string; message?: string };
      if (typeof e.code === "string") return new QservError(e.code as never, e.message ?? e.code);
    } catch {
      // not the czar's error member: the generic error below
    }
  }
  return new QservError("UNAVAILABLE", "the czar's answer was cut short (connection closed mid-answer)");
}

async function fetchCzar(url: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { ...init, ...(signal === undefined ? {} : { signal }) });
  } catch (e) {
    if (signal?.aborted) throw new QservError("CANCELLED", "request cancelled");
    throw new QservError(
      "UNAVAILABLE",
      `cannot reach the czar at ${url}: ${(e as Error).cause ?? (e as Error).message}`,
    );
  }
}

const post = (url: string, body: unknown, accept: string, signal?: AbortSignal) =>
  fetchCzar(
    url,
    {
      method: "POST",
      headers: { "content-type": "application/json", accept, ...credentials() },
      body: JSON.stringify(body),
    },
    signal,
  );

function parse(url: string, status: number, text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new QservError("INTERNAL", `${url}: HTTP ${status}, not JSON: ${text.slice(0, 200)}`);
  }
}

/** A czar error body as a QservError with its code. */
function checkError(v: Record<string, unknown>, ok: boolean, status: number): void {
  const err = v.error as { code?: string; message?: string } | undefined;
  if (!ok || err !== undefined) {
    throw new QservError((err?.code ?? "INTERNAL") as never, err?.message ?? `HTTP ${status}`);
  }
}

async function json(
  url: string,
  res: Promise<{ status: number; ok: boolean; text: string }>,
): Promise<Record<string, unknown>> {
  const r = await res;
  const v = parse(url, r.status, r.text);
  checkError(v, r.ok, r.status);
  return v;
}

/** POSTs JSON to the czar; a czar error body becomes a QservError with its code. */
export async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  return json(url, exchange(url, "POST", JSON.stringify(body)));
}

/** DELETE on the czar; a czar error body becomes a QservError with its code. */
export async function deleteJson(url: string): Promise<Record<string, unknown>> {
  return json(url, exchange(url, "DELETE"));
}

/** GETs JSON from the czar; a czar error body becomes a QservError with its code. */
export async function getJson(url: string): Promise<Record<string, unknown>> {
  return json(url, exchange(url, "GET"));
}

/**
 * POSTs JSON asking for an NDJSON answer: each {"progress"} line goes to `onProgress`; resolves to
 * the {"result"} line's value, rejects with the {"error"} line's. Aborting `signal` closes the
 * connection (CANCELLED).
 */
export async function postNdjson(
  url: string,
  body: unknown,
  onProgress: (p: Record<string, unknown>) => void,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  return ndjsonAnswer(url, await post(url, body, "application/x-ndjson", signal), onProgress, signal);
}

/**
 * POSTs an ingest with its files' bytes streamed from disk (the upload format of
 * src/czar/ingestInput.ts: one JSON line, then the bytes); the NDJSON answer as postNdjson's.
 * The files go under their own names, or `names` (the names are part of the load's identity).
 */
export async function postUpload(
  url: string,
  request: Record<string, unknown>,
  files: readonly string[],
  onProgress: (p: Record<string, unknown>) => void,
  signal?: AbortSignal,
  names?: readonly string[],
): Promise<Record<string, unknown>> {
  const uploads = files.map((f, i) => {
    try {
      return {
        name: basename(names?.[i] ?? f)
          .replace(/[^A-Za-z0-9_.-]/g, "_")
          .replace(/^[.-]/, "_"),
        bytes: statSync(f).size,
      };
    } catch (e) {
      throw new QservError("IO", `${f}: cannot read: ${(e as Error).message}`);
    }
  });
  async function* body(): AsyncGenerator<Buffer> {
    yield Buffer.from(`${JSON.stringify({ ...request, uploads })}\n`, "utf8");
    for (const f of files) yield* createReadStream(f) as AsyncIterable<Buffer>;
  }
  const init = {
    method: "POST",
    headers: { "content-type": "application/vnd.mini-qserv.upload", accept: "application/x-ndjson", ...credentials() },
    body: Readable.toWeb(Readable.from(body())) as ReadableStream,
    duplex: "half",
  } as RequestInit;
  return ndjsonAnswer(url, await fetchCzar(url, init, signal), onProgress, signal);
}

async function ndjsonAnswer(
  url: string,
  res: Response,
  onProgress: (p: Record<string, unknown>) => void,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  if (res.body === null) throw new QservError("INTERNAL", `${url}: HTTP ${res.status}, empty answer`);
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(piece, { stream: true });
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        const v = parse(url, res.status, pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        checkError(v, res.ok, res.status);
        if (v.progress !== undefined) onProgress(v.progress as Record<string, unknown>);
        else if (v.result !== undefined) return v.result as Record<string, unknown>;
      }
    }
  } catch (e) {
    if (signal?.aborted) throw new QservError("CANCELLED", "request cancelled");
    throw e;
  }
  if (pending.trim() !== "") checkError(parse(url, res.status, pending), res.ok, res.status);
  throw new QservError("UNAVAILABLE", `${url}: the czar closed the connection before the result`);
}
