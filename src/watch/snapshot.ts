/** What a watcher shows (`GET /watch`, `mini-qserv status`): every file it saw, and its state. */
import type { Content, Delivery } from "./ledger.js";

/** "incomplete": seen, still being written; "duplicate": the same content as a file loaded (or being loaded) under another name. */
export type FileState = "incomplete" | "pending" | "loading" | "loaded" | "rejected" | "duplicate";

export interface WatchedFile {
  name: string;
  size: number;
  state: FileState;
  /** SHA-256 of the content (hex), absent while incomplete. */
  hash?: string;
  /** "db.table" */
  target?: string;
  loadId?: string | null;
  rows?: number | null;
  attempts?: number;
  /** A retry's last cause, or why the file was rejected. */
  error?: string | null;
  /** For a duplicate: the file its content was first seen as. */
  duplicateOf?: string;
  seenAt?: string;
  doneAt?: string | null;
}

export type WatchCounts = Record<FileState, number>;

export interface WatchSnapshot {
  /** Who is watching: "host:pid:dir" of a `mini-qserv ingest --watch`, "czar:dir" of a czar's own. */
  id: string;
  dir: string;
  updatedAt: string;
  counts: WatchCounts;
  /** The latest files, at most MAX_FILES. */
  files: WatchedFile[];
}

export const MAX_FILES = 1000;

export const FILE_STATES: readonly FileState[] = [
  "incomplete",
  "pending",
  "loading",
  "loaded",
  "rejected",
  "duplicate",
];

/** The files of a ledger (and those seen but incomplete) as a watcher shows them. */
export function snapshotOf(
  id: string,
  dir: string,
  contents: readonly Content[],
  deliveries: readonly Delivery[],
  incomplete: ReadonlyArray<{ name: string; size: number }>,
): WatchSnapshot {
  const byHash = new Map(contents.map((c) => [c.hash, c]));
  const files: WatchedFile[] = [];
  for (const d of deliveries) {
    const c = byHash.get(d.hash);
    if (c === undefined) continue;
    const duplicate = d.name !== c.name && c.state !== "rejected";
    files.push({
      name: d.name,
      size: d.size,
      state: duplicate ? "duplicate" : c.state,
      hash: c.hash,
      target: c.target,
      loadId: c.loadId,
      rows: c.rows,
      attempts: c.attempts,
      error: c.error,
      ...(duplicate ? { duplicateOf: c.name } : {}),
      seenAt: d.seenAt,
      doneAt: c.doneAt,
    });
  }
  for (const f of incomplete) files.push({ name: f.name, size: f.size, state: "incomplete" });
  const counts = Object.fromEntries(FILE_STATES.map((s) => [s, 0])) as WatchCounts;
  for (const f of files) counts[f.state]++;
  return { id, dir, updatedAt: new Date().toISOString(), counts, files: files.slice(-MAX_FILES) };
}
