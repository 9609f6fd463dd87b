/**
 * A TAP request's parameters: GET query parameters and a POSTed urlencoded form (or
 * multipart/form-data, whose file parts are inline UPLOAD tables). Names are case-insensitive
 * (DALI): kept upper-cased; a name may repeat (UWS PHASE filters).
 */
import type http from "node:http";
import { readBody } from "../http/requestBody.js";
import { parseMultipart } from "./multipart.js";

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
