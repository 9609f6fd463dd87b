/**
 * The czar's view of the watchers (`GET /watch`, `mini-qserv status`): the last state each one
 * reported (`POST /watch` from a `mini-qserv ingest --watch`, directly from the czar's own).
 * Kept in memory: a watcher reports again within seconds of a czar restart.
 */
import { QservError } from "../common/errors.js";
import { FILE_STATES, MAX_FILES, type WatchSnapshot } from "./snapshot.js";

/** Watchers kept at most (the oldest report goes first). */
const MAX_WATCHERS = 100;

const bad = (message: string) => new QservError("BAD_ARGUMENT", `watch report: ${message}`);

/** A reported snapshot, checked for its shape. */
function checked(v: Record<string, unknown>): WatchSnapshot {
  for (const k of ["id", "dir", "updatedAt"]) if (typeof v[k] !== "string") throw bad(`"${k}" must be a string`);
  const counts = v.counts as Record<string, unknown> | undefined;
  if (typeof counts !== "object" || counts === null || FILE_STATES.some((s) => typeof counts[s] !== "number")) {
    throw bad(`"counts" must give a number for each of ${FILE_STATES.join(", ")}`);
  }
  if (!Array.isArray(v.files) || v.files.length > MAX_FILES)
    throw bad(`"files" must be a list of at most ${MAX_FILES}`);
  return v as unknown as WatchSnapshot;
}

export class WatchRegistry {
  private readonly watchers = new Map<string, WatchSnapshot & { reportedAt: string }>();

  report(v: Record<string, unknown>): { ok: true } {
    const s = checked(v);
    this.watchers.delete(s.id);
    this.watchers.set(s.id, { ...s, reportedAt: new Date().toISOString() });
    if (this.watchers.size > MAX_WATCHERS) this.watchers.delete(this.watchers.keys().next().value as string);
    return { ok: true };
  }

  /** `GET /watch`: every watcher with its files. */
  list(): { watchers: WatchSnapshot[] } {
    return { watchers: [...this.watchers.values()] };
  }

  /** For the status: each watcher's counts. */
  summary(): Array<Pick<WatchSnapshot, "id" | "dir" | "updatedAt" | "counts">> {
    return [...this.watchers.values()].map(({ id, dir, updatedAt, counts }) => ({ id, dir, updatedAt, counts }));
  }
}
