import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { basename, join } from "node:path";
import { QservError } from "../common/errors.js";
import { type DatabaseConfig, inputColumns, isDirector, type TableConfig } from "../common/ingestConfig.js";
import { type BatchValue, decodeRecord, RecordEncoder, RecordReader } from "../common/rowBatch.js";
import { Chunker, type ChunkLocation, normalizeRa } from "../sphere/index.js";
import { BufferedFiles } from "./bufferedFiles.js";
import { type Dialect, type DialectOverrides, dialectFor } from "./dialect.js";
import { bucketFile, bucketOf, DEFAULT_BUCKETS, INDEX_DIR, loadIndexBucket, readLines } from "./directorIndex.js";
import { totalBytes } from "./inputFiles.js";
import { inputFormatOf } from "./inputFormat.js";
import { type HeaderOptions, Rejects, readInputRows } from "./inputRows.js";
import { type Progress, silentProgress } from "./progress.js";
import { RowScanner } from "./rowScanner.js";

export const CHUNK_INFO = "chunk_info.json";
export const chunkFile = (chunkId: number): string => `chunk_${chunkId}.txt`;
export const overlapFile = (chunkId: number): string => `chunk_${chunkId}_overlap.txt`;

export interface PartitionOptions extends HeaderOptions {
  readonly database: DatabaseConfig;
  readonly table: TableConfig;
  readonly files: ReadonlyArray<string>;
  readonly outDir: string;
  readonly dialect?: DialectOverrides;
  /** Write bad rows here with their reasons and carry on; without it the first bad row stops the run. */
  readonly rejectsFile?: string;
  /** Partition output of the director table: places child rows that have no position. */
  readonly directorDir?: string;
  /** Partition output of the second director (`director_table2`): places rows whose first director key is NULL. */
  readonly director2Dir?: string;
  readonly progress?: Progress;
  /** Bytes of rows buffered in memory before they are written out. */
  readonly maxBuffered?: number;
  /**
   * Chunk files as binary row batches (src/common/rowBatch.ts), the rows' values decoded once
   * here, for the upload to workers; not text in the dialect (the files users get).
   */
  readonly batch?: boolean;
}

export interface ChunkCount {
  id: number;
  /** [rows, overlap rows], as Qserv's chunk_info. */
  nrec: [number, number];
}

/** What `chunk_info.json` holds. */
export interface ChunkInfo {
  database: string;
  table: string;
  numStripes: number;
  numSubStripes: number;
  overlap: number;
  dialect: Dialect;
  /** "batch": the chunk files are binary row batches (PartitionOptions.batch), not text in `dialect`. */
  rowFormat?: "batch";
  columns: string[];
  /** `unique` false: a key may have several entries (config `unique_primary_key: 0`). */
  directorIndex: { dir: string; buckets: number; keyColumn: string; unique?: boolean } | null;
  chunks: ChunkCount[];
  totals: { chunks: number; rows: number; overlapRows: number; rejected: number };
}

export interface PartitionResult {
  info: ChunkInfo;
  elapsedMs: number;
}

/** A row's source position, for error messages and rejects. */
interface Origin {
  file: string;
  line: number;
}

/** Reasons to drop already-written rows, by output file and ordinal. */
type Removals = Map<string, Map<number, { origin: Origin; reason: string } | null>>;

const TMP = "_tmp";
const NEWLINE = Buffer.from("\n");

