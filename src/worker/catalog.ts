import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { QservError } from "../common/errors.js";
import { chunkIdOfFile, dataFile, NO_CHUNK, REPLICATED_FILE, type StageRecord, type TableRecord } from "./layout.js";
import type { ColumnDef, DatabaseHeld, ListResponse, StagedHeld } from "./messages.js";

export interface TableMeta {
  name: string;
  partitioned: boolean;
  columns: ColumnDef[];
  directorKey: string;
}

export interface Counts {
  rows: number;
  overlapRows: number;
}

interface DatabaseEntry {
  tables: Map<string, TableMeta>;
  /** chunk id (NO_CHUNK: the replicated file) → table → row counts. */
  files: Map<number, Map<string, Counts>>;
  /** Pending stages, by stageKey. */
  staged: Map<string, StagedHeld>;
  /** Published stages whose records the files keep (a publish can be undone), by stageKey. */
  published: Map<string, StagedHeld>;
}

const stageKey = (chunkId: number, table: string, stage: string) => `${chunkId}\t${table}\t${stage}`;

function sameColumns(a: readonly ColumnDef[], b: readonly ColumnDef[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i]?.name && c.mysqlType === b[i]?.mysqlType);
}

/**
 * What this worker holds, kept in memory by the main thread: rebuilt at start from the data files'
 * own _mq_tables, updated after every committed load and drop.
 */
export class Catalog {
  private readonly dbs = new Map<string, DatabaseEntry>();

  constructor(readonly dataDir: string) {}

  /** Reads every data file under the data dir; files a crash left without bookkeeping are removed. */
  static scan(dataDir: string): Catalog {
    const cat = new Catalog(dataDir);
    fs.mkdirSync(dataDir, { recursive: true });
    for (const dbName of fs.readdirSync(dataDir)) {
      const dir = path.join(dataDir, dbName);
      if (!fs.statSync(dir).isDirectory()) continue;
      for (const f of fs.readdirSync(dir)) {
        const chunkId = f === REPLICATED_FILE ? NO_CHUNK : chunkIdOfFile(f);
        if (chunkId === null) continue;
        const file = path.join(dir, f);
        const held = readRecords(file);
        if (held === null) {
          removeDataFile(file);
          continue;
        }
        for (const r of held.stages) {
          const counts = { rows: r.rows, overlapRows: r.overlap_rows };
          if (r.published === 0) cat.recordStage(dbName, chunkId, r.table_name, r.stage, counts);
          else cat.entry(dbName).published.set(stageKey(chunkId, r.table_name, r.stage), stageHeld(r, chunkId));
        }
        for (const r of held.tables) {
          const meta: TableMeta = {
            name: r.name,
            partitioned: chunkId !== NO_CHUNK,
            columns: JSON.parse(r.columns) as ColumnDef[],
            directorKey: r.director_key,
          };
          cat.record(dbName, chunkId, meta, { rows: r.rows, overlapRows: r.overlap_rows });
        }
      }
    }
    return cat;
  }

  /** Throws CONFLICT when `meta` contradicts the table already held under that name. */
  checkTable(database: string, meta: TableMeta): void {
    const held = this.dbs.get(database)?.tables.get(meta.name);
    if (held === undefined) return;
    if (held.partitioned !== meta.partitioned) {
      throw new QservError(
        "CONFLICT",
        `table ${database}.${meta.name} is held as ${held.partitioned ? "partitioned" : "replicated"}`,
      );
    }
    if (!sameColumns(held.columns, meta.columns)) {
      throw new QservError("CONFLICT", `table ${database}.${meta.name} is held with other columns`);
    }
  }

  private entry(database: string): DatabaseEntry {
    let db = this.dbs.get(database);
    if (db === undefined) {
      db = { tables: new Map(), files: new Map(), staged: new Map(), published: new Map() };
      this.dbs.set(database, db);
    }
    return db;
  }

  /** Sets the counts of a table in a file (after a commit). */
  record(database: string, chunkId: number, meta: TableMeta, counts: Counts): void {
    const db = this.entry(database);
    if (!db.tables.has(meta.name)) db.tables.set(meta.name, meta);
    let file = db.files.get(chunkId);
    if (file === undefined) {
      file = new Map();
      db.files.set(chunkId, file);
    }
    file.set(meta.name, counts);
  }

  /** Sets the counts of a table a file holds (no-op when it holds none). */
  setCounts(database: string, chunkId: number, table: string, counts: Counts): void {
    const file = this.dbs.get(database)?.files.get(chunkId);
    if (file?.has(table)) file.set(table, counts);
  }

  /** Sets the counts of a table's stage in a file (after a staged commit). */
  recordStage(database: string, chunkId: number, table: string, stage: string, counts: Counts): void {
    this.entry(database).staged.set(stageKey(chunkId, table, stage), { table, stage, chunkId, ...counts });
  }

  /** Chunks (NO_CHUNK: the replicated file) holding a pending stage of a table ("*": any stage). */
  stagedChunks(database: string, table: string, stage: string): number[] {
    const held = [...(this.dbs.get(database)?.staged.values() ?? [])];
    const chunks = held.filter((s) => s.table === table && (stage === "*" || s.stage === stage)).map((s) => s.chunkId);
    return [...new Set(chunks)].sort((a, b) => a - b);
  }

  /** A stage of a file was published: it moves from the pending stages to the published ones. */
  notePublished(database: string, chunkId: number, table: string, stage: string): void {
    const db = this.dbs.get(database);
    const k = stageKey(chunkId, table, stage);
    const s = db?.staged.get(k);
    if (db !== undefined && s !== undefined) db.published.set(k, s);
  }

