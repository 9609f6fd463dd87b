/**
 * How a watcher loads a file: through a czar's HTTP API (`mini-qserv ingest --watch`, the
 * file's bytes uploaded like `mini-qserv ingest` does), or inside the czar (`mini-qserv czar
 * --watch`, the file read where it is). Either way one file is one ingest, one transaction, and
 * the same file under the same name is the same load id: sent again, the czar answers the load
 * it recorded instead of loading it twice.
 */
import { createHash } from "node:crypto";
import { getJson, postJson, postUpload } from "../cli/httpClient.js";
import type { ReceivedUpload } from "../czar/ingestInput.js";
import type { LoadInfo } from "../czar/metadata.js";
import type { WatchRule } from "./rules.js";
import type { WatchSnapshot } from "./snapshot.js";

/** A file to load: where it is now, the name it is loaded under (its first name), its content hash. */
export interface FileToLoad {
  path: string;
  name: string;
  hash: string;
}

export interface Loaded {
  loadId: string;
  rows: number;
  /** The czar had recorded this load already. */
  duplicate: boolean;
}

export interface Loader {
  /** One ingest; `onLoadId` is called as the czar starts publishing it. */
  load(f: FileToLoad, rule: WatchRule, onLoadId: (loadId: string) => void, signal?: AbortSignal): Promise<Loaded>;
  /** The rows of a recorded load, or null when the czar does not record it. */
  recorded(loadId: string, target: string): Promise<number | null>;
  /** Shows the watcher's state on the czar (best effort). */
  report(s: WatchSnapshot): Promise<void>;
}

/** The JSON of an ingest request for a rule (files or uploads aside). */
function requestOf(rule: WatchRule): Record<string, unknown> {
  return { database: rule.database, table: rule.table, ...rule.options };
}

function onPublish(onLoadId: (loadId: string) => void) {
  return (p: Record<string, unknown>) => {
    if (p.phase === "publish" && typeof p.loadId === "string") onLoadId(p.loadId);
  };
}

function loaded(r: Record<string, unknown>): Loaded {
  return { loadId: String(r.loadId), rows: Number(r.rows), duplicate: r.duplicate === true };
}

/** Through the czar at `url` (e.g. http://127.0.0.1:8080). */
export function httpLoader(url: string): Loader {
  return {
    async load(f, rule, onLoadId, signal) {
      return loaded(
        await postUpload(`${url}/ingest`, requestOf(rule), [f.path], onPublish(onLoadId), signal, [f.name]),
      );
    },
    async recorded(loadId, target) {
      const [database = "", table = ""] = target.split(".");
      const q = new URLSearchParams({ database, table });
      const r = (await getJson(`${url}/loads?${q}`)) as { loads: LoadInfo[] };
      return r.loads.find((l) => l.loadId === loadId)?.rows ?? null;
    },
    async report(s) {
      await postJson(`${url}/watch`, s);
    },
  };
}

/** What a czar gives its own watcher. */
export interface CzarIngest {
  ingest(
    body: Record<string, unknown>,
    signal: AbortSignal,
    onProgress: (p: unknown) => void,
    upload: ReceivedUpload,
  ): Promise<unknown>;
  load(loadId: string): LoadInfo | null;
  report(s: WatchSnapshot): void;
}

/** Inside the czar: the file is read where it lies. */
export function czarLoader(czar: CzarIngest): Loader {
  return {
    async load(f, rule, onLoadId, signal) {
      const body = requestOf(rule);
      const upload: ReceivedUpload = {
        body,
        files: [f.path],
        identity: createHash("sha256").update(`watch\0${f.name}\0${f.hash}`).digest("hex"),
        discard() {},
      };
      const progress = onPublish(onLoadId);
      const r = await czar.ingest(body, signal ?? new AbortController().signal, (p) => progress(p as never), upload);
      return loaded(r as Record<string, unknown>);
    },
    async recorded(loadId) {
      return czar.load(loadId)?.rows ?? null;
    },
    async report(s) {
      czar.report(s);
    },
  };
}