/** Split a catalog into Qserv chunks: see `mini-qserv partition --help` and README. */
export async function partition(opts: PartitionOptions): Promise<PartitionResult> {
  const t0 = Date.now();
  const { database: db, table } = opts;
  if (!table.isPartitioned) {
    throw new QservError("BAD_CONFIG", `table ${table.table} is not partitioned: it is loaded whole, not chunked`);
  }
  if (table.database !== db.database) {
    throw new QservError("BAD_CONFIG", `table ${table.table} belongs to ${table.database}, not ${db.database}`);
  }
  if (opts.files.length === 0) throw new QservError("BAD_ARGUMENT", "no input files given");
  const director = isDirector(table);
  const chunker = new Chunker({
    numStripes: db.numStripes,
    numSubStripesPerStripe: db.numSubStripes,
    overlap: director ? db.overlap : 0,
  });
  const inputCols = inputColumns(table);
  const columns = inputCols.map((c) => c.name);
  const col = (name: string): number => (name === "" ? -1 : columns.indexOf(name));
  const lonIdx = col(table.longitudeKey);
  const latIdx = col(table.latitudeKey);
  const keyIdx = col(table.directorKey);
  const key2Idx = col(table.directorKey2 ?? "");
  const lookup = director ? null : openDirector(opts.directorDir, db, table, table.directorTable);
  const lookup2 = director ? null : openDirector(opts.director2Dir, db, table, table.directorTable2 ?? "");
  const unique = table.uniquePrimaryKey !== false;
  const buckets = lookup?.buckets ?? DEFAULT_BUCKETS;
  const buckets2 = lookup2?.buckets ?? 0;

  // Binary inputs (Parquet, FITS) are written in the dialect of the run: only text files must agree.
  const textFiles = opts.files.filter((f) => inputFormatOf(f, opts.format) === "text");
  const dialect = dialectFor(textFiles[0] ?? (opts.files[0] as string), opts.dialect);
  for (const f of textFiles) {
    const d = dialectFor(f, opts.dialect);
    if (d.delimiter !== dialect.delimiter) {
      throw new QservError(
        "BAD_ARGUMENT",
        `${f}: its delimiter differs from ${textFiles[0]}'s: partition one format per run`,
      );
    }
  }
  const sep = dialect.delimiter;
  const outDir = opts.outDir.replace(/\/+$/, "");
  checkOutDir(outDir);
  const stage = `${outDir}.partial-${process.pid}`;
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, TMP), { recursive: true });
  // Output keys: chunkId * 2 for a chunk's rows, + 1 for its overlap rows.
  const out = new BufferedFiles(stage, (k) => (k & 1 ? overlapFile(k >> 1) : chunkFile(k >> 1)), opts.maxBuffered);
  // Scratch keys: bucket b of the index entries, buckets + b of pending child rows (placed by
  // the director), 2 * buckets + b of those placed by the second director.
  const tmp = new BufferedFiles(
    join(stage, TMP),
    (k) =>
      k < buckets
        ? `index_${bucketFile(k)}`
        : k < 2 * buckets
          ? `pending_${bucketFile(k - buckets)}`
          : `pending2_${bucketFile(k - 2 * buckets)}`,
    Math.max(1 << 20, (opts.maxBuffered ?? 64 << 20) / 4),
  );
  const progress = opts.progress ?? silentProgress;
  const batch = opts.batch === true;
  // A batch row's record: its values once, then per chunk it goes to a tail of chunkId and subChunkId.
  const enc = new RecordEncoder();
  const tail = new RecordEncoder();
  const addRow = (k: number, l: ChunkLocation, row: { buf: Buffer; start: number; end: number }): number => {
    if (!batch) return out.add(k, row.buf, row.start, row.end, `${sep}${l.chunkId}${sep}${l.subChunkId}\n`);
    tail.reset();
    tail.int(l.chunkId);
    tail.int(l.subChunkId);
    return out.addRecord(k, enc.buf, enc.length, tail.buf, tail.length);
  };
  const rejects = new Rejects(opts.rejectsFile);
  const rejectRow = rejects.reject;

  try {
    const fileNames = opts.files;
    const bytesTotal = totalBytes(fileNames);
    let bytesDone = 0;
    let rows = 0;
    const locs: ChunkLocation[] = [];
    for (let fi = 0; fi < fileNames.length; fi++) {
      const file = fileNames[fi] as string;
      const name = basename(file);
      await readInputRows(
        file,
        inputCols,
        dialect,
        opts,
        (row) => {
          rows++;
          const { line } = row;
          // A binary file's row has its text (and place) made only when asked for.
          const reject = (reason: string) =>
            rejectRow({ file: name, line, place: row.place }, reason, row.buf.toString("latin1", row.start, row.end));
          const key = keyIdx < 0 ? null : row.value(keyIdx);
          const lonText = lonIdx < 0 ? null : row.value(lonIdx);
          const latText = latIdx < 0 ? null : row.value(latIdx);
          if (director && key === null) return reject(`director key ${table.directorKey} is NULL`);
          if (lonText === null || latText === null) {
            if (director) return reject(`position ${table.longitudeKey}/${table.latitudeKey} is NULL`);
            const raw = () => {
              const text = JSON.stringify(row.buf.toString("latin1", row.start, row.end));
              if (!batch) return text;
              enc.reset();
              row.record(enc);
              return `${text}\t${enc.buf.toString("base64", 0, enc.length)}`;
            };
            const key2 = key === null && key2Idx >= 0 ? row.value(key2Idx) : null;
            if (key2 !== null) {
              if (lookup2 === null)
                return reject(`row has no position and no index of ${table.directorTable2} was given`);
              tmp.addText(2 * buckets + bucketOf(key2, buckets2), `${key2}\t${fi}\t${line}\t${raw()}\n`);
              return;
            }
            if (lookup === null) return reject("row has no position and no director index was given (--director)");
            if (key === null) {
              const keys = key2Idx >= 0 ? `${table.directorKey} or ${table.directorKey2}` : table.directorKey;
              return reject(`row has neither a position nor a ${keys}`);
            }
            tmp.addText(buckets + bucketOf(key, buckets), `${key}\t${fi}\t${line}\t${raw()}\n`);
            return;
          }
          const ra = row.coord(lonIdx);
          const dec = row.coord(latIdx);
          if (Number.isNaN(ra)) return reject(`${table.longitudeKey} ${JSON.stringify(lonText)} is not a number`);
          if (Number.isNaN(dec)) return reject(`${table.latitudeKey} ${JSON.stringify(latText)} is not a number`);
          if (dec < -90 || dec > 90) return reject(`${table.latitudeKey} ${dec} outside [-90, 90]`);
          chunker.locateAll(normalizeRa(ra), dec, locs);
          const home = locs[0] as ChunkLocation;
          if (batch) {
            enc.reset();
            row.record(enc);
          }
          const homeOrd = addRow(home.chunkId * 2, home, row);
          let overlaps = "";
          for (let i = 1; i < locs.length; i++) {
            const l = locs[i] as ChunkLocation;
            const ord = addRow(l.chunkId * 2 + 1, l, row);
            overlaps += `${overlaps === "" ? "" : ","}${l.chunkId}:${ord}`;
          }
          if (director) {
            tmp.addText(
              bucketOf(key as string, buckets),
              `${key}\t${home.chunkId}\t${home.subChunkId}\t${fi}\t${line}\t${homeOrd}\t${overlaps}\n`,
            );
          }
        },
        (where, reason, raw) => {
          rows++;
          rejectRow(where, reason, raw);
        },
        (b) => progress.update(rows, bytesDone + b),
      );
      bytesDone += totalBytes([file]);
    }
    progress.update(rows, bytesTotal);
    out.flush();
    tmp.flush();

    // Second phase, one bucket at a time: duplicate keys, unknown directors, pending child rows.
    const removals: Removals = new Map();
    const remove = (file: string, ord: number, why: { origin: Origin; reason: string } | null): void => {
      const m = removals.get(file) ?? new Map();
      removals.set(file, m);
      m.set(ord, why);
    };
    const origin = (fi: string, line: string): Origin => ({
      file: basename(fileNames[Number(fi)] as string),
      line: Number(line),
    });
    // Child rows placed through a director index, one bucket of it at a time.
    const placePending = (l: DirectorLookup, pending: string, b: number, keyColumn: string): void => {
      const index = loadIndexBucket(l.indexDir, b);
      for (const entry of readLines(join(stage, TMP, pending))) {
        const [key, fi, line, rawJson, record] = entry.split("\t") as string[];
        const raw = JSON.parse(rawJson as string) as string;
        const loc = index.get(key as string);
        if (loc === undefined) {
          rejectRow(
            origin(fi as string, line as string),
            `unknown director: no ${l.table} row with ${keyColumn}=${key}`,
            raw,
          );
          continue;
        }
        if (record === undefined) {
          out.addText(loc.chunkId * 2, `${raw}${sep}${loc.chunkId}${sep}${loc.subChunkId}\n`);
          continue;
        }
        const body = Buffer.from(record, "base64");
        tail.reset();
        tail.int(loc.chunkId);
        tail.int(loc.subChunkId);
        out.addRecord(loc.chunkId * 2, body, body.length, tail.buf, tail.length);
      }
      out.flush();
    };
    if (director) mkdirSync(join(stage, INDEX_DIR));
    for (let b = 0; b < Math.max(buckets, buckets2); b++) {
      if (lookup2 !== null && b < buckets2) {
        placePending(lookup2, `pending2_${bucketFile(b)}`, b, table.directorKey2 ?? "");
      }
      if (b >= buckets) continue;
      if (director) {
        const seen = new Map<string, Origin>();
        const lines: string[] = [];
        for (const entry of readLines(join(stage, TMP, `index_${bucketFile(b)}`))) {
          const [key, chunkId, subChunkId, fi, line, homeOrd, overlaps] = entry.split("\t") as string[];
          if (!unique) {
            lines.push(`${key}\t${chunkId}\t${subChunkId}\n`);
            continue;
          }
          const o = origin(fi as string, line as string);
          const first = seen.get(key as string);
          if (first === undefined) {
            seen.set(key as string, o);
            lines.push(`${key}\t${chunkId}\t${subChunkId}\n`);
            continue;
          }
          const reason = `duplicate director key ${table.directorKey}=${key} (first at ${first.file}:${first.line})`;
          if (!rejects.kept) rejectRow(o, reason, "");
          remove(chunkFile(Number(chunkId)), Number(homeOrd), { origin: o, reason });
          for (const ov of (overlaps as string) === "" ? [] : (overlaps as string).split(",")) {
            const [c, ord] = ov.split(":");
            remove(overlapFile(Number(c)), Number(ord), null);
          }
        }
        writeLatin1(join(stage, INDEX_DIR, bucketFile(b)), lines.join(""));
      } else if (lookup !== null) {
        placePending(lookup, `pending_${bucketFile(b)}`, b, table.directorKey);
      }
    }
    for (const [file, ords] of removals) {
      if (batch) removeRecords(join(stage, file), dialect, ords, rejectRow);
      else removeRows(join(stage, file), dialect, ords, rejectRow);
    }
    rmSync(join(stage, TMP), { recursive: true, force: true });

    const count = (k: number): number => out.count(k) - (removals.get(out.nameOf(k))?.size ?? 0);
    const info = chunkInfo(
      count,
      out.keysWritten(),
      opts,
      dialect,
      columns,
      director ? { dir: INDEX_DIR, buckets, keyColumn: table.directorKey, unique } : null,
    );
    info.totals.rejected = rejects.count;
    if (batch) info.rowFormat = "batch";
    writeLatin1(join(stage, CHUNK_INFO), `${JSON.stringify(info, null, 1)}\n`);
    rmSync(outDir, { recursive: true, force: true });
    renameSync(stage, outDir);
    return { info, elapsedMs: Date.now() - t0 };
  } catch (e) {
    rmSync(stage, { recursive: true, force: true });
    throw e;
  } finally {
    progress.stop();
    rejects.close();
  }
}

