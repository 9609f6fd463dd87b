/**
 * The IVOA TAP service under `/tap` on the czar's HTTP port: sync queries, VOSI tables,
 * capabilities and availability. Errors are VOTable error documents with a 4xx/5xx status.
 */
import type http from "node:http";
import { isQservError, QservError } from "../../common/errors.js";
import type { Czar } from "../czar.js";
import { syncQuery } from "./sync.js";
import { availabilityDocument, capabilitiesDocument, tablesDocument } from "./vosi.js";
import { errorDocument } from "./votable.js";

const MAX_FORM = 1 << 20;
const XML_TYPE = "text/xml; charset=utf-8";

/** GET query parameters and a POSTed urlencoded form, names upper-cased. */
async function readParams(req: http.IncomingMessage, url: URL): Promise<Map<string, string>> {
  const params = new Map<string, string>();
  const add = (p: URLSearchParams) => {
    for (const [k, v] of p) params.set(k.toUpperCase(), v);
  };
  add(url.searchParams);
  if (req.method === "POST") {
    const type = req.headers["content-type"] ?? "";
    if (/multipart\/form-data/i.test(type))
      throw new QservError("UNSUPPORTED", "multipart/form-data (UPLOAD) is not supported");
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_FORM) throw new QservError("TOO_LARGE", `form over ${MAX_FORM} bytes`);
      parts.push(chunk as Buffer);
    }
    add(new URLSearchParams(Buffer.concat(parts).toString("utf8")));
  }
  return params;
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
 * Answers a request whose path starts with /tap; `status` maps an error to its HTTP status.
 * Resolves once the answer is written.
 */
export async function handleTap(
  czar: Czar,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  signal: AbortSignal,
  status: (e: unknown) => number,
): Promise<void> {
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
  const path = url.pathname.replace(/\/+$/, "");
  const base = `http://${req.headers.host ?? "localhost"}/tap`;
  try {
    const get = req.method === "GET" || req.method === "HEAD";
    if (path === "/tap/sync" && (get || req.method === "POST")) {
      const a = await syncQuery(czar, await readParams(req, url), signal);
      return reply(res, 200, a.contentType, a.body);
    }
    if (!get) throw new QservError("NOT_FOUND", `no route ${req.method} ${path}`);
    switch (path) {
      case "/tap/tables":
        return reply(res, 200, XML_TYPE, tablesDocument(czar.catalog));
      case "/tap/capabilities":
        return reply(res, 200, XML_TYPE, capabilitiesDocument(base));
      case "/tap/availability":
        return reply(res, 200, XML_TYPE, availabilityDocument());
      default:
        throw new QservError(
          "NOT_FOUND",
          `no route GET ${path} (/tap/sync, /tap/tables, /tap/capabilities, /tap/availability)`,
        );
    }
  } catch (e) {
    const message = isQservError(e) ? e.message : e instanceof Error ? e.message : String(e);
    if (!res.headersSent) reply(res, status(e), "application/x-votable+xml", errorDocument(message));
  }
}
