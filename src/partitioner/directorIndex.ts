import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { QservError } from "../common/errors.js";

/**
 * The director index (directorKey → chunkId, subChunkId) is stored in `buckets` files named
 * `director_index/NNN.tsv`, a key's bucket chosen by a hash of its text. A bucket is small enough
 * to hold in memory, which keeps duplicate checks and child lookups flat in memory.
 */
export const INDEX_DIR = "director_index";
export const DEFAULT_BUCKETS = 64;

/** FNV-1a over the key's UTF-16 code units. */
export function bucketOf(key: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % buckets;
}

export function bucketFile(bucket: number): string {
  return `${String(bucket).padStart(3, "0")}.tsv`;
}

export interface IndexEntry {
  chunkId: number;
  subChunkId: number;
}

/** Lines of a text file written by BufferedFiles, or none when it was never written. */
export function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "latin1");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Load one bucket of a finished director index. */
export function loadIndexBucket(indexDir: string, bucket: number): Map<string, IndexEntry> {
  const map = new Map<string, IndexEntry>();
  for (const line of readLines(join(indexDir, bucketFile(bucket)))) {
    const parts = line.split("\t");
    if (parts.length < 3) throw new QservError("BAD_INPUT", `${indexDir}/${bucketFile(bucket)}: malformed index line`);
    map.set(parts[0] as string, { chunkId: Number(parts[1]), subChunkId: Number(parts[2]) });
  }
  return map;
}