function writeLatin1(path: string, text: string): void {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, text, null, "latin1");
  } finally {
    closeSync(fd);
  }
}

/** The output directory must be absent, empty, or an earlier partition output (replaced). */
function checkOutDir(dir: string): void {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir);
  if (entries.length > 0 && !entries.includes(CHUNK_INFO)) {
    throw new QservError("BAD_ARGUMENT", `${dir} exists and is not a partition output: refusing to overwrite it`);
  }
}

interface DirectorLookup {
  indexDir: string;
  buckets: number;
  table: string;
}

function openDirector(
  dir: string | undefined,
  db: DatabaseConfig,
  table: TableConfig,
  directorTable: string,
): DirectorLookup | null {
  if (dir === undefined) return null;
  if (directorTable === "") {
    throw new QservError("BAD_ARGUMENT", `${table.table} has no such director in its config: ${dir} is not used`);
  }
  const path = join(dir, CHUNK_INFO);
  let info: ChunkInfo;
  try {
    info = JSON.parse(readFileSync(path, "utf8")) as ChunkInfo;
  } catch (e) {
    throw new QservError("BAD_ARGUMENT", `${path}: not a partition output: ${(e as Error).message}`);
  }
  if (info.directorIndex === null)
    throw new QservError("BAD_ARGUMENT", `${dir} holds no director index (${info.table} is not a director table)`);
  if (info.table !== directorTable) {
    throw new QservError(
      "BAD_ARGUMENT",
      `${dir} holds ${info.table}, but ${table.table}'s director is ${directorTable}`,
    );
  }
  if (info.numStripes !== db.numStripes || info.numSubStripes !== db.numSubStripes) {
    throw new QservError(
      "BAD_ARGUMENT",
      `${dir} was partitioned with other num_stripes/num_sub_stripes than ${db.database}`,
    );
  }
  return { indexDir: join(dir, info.directorIndex.dir), buckets: info.directorIndex.buckets, table: info.table };
}

