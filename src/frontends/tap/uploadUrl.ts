/**
 * UPLOAD by URL: `UPLOAD=name,file:///path` reads a regular file under one of the czar's
 * `--ingest-root` directories (the ingest's own root check), `name,http://...` (or https) is
 * fetched by the czar, bounded in size and time, only from a host of `--upload-url-hosts`
 * (uploadHosts.ts; redirects are followed only to listed hosts too). Each table read is put with the request's file
 * parts and its UPLOAD entry rewritten to `param:`, so the tables are then read as inline ones.
 * Sync queries fetch before they run, async jobs when they start (UWS: the URL is read then).
 */
import { open } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { QservError } from "../../common/errors.js";
import { checkInputPaths } from "../../czar/ingestInput.js";
import { MAX_BODY } from "../http/requestBody.js";
import type { Params } from "./params.js";
import { fetchListed } from "./uploadHosts.js";

export interface UploadSources {
  /** Real paths of the czar's --ingest-root directories: file:// URLs must be under one. */
  roots: readonly string[];
  /** Largest table read (bytes). */
  maxBytes: number;
  /** Longest an http fetch may take (ms). */
  timeoutMs: number;
  /** Hosts (`name` or `name:port`) http(s) URLs may name (none: uploads by http URL refused). */
  hosts: readonly string[];
}

export const DEFAULT_UPLOAD_SOURCES: UploadSources = {
  roots: [],
  maxBytes: MAX_BODY,
  timeoutMs: 30_000,
  hosts: [],
};

const bad = (m: string) => new QservError("BAD_ARGUMENT", m);

/** Reads the tables UPLOAD names by URL into `params` (its UPLOAD rewritten to param: parts). */
export async function fetchUploads(params: Params, o: UploadSources): Promise<void> {
  const upload = params.get("UPLOAD");
  if (upload === undefined) return;
  let changed = false;
  const specs: string[] = [];
  for (const [i, spec] of upload.split(";").entries()) {
    const m = /^\s*([^,]+?)\s*,\s*((?:file|https?):\S+)\s*$/i.exec(spec);
    if (m === null) {
      specs.push(spec);
      continue;
    }
    const [, name, uri] = m as unknown as [string, string, string];
    const part = `url.${i}`;
    params.files.set(part, /^file:/i.test(uri) ? await readFileUrl(name, uri, o) : await fetchUrl(name, uri, o));
    specs.push(`${name},param:${part}`);
    changed = true;
  }
  if (changed) params.add("UPLOAD", specs.join(";"));
}

async function readFileUrl(name: string, uri: string, o: UploadSources): Promise<Buffer> {
  let path: string;
  try {
    path = fileURLToPath(uri);
  } catch (e) {
    throw bad(`UPLOAD ${name}: '${uri}' is not a file URL of this host: ${(e as Error).message}`);
  }
  let real: string;
  try {
    [real] = checkInputPaths([path], o.roots) as [string];
  } catch (e) {
    throw bad(`UPLOAD ${name}: ${(e as Error).message}`);
  }
  const fh = await open(real, "r");
  try {
    const size = (await fh.stat()).size;
    if (size > o.maxBytes) throw tooLarge(name, uri, o.maxBytes);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

async function fetchUrl(name: string, uri: string, o: UploadSources): Promise<Buffer> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  try {
    const r = await fetchListed(name, uri, o.hosts, signal);
    if (!r.ok) throw bad(`UPLOAD ${name}: ${uri} answered HTTP ${r.status}`);
    if (Number(r.headers.get("content-length") ?? 0) > o.maxBytes) throw tooLarge(name, uri, o.maxBytes);
    const parts: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of r.body ?? []) {
      bytes += chunk.length;
      if (bytes > o.maxBytes) {
        await r.body?.cancel();
        throw tooLarge(name, uri, o.maxBytes);
      }
      parts.push(Buffer.from(chunk));
    }
    return Buffer.concat(parts);
  } catch (e) {
    if (e instanceof QservError) throw e;
    if (signal.aborted) throw bad(`UPLOAD ${name}: ${uri} did not answer within ${o.timeoutMs / 1000} s`);
    throw bad(`UPLOAD ${name}: cannot fetch ${uri}: ${(e as Error).cause ?? (e as Error).message}`);
  }
}

const tooLarge = (name: string, uri: string, max: number) =>
  new QservError("TOO_LARGE", `UPLOAD ${name}: ${uri} holds more than ${max} bytes`);
