/**
 * Long director-key IN lists sent per chunk: `objectId IN (k1, ..., kn)` as a top-level WHERE term
 * reaches each chunk with only the keys the director index places in that chunk (no other key
 * can match a row there), so that the SQL every chunk parses, and a worker keeps prepared, holds
 * about n keys in all rather than n per chunk.
 */
import type { KeyRestrictor } from "../analyze/restrictors.js";
import type { CzarCatalog, Key } from "../catalog.js";
import type { Expr, Select } from "../sql/ast.js";
import { andAll, conjuncts } from "../sql/walk.js";
import { directorOf } from "./chunks.js";

/**
 * `cat` with its director-index lookups kept per key list, so that a plan looks a list up once
 * (for the chunks to visit, then for the keys of each chunk).
 */
export function lookingUpOnce(cat: CzarCatalog): CzarCatalog {
  const seen = new WeakMap<ReadonlyArray<Key>, number[][]>();
  const keyChunks = (db: string, table: string, keys: ReadonlyArray<Key>): number[][] => {
    let found = seen.get(keys);
    if (found === undefined) {
      found = cat.keyChunks(db, table, keys);
      seen.set(keys, found);
    }
    return found;
  };
  const lookupKeys = (db: string, table: string, keys: ReadonlyArray<Key>): number[] =>
    [...new Set(keyChunks(db, table, keys).flat())].sort((a, b) => a - b);
  const bound = new Map<string | symbol, unknown>();
  return new Proxy(cat, {
    get(target, prop) {
      if (prop === "keyChunks") return keyChunks;
      if (prop === "lookupKeys") return lookupKeys;
      let v = bound.get(prop);
      if (v === undefined) {
        v = Reflect.get(target, prop, target) as unknown;
        if (typeof v === "function") v = v.bind(target);
        bound.set(prop, v);
      }
      return v;
    },
  });
}

/** Lists shorter than this go to every chunk as they are. */
export const PER_CHUNK_KEYS = 64;

type InList = Extract<Expr, { kind: "in" }>;

/** For each long integer-key IN term of `keys`: its list items by chunk. */
export function keyListsByChunk(
  cat: CzarCatalog,
  db: string,
  keys: readonly KeyRestrictor[],
): Map<InList, Map<number, Expr[]>> {
  const out = new Map<InList, Map<number, Expr[]>>();
  for (const k of keys) {
    const t = k.term;
    const p = k.alternatives[0];
    if (t.kind !== "in" || t.not || k.alternatives.length !== 1 || p?.kind !== "keys") continue;
    // Integer keys only: the index holds them exactly as the chunk's rows compare them.
    if (p.keys.length < PER_CHUNK_KEYS || p.keys.some((x) => typeof x === "string")) continue;
    const byChunk = new Map<number, Expr[]>();
    cat.keyChunks(db, directorOf(k.binding), p.keys).forEach((ids, i) => {
      for (const id of ids) {
        const list = byChunk.get(id);
        if (list === undefined) byChunk.set(id, [t.list[i]!]);
        else list.push(t.list[i]!);
      }
    });
    out.set(t, byChunk);
  }
  return out;
}

/** `q` with each long key list of `lists` cut to the keys of chunk `chunkId` (top-level WHERE terms only). */
export function withChunkKeys(q: Select, lists: Map<InList, Map<number, Expr[]>>, chunkId: number): Select {
  if (lists.size === 0 || q.where === null) return q;
  const terms = conjuncts(q.where);
  if (!terms.some((t) => t.kind === "in" && lists.has(t))) return q;
  const cut = terms.map((t): Expr => {
    const byChunk = t.kind === "in" ? lists.get(t) : undefined;
    if (byChunk === undefined) return t;
    const list = byChunk.get(chunkId);
    return list === undefined ? { kind: "boolean", value: false, pos: t.pos } : { ...(t as InList), list };
  });
  return { ...q, where: andAll(cut) };
}