/** Rewrite a chunk file without the rows at the given ordinals. */
function removeRows(
  path: string,
  dialect: Dialect,
  ords: Map<number, { origin: Origin; reason: string } | null>,
  onRemoved: (o: Origin, reason: string, raw: string) => void,
): void {
  const sc = new RowScanner(dialect);
  const kept: Buffer[] = [];
  let ord = 0;
  sc.feed(readFileSync(path), true, (buf, start) => {
    const why = ords.get(ord);
    if (!ords.has(ord)) kept.push(buf.subarray(start, sc.rowEnd()), NEWLINE);
    // The reject shows the row as it came in: without the appended chunkId and subChunkId.
    else if (why)
      onRemoved(why.origin, why.reason, buf.toString("latin1", start, sc.bounds[2 * (sc.fieldCount - 2) - 1]));
    ord++;
  });
  writeKept(path, kept);
}

/** A chunk file rewritten with the rows kept; removed when none is. */
function writeKept(path: string, kept: Buffer[]): void {
  if (kept.length === 0) rmSync(path);
  else writeFileSync(path, Buffer.concat(kept));
}

/** Rewrite a batch chunk file without the records at the given ordinals (removeRows' twin for rowBatch.ts). */
function removeRecords(
  path: string,
  dialect: Dialect,
  ords: Map<number, { origin: Origin; reason: string } | null>,
  onRemoved: (o: Origin, reason: string, raw: string) => void,
): void {
  const kept: Buffer[] = [];
  const values: BatchValue[] = [];
  let ord = 0;
  new RecordReader().feed(readFileSync(path), true, (buf, start, end) => {
    const why = ords.get(ord);
    if (!ords.has(ord)) kept.push(buf.subarray(start - 4, end));
    else if (why) {
      // The reject shows the row's values in the dialect's order, without chunkId and subChunkId.
      const n = decodeRecord(buf, start, end, values);
      onRemoved(
        why.origin,
        why.reason,
        values
          .slice(0, n - 2)
          .map((v) => (v === null ? dialect.nullToken : String(v)))
          .join(dialect.delimiter),
      );
    }
    ord++;
  });
  writeKept(path, kept);
}