  /** Records the published stages of a file just imported (its `_mq_stages` rows). */
  notePublishedIn(database: string, chunkId: number, published: readonly StageRecord[]): void {
    for (const r of published)
      this.entry(database).published.set(stageKey(chunkId, r.table_name, r.stage), stageHeld(r, chunkId));
  }

  /** A published stage of a file was undone. */
  noteUnpublished(database: string, chunkId: number, table: string, stage: string): void {
    this.dbs.get(database)?.published.delete(stageKey(chunkId, table, stage));
  }

  /** Forgets a table's stages ("*": all) in a file (after a publish or a drop). */
  forgetStages(database: string, chunkId: number, table: string, stage: string): void {
    const db = this.dbs.get(database);
    if (db === undefined) return;
    for (const [k, s] of db.staged) {
      if (s.chunkId === chunkId && s.table === table && (stage === "*" || s.stage === stage)) db.staged.delete(k);
    }
    this.prune(database, db);
  }

  /** Whether the file of `chunkId` holds nothing but pending stages of `table` matching `stage` ("*": any). */
  onlyStages(database: string, chunkId: number, table: string, stage: string): boolean {
    const db = this.dbs.get(database);
    if (db === undefined || (db.files.get(chunkId)?.size ?? 0) > 0) return false;
    const mine = (s: StagedHeld) => s.table === table && (stage === "*" || s.stage === stage);
    const inFile = (m: Map<string, StagedHeld>) => [...m.values()].filter((s) => s.chunkId === chunkId);
    return inFile(db.published).length === 0 && inFile(db.staged).every(mine);
  }

  hasDatabase(database: string): boolean {
    return this.dbs.has(database);
  }

  /** Tables held in the file of `chunkId`, or null when there is no such file. */
  tablesIn(database: string, chunkId: number): ReadonlyMap<string, Counts> | null {
    return this.dbs.get(database)?.files.get(chunkId) ?? null;
  }

  /** Partitioned tables of a database (whichever chunks hold them). */
  partitionedTables(database: string): TableMeta[] {
    return [...(this.dbs.get(database)?.tables.values() ?? [])].filter((t) => t.partitioned);
  }

  /** Forgets a whole file, or one table of it; true when something was held. */
  forget(database: string, chunkId: number, table: string | null): boolean {
    const db = this.dbs.get(database);
    const file = db?.files.get(chunkId);
    if (db === undefined || file === undefined) return false;
    const existed = table === null ? true : file.delete(table);
    if (table === null || file.size === 0) db.files.delete(chunkId);
    if (table === null) for (const [k, s] of db.staged) if (s.chunkId === chunkId) db.staged.delete(k);
    for (const [k, s] of db.published) {
      if (s.chunkId === chunkId && (table === null || s.table === table)) db.published.delete(k);
    }
    for (const name of db.tables.keys()) {
      if (![...db.files.values()].some((f) => f.has(name))) db.tables.delete(name);
    }
    this.prune(database, db);
    return existed;
  }

  private prune(database: string, db: DatabaseEntry): void {
    if (db.files.size === 0 && db.staged.size === 0) this.dbs.delete(database);
  }

  get databaseCount(): number {
    return this.dbs.size;
  }

  get chunkCount(): number {
    let n = 0;
    for (const db of this.dbs.values()) for (const id of db.files.keys()) if (id !== NO_CHUNK) n++;
    return n;
  }

  list(only: string): ListResponse {
    const databases: DatabaseHeld[] = [];
    for (const [name, db] of [...this.dbs].sort(([a], [b]) => a.localeCompare(b))) {
      if (only !== "" && name !== only) continue;
      const replicated = db.files.get(NO_CHUNK);
      databases.push({
        name,
        tables: [...db.tables.values()].map((t) => ({
          name: t.name,
          partitioned: t.partitioned,
          columns: t.columns,
          directorKey: t.directorKey,
          rows: t.partitioned ? 0 : (replicated?.get(t.name)?.rows ?? 0),
        })),
        chunks: [...db.files]
          .filter(([id]) => id !== NO_CHUNK)
          .sort(([a], [b]) => a - b)
          .map(([chunkId, tables]) => ({
            chunkId,
            tables: [...tables].map(([table, c]) => ({ table, rows: c.rows, overlapRows: c.overlapRows })),
            bytes: fileBytes(dataFile(this.dataDir, name, chunkId)),
          })),
        staged: [...db.staged.values()],
        published: [...db.published.values()],
      });
    }
    return { databases };
  }
}

function fileBytes(file: string): number {
  let n = 0;
  for (const f of [file, `${file}-wal`]) {
    try {
      n += fs.statSync(f).size;
    } catch {
      // absent WAL
    }
  }
  return n;
}

function stageHeld(r: StageRecord, chunkId: number): StagedHeld {
  return { table: r.table_name, stage: r.stage, chunkId, rows: r.rows, overlapRows: r.overlap_rows };
}

/**
 * The live tables and stages (pending and published) of a data file, or null when it has neither
 * live tables nor pending stages (a load never committed).
 */
function readRecords(file: string): { tables: TableRecord[]; stages: StageRecord[] } | null {
  const db = new Database(file);
  try {
    const has = (t: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE name = ?").get(t) !== undefined;
    const tables = has("_mq_tables") ? (db.prepare("SELECT * FROM _mq_tables").all() as TableRecord[]) : [];
    const stages = has("_mq_stages") ? (db.prepare("SELECT * FROM _mq_stages").all() as StageRecord[]) : [];
    return tables.length === 0 && !stages.some((s) => s.published === 0) ? null : { tables, stages };
  } finally {
    db.close();
  }
}

/** Deletes a SQLite file with its WAL and shared-memory files. */
export function removeDataFile(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) fs.rmSync(f, { force: true });
}
