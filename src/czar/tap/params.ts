/**
 * A TAP request's parameters: GET query parameters and a POSTed urlencoded form (or
 * multipart/form-data, whose file parts are inline UPLOAD tables). Names are case-insensitive
 * (DALI): kept upper-cased; a name may repeat (UWS PHASE filters).
 */
import type http from "node:http";
import { QservError } from "../../common/errors.js";
import { parseMultipart } from "./multipart.js";

/** Bytes of a request body (form or multipart, uploads included). */
export const MAX_BODY = 16 << 20;

export class Params {
  private readonly values = new Map<string, string[]>();
  /** Inline files of a multipart request, by part name (UPLOAD's param:NAME). */
  readonly files = new Map<string, Buffer>();

  add(name: string, value: string): void {
    const k = name.toUpperCase();
    const l = this.values.get(k);
    if (l === undefined) this.values.set(k, [value]);
    else l.push(value);
  }
  get(name: string): string | undefined {
    return this.values.get(name)?.at(-1);
  }
  getAll(name: string): string[] {
    return this.values.get(name) ?? [];
  }
  has(name: string): boolean {
    return this.values.has(name);
  }
  /** Each name with its last value. */
  entries(): Array<[string, string]> {
    return [...this.values].map(([k, v]) => [k, v.at(-1)!]);
  }
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new QservError("TOO_LARGE", `request body over ${MAX_BODY} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

export async function readParams(req: http.IncomingMessage, url: URL): Promise<Params> {
  const params = new Params();
  for (const [k, v] of url.searchParams) params.add(k, v);
  if (req.method !== "POST") return params;
  const type = req.headers["content-type"] ?? "";
  const body = await readBody(req);
  if (/^multipart\/form-data/i.test(type)) {
    for (const p of parseMultipart(body, type)) {
      if (p.filename === null) params.add(p.name, p.data.toString("utf8"));
      else params.files.set(p.name, p.data);
    }
  } else {
    for (const [k, v] of new URLSearchParams(body.toString("utf8"))) params.add(k, v);
  }
  return params;
}
