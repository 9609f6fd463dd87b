/**
 * Where an ingest's input comes from. Either paths the czar reads — only regular files under its
 * `--ingest-root` directories (none by default) — or the files' bytes uploaded in the request
 * body, streamed to the czar's scratch: `content-type: application/vnd.mini-qserv.upload`, one
 * line of JSON (the ingest request with `"uploads": [{"name", "bytes"}, ...]` instead of
 * `"files"`), a newline, then each file's bytes back to back. Every malformed request is a
 * BAD_ARGUMENT (400) or TOO_LARGE (413) with the reason.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { isAbsolute, join, sep } from "node:path";
import { QservError } from "../common/errors.js";

export const UPLOAD_CONTENT_TYPE = "application/vnd.mini-qserv.upload";

/** Largest JSON line before an upload's bytes. */
const MAX_UPLOAD_HEADER = 1 << 20;

/** Files one upload may carry. */
const MAX_UPLOAD_FILES = 1000;

const bad = (message: string) => new QservError("BAD_ARGUMENT", message);

/** The real paths of ingest roots, each a directory; else BAD_ARGUMENT. */
export function ingestRoots(dirs: readonly string[]): string[] {
  return dirs.map((d) => {
    try {
      const real = realpathSync(d);
      if (statSync(real).isDirectory()) return real;
    } catch {
      // said below
    }
    throw bad(`--ingest-root ${d}: not a directory`);
  });
}

/** The real paths of `files`, each a regular file under one of `roots` (real paths, see ingestRoots); else BAD_ARGUMENT saying why. */
export function checkInputPaths(files: readonly string[], roots: readonly string[]): string[] {
  if (roots.length === 0) {
    throw bad(
      "ingest by path is off: the czar has no --ingest-root; upload the files' bytes instead (mini-qserv ingest does)",
    );
  }
  return files.map((f) => {
    if (f.includes("\0") || !isAbsolute(f)) throw bad(`${JSON.stringify(f.slice(0, 200))}: not an absolute path`);
    let real: string;
    try {
      real = realpathSync(f);
    } catch (e) {
      throw bad(`${f}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!roots.some((r) => real === r || real.startsWith(r.endsWith(sep) ? r : r + sep))) {
      throw bad(`${f}: not under an ingest root of the czar (--ingest-root)`);
    }
    // stat, never open: a FIFO or a device would block or never end.
    if (!statSync(real).isFile()) throw bad(`${f}: not a regular file`);
    return real;
  });
}

/** An upload received: the ingest request's fields, the files in scratch, and an identity of their bytes. */
export interface ReceivedUpload {
  body: Record<string, unknown>;
  files: string[];
  /** Hash of the names and bytes: the same upload again is the same load. */
  identity: string;
  /** Removes the received files. */
  discard(): void;
}

export function isUpload(req: IncomingMessage): boolean {
  return (req.headers["content-type"] ?? "").split(";")[0]?.trim() === UPLOAD_CONTENT_TYPE;
}

interface Declared {
  name: string;
  bytes: number;
}

function declaredFiles(body: Record<string, unknown>): Declared[] {
  const u = body.uploads;
  if (!Array.isArray(u) || u.length === 0 || u.length > MAX_UPLOAD_FILES) {
    throw bad(`"uploads" must be a list of 1 to ${MAX_UPLOAD_FILES} {"name", "bytes"}`);
  }
  return u.map((x, i) => {
    const o = x as Record<string, unknown>;
    const name = o?.name;
    const bytes = o?.bytes;
    // The name keeps its extension (.csv, .tsv, .gz: the format) and nothing that reaches the file system.
    if (typeof name !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}$/.test(name)) {
      throw bad(`uploads[${i}].name must be a plain file name (letters, digits, _ . -)`);
    }
    if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 0) {
      throw bad(`uploads[${i}].bytes must be a non-negative integer`);
    }
    return { name, bytes };
  });
}

/** Reads an upload request into a fresh directory under `scratchDir` (removed on any failure). */
export async function receiveUpload(req: IncomingMessage, scratchDir: string): Promise<ReceivedUpload> {
  const it = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let rest: Buffer | null = null;
  while (rest === null) {
    const { value, done } = await it.next();
    if (done) throw bad("upload ended before its JSON line");
    head = Buffer.concat([head, value]);
    const nl = head.indexOf(10);
    if (nl >= 0) {
      rest = head.subarray(nl + 1);
      head = head.subarray(0, nl);
    }
    if (head.length > MAX_UPLOAD_HEADER) {
      throw new QservError("TOO_LARGE", `an upload's JSON line is over ${MAX_UPLOAD_HEADER} bytes`);
    }
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(head.toString("utf8")) as Record<string, unknown>;
  } catch (e) {
    throw bad(`an upload's first line is not JSON: ${(e as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw bad("an upload's first line must be a JSON object");
  if (body.files !== undefined) throw bad(`an upload names no "files": its bytes follow`);
  const declared = declaredFiles(body);
  mkdirSync(scratchDir, { recursive: true });
  const dir = mkdtempSync(join(scratchDir, "upload-"));
  const discard = () => rmSync(dir, { recursive: true, force: true });
  try {
    const hash = createHash("sha256");
    const files: string[] = [];
    let pending: Buffer = rest;
    for (const [i, d] of declared.entries()) {
      // Each in a directory of its own, under its own name: errors name the user's file.
      mkdirSync(join(dir, String(i)));
      const path = join(dir, String(i), d.name);
      files.push(path);
      hash.update(`${d.name}\0${d.bytes}\0`);
      const fh = await open(path, "wx");
      try {
        let left = d.bytes;
        while (left > 0) {
          if (pending.length === 0) {
            const { value, done } = await it.next();
            if (done) throw bad(`upload ended inside ${d.name}: ${d.bytes - left} of ${d.bytes} bytes came`);
            pending = value;
            continue;
          }
          const piece = pending.subarray(0, Math.min(left, pending.length));
          pending = pending.subarray(piece.length);
          hash.update(piece);
          await fh.write(piece);
          left -= piece.length;
        }
      } finally {
        await fh.close();
      }
    }
    if (pending.length > 0 || !(await it.next()).done) throw bad("upload has bytes past the files it declares");
    return { body, files, identity: hash.digest("hex"), discard };
  } catch (e) {
    discard();
    throw e;
  }
}