/** Qserv-shaped chunk_info from the rows written per chunk file. */
function chunkInfo(
  count: (key: number) => number,
  keys: Iterable<number>,
  opts: PartitionOptions,
  dialect: Dialect,
  columns: string[],
  directorIndex: ChunkInfo["directorIndex"],
): ChunkInfo {
  const counts = new Map<number, [number, number]>();
  for (const k of keys) {
    const id = k >> 1;
    const c = counts.get(id) ?? [0, 0];
    c[k & 1] = count(k);
    counts.set(id, c);
  }
  const chunks = [...counts.entries()]
    .filter(([, n]) => n[0] + n[1] > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([id, nrec]) => ({ id, nrec }));
  const rows = chunks.reduce((s, c) => s + c.nrec[0], 0);
  const overlapRows = chunks.reduce((s, c) => s + c.nrec[1], 0);
  return {
    database: opts.database.database,
    table: opts.table.table,
    numStripes: opts.database.numStripes,
    numSubStripes: opts.database.numSubStripes,
    overlap: isDirector(opts.table) ? opts.database.overlap : 0,
    dialect,
    columns: [...columns, "chunkId", "subChunkId"],
    directorIndex,
    chunks,
    totals: { chunks: chunks.filter((c) => c.nrec[0] > 0).length, rows, overlapRows, rejected: 0 },
  };
}
