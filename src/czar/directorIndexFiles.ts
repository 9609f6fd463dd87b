import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { QservError } from "../common/errors.js";
import type { DatabaseConfig } from "../common/ingestConfig.js";
import { BufferedFiles } from "../partitioner/bufferedFiles.js";
import { dialectFor } from "../partitioner/dialect.js";
import { bucketFile, bucketOf, DEFAULT_BUCKETS, INDEX_DIR, readLines } from "../partitioner/directorIndex.js";
import { CHUNK_INFO, type ChunkInfo } from "../partitioner/partition.js";
import type { IndexEntryText, Metadata } from "./metadata.js";

/**
 * The czar keeps director indexes in its metadata; the partitioner reads and writes them as
 * `director_index/NNN.tsv` bucket files of latin1 text (bytes as they were in the input). These
 * convert between the two; metadata holds text keys decoded as UTF-8.
 */

const NON_ASCII = /[\u0080-\uffff]/;
const fromLatin1 = (s: string): string => (NON_ASCII.test(s) ? Buffer.from(s, "latin1").toString("utf8") : s);
const toLatin1 = (s: string): string => (NON_ASCII.test(s) ? Buffer.from(s, "utf8").toString("latin1") : s);

/** The entries of a partition output's director index, every line (duplicate keys included). */
export function* readDirectorIndex(partitionDir: string, info: ChunkInfo): Generator<IndexEntryText> {
  if (info.directorIndex === null) return;
  const dir = join(partitionDir, info.directorIndex.dir);
  for (const name of readdirSync(dir).sort()) {
    for (const line of readLines(join(dir, name))) {
      const [key, chunkId, subChunkId] = line.split("\t");
      if (key === undefined || chunkId === undefined || subChunkId === undefined) {
        throw new QservError("INTERNAL", `${dir}/${name}: malformed director index line`);
      }
      yield { key: fromLatin1(key), chunkId: Number(chunkId), subChunkId: Number(subChunkId) };
    }
  }
}

/**
 * Writes a director's index from metadata as a partition output directory holding only the index
 * (what `partition({ directorDir })` reads to place child rows that have no position).
 */
export function exportDirectorIndex(meta: Metadata, db: DatabaseConfig, directorTable: string, outDir: string): void {
  const indexDir = join(outDir, INDEX_DIR);
  mkdirSync(indexDir, { recursive: true });
  const files = new BufferedFiles(indexDir, bucketFile, 16 << 20);
  for (const e of meta.directorEntries(db.database, directorTable)) {
    const key = typeof e.key === "string" ? toLatin1(e.key) : String(e.key);
    files.addText(bucketOf(key, DEFAULT_BUCKETS), `${key}\t${e.chunkId}\t${e.subChunkId}\n`);
  }
  files.flush();
  const info: ChunkInfo = {
    database: db.database,
    table: directorTable,
    numStripes: db.numStripes,
    numSubStripes: db.numSubStripes,
    overlap: db.overlap,
    dialect: dialectFor("index.tsv"),
    columns: [],
    directorIndex: { dir: INDEX_DIR, buckets: DEFAULT_BUCKETS, keyColumn: "" },
    chunks: [],
    totals: { chunks: 0, rows: 0, overlapRows: 0, rejected: 0 },
  };
  writeFileSync(join(outDir, CHUNK_INFO), JSON.stringify(info));
}
