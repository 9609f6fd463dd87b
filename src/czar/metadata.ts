import Database from "better-sqlite3";
import { QservError } from "../common/errors.js";
import type { DatabaseConfig, TableConfig } from "../common/ingestConfig.js";
import { sqliteType } from "../sqlite/types.js";
import type { CzarCatalog, TableKind, TableMeta } from "./catalog.js";
import { addStage, type StagesByChunk, stageOfLoad } from "./loadIds.js";

export interface WorkerInfo {
  id: string;
  address: string;
}

export type { TableKind, TableMeta };

/** chunk id that stands for the replicated tables of a database. */
export const REPLICATED_CHUNK = -1;

/** One director index entry as the partitioner writes it: the key as text. */
export interface IndexEntryText {
  key: string;
  chunkId: number;
  subChunkId: number;
}

/** One director index entry as stored: integer keys as bigint. */
export interface IndexEntry {
  key: bigint | string;
  chunkId: number;
  subChunkId: number;
}

/** What ingest records once a table load has been published on its workers. */
export interface TableRegistration {
  config: TableConfig;
  /** Created in the same transaction when it is not registered yet. */
  database?: DatabaseConfig;
  /** Identifies the load: ingesting the same input again finds this and does nothing. */
  loadId: string;
  /** Rows of this load. */
  rows: number;
  /** The publish's sequence number in its database (see snapshotSeq); absent: none. */
  seq?: number;
  /** Partitioned tables: rows per chunk (overlap-only chunks included), added to earlier loads'. */
  chunks?: ReadonlyArray<{ id: number; rows: number; overlapRows: number }>;
  /** Partitioned tables: the workers now holding each chunk (replaces the chunk's replicas). */
  placement?: ReadonlyMap<number, ReadonlyArray<string>>;
  /** Replicated tables: the workers that hold it. */
  replicatedOn?: ReadonlyArray<string>;
  /** Director tables: the director index (read once, inside the registering transaction). */
  directorIndex?: Iterable<IndexEntryText>;
  /** The input files of the load, as listed by `loads`. */
  files?: readonly string[];
}

/** A publish under way, as the journal holds it (the record is publishJournal.ts's JSON). */
export interface JournalRow {
  loadId: string;
  db: string;
  table: string;
  step: string;
  record: string;
}

/** One recorded load of a table, as `mini-qserv loads` lists it. */
export interface LoadInfo {
  loadId: string;
  database: string;
  table: string;
  /** Input files (empty for a load recorded before files were kept). */
  files: string[];
  rows: number;
  /** ISO time of the publish (null: recorded before times were kept). */
  loadedAt: string | null;
  /** "published"; "legacy" when recorded without per-chunk counts (it cannot be unloaded). */
  state: "published" | "legacy";
}

/** What taking a load or a table out of metadata removed. */
export interface Removed {
  /** Chunks (REPLICATED_CHUNK: the replicated tables) and the workers placed on each before. */
  chunks: Map<number, string[]>;
  rows: number;
  /** True when the table went with it (its last load). */
  tableDropped: boolean;
}

const SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS workers (
  id TEXT PRIMARY KEY,
  address TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS databases (
  name TEXT PRIMARY KEY,
  config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tables (
  id INTEGER PRIMARY KEY,
  db TEXT NOT NULL REFERENCES databases(name),
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('director', 'child', 'replicated')),
  config TEXT NOT NULL,
  rows INTEGER NOT NULL,
  load_id TEXT NOT NULL,
  UNIQUE (db, name)
);
CREATE TABLE IF NOT EXISTS table_chunks (
  table_id INTEGER NOT NULL REFERENCES tables(id),
  chunk_id INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  overlap_rows INTEGER NOT NULL,
  PRIMARY KEY (table_id, chunk_id)
) WITHOUT ROWID;
-- Which workers hold a chunk of a database (chunk -1: its replicated tables), rank 0 first.
CREATE TABLE IF NOT EXISTS replicas (
  db TEXT NOT NULL,
  chunk_id INTEGER NOT NULL,
  worker_id TEXT NOT NULL,
  rank INTEGER NOT NULL,
  PRIMARY KEY (db, chunk_id, worker_id)
) WITHOUT ROWID;
-- Every load of a table (tables.load_id is its first): ingesting the same input again finds it here.
CREATE TABLE IF NOT EXISTS loads (
  table_id INTEGER NOT NULL REFERENCES tables(id),
  load_id TEXT NOT NULL,
  rows INTEGER NOT NULL,
  files TEXT,
  loaded_at TEXT,
  -- the rowids its entries took in director_index (a load's entries are inserted together)
  index_first INTEGER,
  index_last INTEGER,
  PRIMARY KEY (table_id, load_id)
) WITHOUT ROWID;
-- Rows of each load per chunk (chunk -1: a replicated table), so that the load can be taken out.
CREATE TABLE IF NOT EXISTS load_chunks (
  table_id INTEGER NOT NULL,
  load_id TEXT NOT NULL,
  chunk_id INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  overlap_rows INTEGER NOT NULL,
  PRIMARY KEY (table_id, load_id, chunk_id)
) WITHOUT ROWID;
-- key has no declared type, so integers stay integers (compared as such) and text stays text.
CREATE TABLE IF NOT EXISTS director_index (
  table_id INTEGER NOT NULL,
  key NOT NULL,
  chunk_id INTEGER NOT NULL,
  sub_chunk_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS director_index_key ON director_index (table_id, key);
-- The sequence number of the last publish recorded per database (never decreases).
CREATE TABLE IF NOT EXISTS publish_seq (
  db TEXT PRIMARY KEY,
  seq INTEGER NOT NULL
);
-- The publish journal (publishJournal.ts): one row per publish under way, written before each
-- step, so that a czar killed during a publish finishes it, or takes it back, when it starts again.
CREATE TABLE IF NOT EXISTS publish_journal (
  load_id TEXT PRIMARY KEY,
  db TEXT NOT NULL,
  tbl TEXT NOT NULL,
  step TEXT NOT NULL,
  record TEXT NOT NULL,
  opened_at TEXT NOT NULL
);
`;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT_TEXT = /^[-+]?\d+$/;

function int64(text: string): bigint | null {
  const v = BigInt(text);
  return v >= INT64_MIN && v <= INT64_MAX ? v : null;
}

export function tableKind(t: TableConfig): TableKind {
  if (!t.isPartitioned) return "replicated";
  return t.directorTable === "" ? "director" : "child";
}

function samePartitioning(a: DatabaseConfig, b: DatabaseConfig): boolean {
  return a.numStripes === b.numStripes && a.numSubStripes === b.numSubStripes && a.overlap === b.overlap;
}

interface TableRow {
  id: number;
  db: string;
  name: string;
  kind: TableKind;
  config: string;
  rows: number;
  load_id: string;
}

/** `v` and everything it holds, frozen (a memoised answer is shared by every caller). */
function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

function toMeta(r: TableRow): TableMeta {
  return { database: r.db, name: r.name, kind: r.kind, config: JSON.parse(r.config) as TableConfig, rows: r.rows };
}

/** A director table's key column, for converting keys to what is stored. */
interface DirectorRef {
  id: number;
  /** The key column has integer affinity: integer keys are stored and looked up as 64-bit integers. */
  integer: boolean;
}

/**
 * The czar's knowledge of its cluster, in one SQLite file (WAL): workers, databases and their
 * partitioning, tables (config as JSON), which chunks each table has rows in, which workers hold
 * each chunk, and the director index (key → chunk, sub-chunk) of every director table.
 */
export class Metadata implements CzarCatalog {
  private readonly statements = new Map<string, Database.Statement>();
  /** tableChunks answers; table_chunks only changes in recordLoad, which clears it. */
  private readonly chunksOfTable = new Map<string, number[]>();

  /**
   * The generation, read once per turn of the event loop (null: read it again). Every write is
   * prepared through `prepare`, which drops it first; a transaction never keeps it.
   */
  private generationNow: string | null = null;
  /** Answers of the read-only lookups the planner makes per query, valid under `memoGeneration`. */
  private readonly memo = new Map<string, unknown>();
  private memoGeneration = "";

  private constructor(private readonly db: Database.Database) {}

  /** A prepared statement, kept per SQL text: the czar asks the same few questions per chunk job. */
  private prepare(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    if (!s.reader) this.generationNow = null; // a write follows
    return s;
  }

  /**
   * `read()`'s answer, kept (frozen) until the metadata changes; read anew inside a transaction
   * (which may yet roll back what it sees).
   */
  private memoised<T>(key: string, read: () => T): T {
    if (this.db.inTransaction) return read();
    const g = this.generation();
    if (g !== this.memoGeneration) {
      this.memo.clear();
      this.memoGeneration = g;
    }
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const v = deepFreeze(read());
    this.memo.set(key, v);
    return v;
  }

  static open(file: string): Metadata {
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (e) {
      throw new QservError("IO", `${file}: cannot open metadata: ${(e as Error).message}`);
    }
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      const version = db.pragma("user_version", { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new QservError("BAD_CONFIG", `${file}: metadata schema version ${version} is newer than this czar's`);
      }
      db.exec(SCHEMA);
      const cols = (db.prepare("SELECT name FROM pragma_table_info('loads')").pluck().all() as string[]).join(" ");
      if (!/\bfiles\b/.test(cols)) {
        for (const c of ["files TEXT", "loaded_at TEXT", "index_first INTEGER", "index_last INTEGER"]) {
          db.exec(`ALTER TABLE loads ADD COLUMN ${c}`);
        }
      }
      if (version < 2)
        db.exec("INSERT OR IGNORE INTO loads (table_id, load_id, rows) SELECT id, load_id, rows FROM tables");
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } catch (e) {
      db.close();
      if (e instanceof QservError) throw e;
      throw new QservError("IO", `${file}: not a usable metadata file: ${(e as Error).message}`);
    }
    return new Metadata(db);
  }

  /**
   * A read-only second connection to the same file, for planning off the event loop (another
   * thread): its answers come from `reading`, which sees what the czar's connection committed.
   */
  static openReader(file: string): Metadata {
    try {
      return new Metadata(new Database(file, { readonly: true, fileMustExist: true }));
    } catch (e) {
      throw new QservError("IO", `${file}: cannot open metadata: ${(e as Error).message}`);
    }
  }

  private dataVersion = -1;

  /** Runs `fn` in one read transaction (one consistent view); caches are dropped if another connection wrote since. */
  reading<T>(fn: () => T): T {
    return this.db.transaction(() => {
      const v = this.db.pragma("data_version", { simple: true }) as number;
      if (v !== this.dataVersion) {
        this.chunksOfTable.clear();
        this.dataVersion = v;
      }
      return fn();
    })();
  }

  close(): void {
    this.db.close();
  }

  /**
   * Changes with every write to the metadata: this connection's (total_changes) or another's
   * (data_version). A cheap read: plans are cached under it.
   */
  generation(): string {
    if (this.generationNow !== null) return this.generationNow;
    const [changes, version] = this.prepare("SELECT total_changes(), (SELECT data_version FROM pragma_data_version)")
      .raw(true)
      .get() as [number, number];
    const g = `${version}.${changes}`;
    if (!this.db.inTransaction) {
      // Kept for this turn: another connection's commit (data_version) is seen from the next on.
      this.generationNow = g;
      setImmediate(() => {
        this.generationNow = null;
      });
    }
    return g;
  }

  // ---------------------------------------------------------------- workers

  upsertWorker(w: WorkerInfo): void {
    this.prepare(
      "INSERT INTO workers (id, address) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET address = excluded.address",
    ).run(w.id, w.address);
  }

  /** Workers in the order they were first registered. */
  workers(): WorkerInfo[] {
    return this.prepare("SELECT id, address FROM workers ORDER BY rowid").all() as WorkerInfo[];
  }

  // ---------------------------------------------------------------- databases

  /** Registers a database; again with the same partitioning is a no-op, with another a CONFLICT. */
  createDatabase(cfg: DatabaseConfig): void {
    this.db.transaction(() => {
      const held = this.database(cfg.database);
      if (held === null) {
        const c: DatabaseConfig = {
          database: cfg.database,
          numStripes: cfg.numStripes,
          numSubStripes: cfg.numSubStripes,
          overlap: cfg.overlap,
        };
        this.prepare("INSERT INTO databases (name, config) VALUES (?, ?)").run(cfg.database, JSON.stringify(c));
      } else if (!samePartitioning(held, cfg)) {
        throw new QservError(
          "CONFLICT",
          `database ${cfg.database} exists with num_stripes ${held.numStripes}, num_sub_stripes ${held.numSubStripes}, ` +
            `overlap ${held.overlap}; the request has ${cfg.numStripes}, ${cfg.numSubStripes}, ${cfg.overlap}`,
          { database: cfg.database },
        );
      }
    })();
  }

  database(name: string): DatabaseConfig | null {
    return this.memoised(`database\0${name}`, () => {
      const r = this.prepare("SELECT config FROM databases WHERE name = ?").pluck().get(name) as string | undefined;
      return r === undefined ? null : (JSON.parse(r) as DatabaseConfig);
    });
  }

  databases(): DatabaseConfig[] {
    const rows = this.prepare("SELECT config FROM databases ORDER BY name").pluck().all() as string[];
    return rows.map((r) => JSON.parse(r) as DatabaseConfig);
  }

  // ---------------------------------------------------------------- tables

  table(db: string, name: string): TableMeta | null {
    return this.memoised(`table\0${db}\0${name}`, () => {
      const r = this.tableRow(db, name);
      return r === null ? null : toMeta(r);
    });
  }

  tables(db: string): TableMeta[] {
    const rows = this.prepare("SELECT * FROM tables WHERE db = ? ORDER BY name").all(db) as TableRow[];
    return rows.map(toMeta);
  }

  /** The load id a registered table was first loaded with, or null when the table is not registered. */
  loadIdOf(db: string, name: string): string | null {
    return this.tableRow(db, name)?.load_id ?? null;
  }

  /**
   * The database's snapshot: the sequence number of its last recorded publish (1 before any). A
   * query that passes it to the workers sees exactly the loads recorded now, even while later
   * ones publish; the next publish takes the number after it.
   */
  snapshotSeq(db: string): number {
    return this.memoised(`snapshotSeq\0${db}`, () => {
      const r = this.prepare("SELECT seq FROM publish_seq WHERE db = ?").pluck().get(db) as number | undefined;
      return r ?? 1;
    });
  }

  /** Rows a recorded load of the table brought, or null when no such load is recorded. */
  loadRows(db: string, name: string, loadId: string): number | null {
    const r = this.prepare(
      "SELECT l.rows FROM loads l JOIN tables t ON t.id = l.table_id WHERE t.db = ? AND t.name = ? AND l.load_id = ?",
    )
      .pluck()
      .get(db, name, loadId) as number | undefined;
    return r ?? null;
  }

  /** Records a table's first load (see recordLoad); CONFLICT when the table is already registered. */
  registerTable(reg: TableRegistration): TableMeta {
    const t = reg.config;
    return this.db.transaction(() => {
      if (this.tableRow(t.database, t.table) !== null) {
        throw new QservError("CONFLICT", `table ${t.database}.${t.table} is already registered`, {
          database: t.database,
          table: t.table,
        });
      }
      return this.recordLoad(reg);
    })();
  }

  /**
   * Records a published load in one transaction, all of it or nothing: the first load of a
   * table registers it, a later one (same config, else CONFLICT) adds its rows, chunk counts and
   * director index entries; chunk placement as given. A load already recorded changes nothing.
   */
  recordLoad(reg: TableRegistration): TableMeta {
    try {
      return this.record(reg);
    } finally {
      this.chunksOfTable.clear();
    }
  }

  private record(reg: TableRegistration): TableMeta {
    const t = reg.config;
    return this.db.transaction(() => {
      if (reg.database !== undefined) this.createDatabase(reg.database);
      if (this.database(t.database) === null) {
        throw new QservError("NOT_FOUND", `database ${t.database} is not registered`, { database: t.database });
      }
      const kind = tableKind(t);
      const held = this.tableRow(t.database, t.table);
      if (held !== null && this.loadRows(t.database, t.table, reg.loadId) !== null) return toMeta(held);
      if (held !== null) checkSameConfig(held, t);
      const id =
        held?.id ??
        Number(
          this.prepare("INSERT INTO tables (db, name, kind, config, rows, load_id) VALUES (?, ?, ?, ?, 0, ?)").run(
            t.database,
            t.table,
            kind,
            JSON.stringify(t),
            reg.loadId,
          ).lastInsertRowid,
        );
      this.prepare("UPDATE tables SET rows = rows + ? WHERE id = ?").run(reg.rows, id);
      const files = JSON.stringify(reg.files ?? []);
      this.prepare(
        "INSERT INTO loads (table_id, load_id, rows, files, loaded_at) VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
      ).run(id, reg.loadId, reg.rows, files);
      const perLoad = this.prepare(
        "INSERT INTO load_chunks (table_id, load_id, chunk_id, rows, overlap_rows) VALUES (?, ?, ?, ?, ?)",
      );
      for (const c of reg.chunks ?? []) perLoad.run(id, reg.loadId, c.id, c.rows, c.overlapRows);
      if (kind === "replicated") perLoad.run(id, reg.loadId, REPLICATED_CHUNK, reg.rows, 0);
      if (reg.seq !== undefined) {
        this.prepare(
          `INSERT INTO publish_seq (db, seq) VALUES (?, ?)
           ON CONFLICT (db) DO UPDATE SET seq = max(seq, excluded.seq)`,
        ).run(t.database, reg.seq);
      }
      const addChunk = this.prepare(
        `INSERT INTO table_chunks (table_id, chunk_id, rows, overlap_rows) VALUES (?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET rows = rows + excluded.rows, overlap_rows = overlap_rows + excluded.overlap_rows`,
      );
      for (const c of reg.chunks ?? []) addChunk.run(id, c.id, c.rows, c.overlapRows);
      for (const [chunkId, workers] of reg.placement ?? []) this.setReplicas(t.database, chunkId, workers);
      if (reg.replicatedOn !== undefined) this.placeReplicated(t.database, id, reg.replicatedOn);
      if (reg.directorIndex !== undefined) {
        if (kind !== "director") throw new QservError("INTERNAL", `${t.table} is not a director: it has no index`);
        const integer = keyIsInteger(t);
        const add = this.prepare(
          "INSERT INTO director_index (table_id, key, chunk_id, sub_chunk_id) VALUES (?, ?, ?, ?)",
        );
        let first: number | bigint | null = null;
        let last: number | bigint | null = null;
        for (const e of reg.directorIndex) {
          last = add.run(id, storedKey(e.key, integer), e.chunkId, e.subChunkId).lastInsertRowid;
          first ??= last;
        }
        this.prepare("UPDATE loads SET index_first = ?, index_last = ? WHERE table_id = ? AND load_id = ?").run(
          first,
          last,
          id,
          reg.loadId,
        );
      }
      return toMeta(this.tableRow(t.database, t.table) as TableRow);
    })();
  }

  // ---------------------------------------------------------------- publish journal

  /** Writes a publish's journal entry (a new one, or its next step), durably before returning. */
  writeJournal(e: JournalRow): void {
    this.prepare(
      `INSERT INTO publish_journal (load_id, db, tbl, step, record, opened_at)
         VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
       ON CONFLICT (load_id) DO UPDATE SET step = excluded.step, record = excluded.record`,
    ).run(e.loadId, e.db, e.table, e.step, e.record);
  }

  /** The publishes under way (or left by a czar that died), oldest first. */
  journal(): JournalRow[] {
    return this.prepare(
      "SELECT load_id AS loadId, db, tbl AS 'table', step, record FROM publish_journal ORDER BY opened_at, load_id",
    ).all() as JournalRow[];
  }

  /** The publish is over (in or out): its entry goes. */
  closeJournal(loadId: string): void {
    this.prepare("DELETE FROM publish_journal WHERE load_id = ?").run(loadId);
  }

  // ---------------------------------------------------------------- loads, unload, drop

  /** Recorded loads, oldest first; of one database and table when given. */
  loads(db?: string, table?: string): LoadInfo[] {
    const rows = this.prepare(
      `SELECT l.load_id, t.db, t.name, l.files, l.rows, l.loaded_at FROM loads l JOIN tables t ON t.id = l.table_id
         WHERE (@db IS NULL OR t.db = @db) AND (@table IS NULL OR t.name = @table)
         ORDER BY coalesce(l.loaded_at, ''), t.db, t.name, l.load_id`,
    ).all({ db: db ?? null, table: table ?? null }) as Array<{
      load_id: string;
      db: string;
      name: string;
      files: string | null;
      rows: number;
      loaded_at: string | null;
    }>;
    return rows.map((r) => ({
      loadId: r.load_id,
      database: r.db,
      table: r.name,
      files: r.files === null ? [] : (JSON.parse(r.files) as string[]),
      rows: r.rows,
      loadedAt: r.loaded_at,
      state: r.files === null ? "legacy" : "published",
    }));
  }

  /** The recorded load of that id (any table), or null. */
  load(loadId: string): LoadInfo | null {
    return this.loads().find((l) => l.loadId === loadId) ?? null;
  }

  /** Child tables that follow a director table. */
  childTables(db: string, director: string): string[] {
    return this.tables(db)
      .filter(
        (t) => t.kind === "child" && (t.config.directorTable === director || t.config.directorTable2 === director),
      )
      .map((t) => t.name);
  }

  /**
   * Takes one load out in one transaction: its rows from the table's counts and its chunks', its
   * director index entries; the table itself when it was its last load; placements of chunks
   * left holding nothing. What it removed says where the workers hold its rows.
   */
  unrecordLoad(db: string, table: string, loadId: string): Removed {
    try {
      return this.db.transaction(() => {
        const t = this.tableRow(db, table);
        const l =
          t === null
            ? undefined
            : (this.prepare("SELECT * FROM loads WHERE table_id = ? AND load_id = ?").get(t.id, loadId) as
                | { rows: number; files: string | null; index_first: number | null; index_last: number | null }
                | undefined);
        if (t === null || l === undefined) {
          throw new QservError("NOT_FOUND", `no load ${loadId} of ${db}.${table} is recorded`, { loadId });
        }
        if (l.files === null) {
          throw new QservError(
            "UNSUPPORTED",
            `not supported: unloading ${loadId}, recorded before loads kept their rows per chunk (drop the table instead)`,
          );
        }
        const perChunk = this.prepare(
          "SELECT chunk_id, rows, overlap_rows FROM load_chunks WHERE table_id = ? AND load_id = ?",
        ).all(t.id, loadId) as Array<{ chunk_id: number; rows: number; overlap_rows: number }>;
        const chunks = new Map(perChunk.map((c) => [c.chunk_id, this.replicas(db, c.chunk_id)]));
        const left = this.prepare("SELECT count(*) FROM loads WHERE table_id = ?").pluck().get(t.id) as number;
        if (left === 1) {
          this.deleteTable(t.id);
        } else {
          this.prepare("UPDATE tables SET rows = rows - ? WHERE id = ?").run(l.rows, t.id);
          const sub = this.prepare(
            "UPDATE table_chunks SET rows = rows - ?, overlap_rows = overlap_rows - ? WHERE table_id = ? AND chunk_id = ?",
          );
          for (const c of perChunk) sub.run(c.rows, c.overlap_rows, t.id, c.chunk_id);
          this.prepare("DELETE FROM table_chunks WHERE table_id = ? AND rows = 0 AND overlap_rows = 0").run(t.id);
          if (l.index_first !== null) {
            this.prepare("DELETE FROM director_index WHERE table_id = ? AND rowid BETWEEN ? AND ?").run(
              t.id,
              l.index_first,
              l.index_last,
            );
          }
          this.prepare("DELETE FROM load_chunks WHERE table_id = ? AND load_id = ?").run(t.id, loadId);
          this.prepare("DELETE FROM loads WHERE table_id = ? AND load_id = ?").run(t.id, loadId);
        }
        this.prunePlacements(db);
        return { chunks, rows: l.rows, tableDropped: left === 1 };
      })();
    } finally {
      this.chunksOfTable.clear();
    }
  }

  /** Takes a table out (rows, chunks, loads, director index) in one transaction. */
  dropTable(db: string, table: string): Removed {
    try {
      return this.db.transaction(() => {
        const t = this.tableRow(db, table);
        if (t === null) throw new QservError("NOT_FOUND", `Unknown table '${db}.${table}'`, { database: db, table });
        const ids =
          t.kind === "replicated"
            ? [REPLICATED_CHUNK]
            : (this.prepare("SELECT chunk_id FROM table_chunks WHERE table_id = ?").pluck().all(t.id) as number[]);
        const chunks = new Map(ids.map((c) => [c, this.replicas(db, c)]));
        this.deleteTable(t.id);
        this.prunePlacements(db);
        return { chunks, rows: t.rows, tableDropped: true };
      })();
    } finally {
      this.chunksOfTable.clear();
    }
  }

  /** Takes a database out with all its tables and placements in one transaction. */
  dropDatabase(db: string): Removed {
    try {
      return this.db.transaction(() => {
        if (this.database(db) === null)
          throw new QservError("NOT_FOUND", `Can't drop database '${db}'; database doesn't exist`);
        const chunks = new Map<number, string[]>();
        for (const p of this.placements()) if (p.db === db) chunks.set(p.chunkId, p.workers);
        let rows = 0;
        for (const t of this.prepare("SELECT id, rows FROM tables WHERE db = ?").all(db) as TableRow[]) {
          rows += t.rows;
          this.deleteTable(t.id);
        }
        this.prepare("DELETE FROM replicas WHERE db = ?").run(db);
        this.prepare("DELETE FROM databases WHERE name = ?").run(db);
        return { chunks, rows, tableDropped: true };
      })();
    } finally {
      this.chunksOfTable.clear();
    }
  }

  private deleteTable(id: number): void {
    for (const t of ["director_index", "load_chunks", "loads", "table_chunks"]) {
      this.prepare(`DELETE FROM ${t} WHERE table_id = ?`).run(id);
    }
    this.prepare("DELETE FROM tables WHERE id = ?").run(id);
  }

  /** Placements of chunks no table of the database has rows in any more (and of its replicated tables, once none is left). */
  private prunePlacements(db: string): void {
    this.prepare(
      `DELETE FROM replicas WHERE db = @db AND chunk_id <> ${REPLICATED_CHUNK} AND chunk_id NOT IN (
         SELECT c.chunk_id FROM table_chunks c JOIN tables t ON t.id = c.table_id
           WHERE t.db = @db AND (c.rows > 0 OR c.overlap_rows > 0))`,
    ).run({ db });
    const replicated = this.prepare("SELECT count(*) FROM tables WHERE db = ? AND kind = 'replicated'")
      .pluck()
      .get(db) as number;
    if (replicated === 0) this.prepare(`DELETE FROM replicas WHERE db = ? AND chunk_id = ${REPLICATED_CHUNK}`).run(db);
  }

  /** CONFLICT when the table is registered with a config other than `t`. */
  checkConfig(t: TableConfig): void {
    const held = this.tableRow(t.database, t.table);
    if (held !== null) checkSameConfig(held, t);
  }

  /** The first of `keys` (as the partitioner writes them) the director's index already holds, or null. */
  heldDirectorKey(db: string, directorTable: string, keys: Iterable<IndexEntryText>): string | null {
    const r = this.tableRow(db, directorTable);
    if (r === null) return null;
    const integer = keyIsInteger(JSON.parse(r.config) as TableConfig);
    const stmt = this.prepare("SELECT 1 FROM director_index WHERE table_id = ? AND key = ?").pluck();
    for (const e of keys) if (stmt.get(r.id, storedKey(e.key, integer)) !== undefined) return e.key;
    return null;
  }

  // ---------------------------------------------------------------- chunks and placement

  /** chunk ids holding rows of any partitioned table of the database, ascending */
  chunks(db: string): number[] {
    return this.prepare(
      `SELECT DISTINCT c.chunk_id FROM table_chunks c JOIN tables t ON t.id = c.table_id
         WHERE t.db = ? AND c.rows > 0 ORDER BY c.chunk_id`,
    )
      .pluck()
      .all(db) as number[];
  }

  /** chunk ids where this table has rows, ascending (kept until the next recorded load) */
  tableChunks(db: string, table: string): readonly number[] {
    const key = `${db}\t${table}`;
    let ids = this.chunksOfTable.get(key);
    if (ids === undefined) {
      ids = this.prepare(
        `SELECT c.chunk_id FROM table_chunks c JOIN tables t ON t.id = c.table_id
           WHERE t.db = ? AND t.name = ? AND c.rows > 0 ORDER BY c.chunk_id`,
      )
        .pluck()
        .all(db, table) as number[];
      this.chunksOfTable.set(key, ids);
    }
    return ids;
  }

  /** worker ids holding the chunk (chunkId -1 = the replicated tables), in preference order */
  replicas(db: string, chunkId: number): string[] {
    return [
      ...this.memoised(
        `replicas\0${db}\0${chunkId}`,
        () =>
          this.prepare("SELECT worker_id FROM replicas WHERE db = ? AND chunk_id = ? ORDER BY rank")
            .pluck()
            .all(db, chunkId) as string[],
      ),
    ];
  }

  /** Every placement (chunk -1 = the replicated tables of a database): for status and repair. */
  placements(): Array<{ db: string; chunkId: number; workers: string[] }> {
    const rows = this.prepare(
      "SELECT db, chunk_id, worker_id FROM replicas ORDER BY db, chunk_id, rank",
    ).all() as Array<{ db: string; chunk_id: number; worker_id: string }>;
    const out: Array<{ db: string; chunkId: number; workers: string[] }> = [];
    for (const r of rows) {
      const last = out[out.length - 1];
      if (last !== undefined && last.db === r.db && last.chunkId === r.chunk_id) last.workers.push(r.worker_id);
      else out.push({ db: r.db, chunkId: r.chunk_id, workers: [r.worker_id] });
    }
    return out;
  }

  /** Makes a worker the last replica of a chunk; no-op when it already is a replica. */
  addReplica(db: string, chunkId: number, workerId: string): void {
    this.prepare(
      `INSERT OR IGNORE INTO replicas (db, chunk_id, worker_id, rank)
         SELECT ?, ?, ?, coalesce(max(rank) + 1, 0) FROM replicas WHERE db = ? AND chunk_id = ?`,
    ).run(db, chunkId, workerId, db, chunkId);
  }

  /** Removes a worker from a chunk's replicas; true when it was one. */
  removeReplica(db: string, chunkId: number, workerId: string): boolean {
    return (
      this.prepare("DELETE FROM replicas WHERE db = ? AND chunk_id = ? AND worker_id = ?").run(db, chunkId, workerId)
        .changes > 0
    );
  }

  /** Sets the workers of a chunk, in preference order. */
  private setReplicas(db: string, chunkId: number, workerIds: ReadonlyArray<string>): void {
    this.prepare("DELETE FROM replicas WHERE db = ? AND chunk_id = ?").run(db, chunkId);
    const insert = this.prepare("INSERT INTO replicas (db, chunk_id, worker_id, rank) VALUES (?, ?, ?, ?)");
    workerIds.forEach((w, rank) => {
      insert.run(db, chunkId, w, rank);
    });
  }

  /**
   * The workers of each chunk: a chunk already placed keeps its workers (so that every table of a
   * chunk sits together); new ones, largest first (`rows`: rows of each new chunk), go to the
   * `replicas` workers of `workerIds` holding the fewest rows, then the fewest chunks (ties: the
   * earlier in `workerIds`). Nothing is recorded (see assignChunks).
   */
  planChunks(
    db: string,
    chunkIds: ReadonlyArray<number>,
    workerIds: ReadonlyArray<string>,
    replicas: number,
    rows?: ReadonlyMap<number, number>,
  ): Map<number, string[]> {
    return this.placeChunks(db, chunkIds, workerIds, replicas, false, rows);
  }

  /** planChunks, and the choice for new chunks recorded at once. */
  assignChunks(
    db: string,
    chunkIds: ReadonlyArray<number>,
    workerIds: ReadonlyArray<string>,
    replicas: number,
  ): Map<number, string[]> {
    return this.placeChunks(db, chunkIds, workerIds, replicas, true);
  }

  private placeChunks(
    db: string,
    chunkIds: ReadonlyArray<number>,
    workerIds: ReadonlyArray<string>,
    replicas: number,
    record: boolean,
    rows?: ReadonlyMap<number, number>,
  ): Map<number, string[]> {
    if (replicas < 1 || replicas > workerIds.length) {
      throw new QservError("BAD_ARGUMENT", `cannot place ${replicas} replicas on ${workerIds.length} workers`);
    }
    return this.db.transaction(() => {
      const load = new Map(workerIds.map((w) => [w, { rows: 0, chunks: 0 }]));
      const held = this.prepare(
        `SELECT r.worker_id AS w, count(DISTINCT r.db || ':' || r.chunk_id) AS chunks,
                  coalesce(sum(c.rows + c.overlap_rows), 0) AS rows
           FROM replicas r
           LEFT JOIN tables t ON t.db = r.db
           LEFT JOIN table_chunks c ON c.table_id = t.id AND c.chunk_id = r.chunk_id
           WHERE r.chunk_id <> ${REPLICATED_CHUNK} GROUP BY r.worker_id`,
      ).all() as Array<{ w: string; chunks: number; rows: number }>;
      for (const h of held) if (load.has(h.w)) load.set(h.w, { rows: h.rows, chunks: h.chunks });
      const order = new Map(workerIds.map((w, i) => [w, i]));
      const lighter = (a: string, b: string) => {
        const la = load.get(a) ?? { rows: 0, chunks: 0 };
        const lb = load.get(b) ?? { rows: 0, chunks: 0 };
        return la.rows - lb.rows || la.chunks - lb.chunks || (order.get(a) ?? 0) - (order.get(b) ?? 0);
      };
      const size = (c: number) => rows?.get(c) ?? 0;
      const insert = this.prepare("INSERT INTO replicas (db, chunk_id, worker_id, rank) VALUES (?, ?, ?, ?)");
      const out = new Map<number, string[]>();
      for (const chunkId of [...new Set(chunkIds)].sort((a, b) => size(b) - size(a) || a - b)) {
        const placed = this.replicas(db, chunkId);
        if (placed.length > 0) {
          out.set(chunkId, placed);
          continue;
        }
        const chosen = [...workerIds].sort(lighter).slice(0, replicas);
        chosen.forEach((w, rank) => {
          if (record) insert.run(db, chunkId, w, rank);
          const l = load.get(w) ?? { rows: 0, chunks: 0 };
          load.set(w, { rows: l.rows + size(chunkId), chunks: l.chunks + 1 });
        });
        out.set(chunkId, chosen);
      }
      return out;
    })();
  }

  /**
   * Chunk -1 lists the workers holding every replicated table of the database: the first such
   * table sets it, each later one narrows it to the workers that also hold that table.
   */
  private placeReplicated(db: string, tableId: number, workerIds: ReadonlyArray<string>): void {
    const others = this.prepare("SELECT count(*) FROM tables WHERE db = ? AND kind = 'replicated' AND id <> ?")
      .pluck()
      .get(db, tableId) as number;
    const held = this.replicas(db, REPLICATED_CHUNK);
    const keep = others === 0 ? [...workerIds] : held.filter((w) => workerIds.includes(w));
    this.prepare("DELETE FROM replicas WHERE db = ? AND chunk_id = ?").run(db, REPLICATED_CHUNK);
    const insert = this.prepare("INSERT INTO replicas (db, chunk_id, worker_id, rank) VALUES (?, ?, ?, ?)");
    keep.forEach((w, rank) => {
      insert.run(db, REPLICATED_CHUNK, w, rank);
    });
  }

  // ---------------------------------------------------------------- director index

  /** director index: chunks holding the given director keys (integers as bigint/number, or strings) */
  lookupKeys(db: string, directorTable: string, keys: ReadonlyArray<bigint | number | string>): number[] {
    const chunks = new Set<number>();
    for (const ids of this.keyChunks(db, directorTable, keys)) for (const c of ids) chunks.add(c);
    return [...chunks].sort((a, b) => a - b);
  }

  /** director index: the chunks holding each key, in the keys' order (none for a key not held) */
  keyChunks(db: string, directorTable: string, keys: ReadonlyArray<bigint | number | string>): number[][] {
    const d = this.director(db, directorTable);
    const stmt = this.prepare("SELECT DISTINCT chunk_id FROM director_index WHERE table_id = ? AND key = ?").pluck();
    return keys.map((k) => {
      const v = lookupValue(k, d.integer);
      return v === null ? [] : (stmt.all(d.id, v) as number[]);
    });
  }

  /** director index: chunks holding keys in a range; null bound = unbounded */
  lookupRange(
    db: string,
    directorTable: string,
    lo: bigint | number | null,
    loInclusive: boolean,
    hi: bigint | number | null,
    hiInclusive: boolean,
  ): number[] {
    const d = this.director(db, directorTable);
    if (!d.integer) {
      throw new QservError(
        "UNSUPPORTED",
        `range lookup in the index of ${db}.${directorTable}: its key is not an integer`,
      );
    }
    const where = ["table_id = ?"];
    const params: Array<number | bigint | string> = [d.id];
    if (lo !== null) {
      where.push(`key ${loInclusive ? ">=" : ">"} ?`);
      params.push(boundValue(lo));
    }
    if (hi !== null) {
      where.push(`key ${hiInclusive ? "<=" : "<"} ?`);
      params.push(boundValue(hi));
    } else {
      // Numbers sort before text in SQLite: this keeps non-numeric keys out of an open range.
      where.push("key < ''");
    }
    return this.prepare(`SELECT DISTINCT chunk_id FROM director_index WHERE ${where.join(" AND ")} ORDER BY chunk_id`)
      .pluck()
      .all(...params) as number[];
  }

  /** Every entry of a director's index (64-bit keys exact), e.g. to place the rows of its children. */
  *directorEntries(db: string, directorTable: string): IterableIterator<IndexEntry> {
    const d = this.director(db, directorTable);
    // Its own statement: a cached one would be busy if two iterations overlapped.
    const stmt = this.db
      .prepare("SELECT key, chunk_id, sub_chunk_id FROM director_index WHERE table_id = ?")
      .raw(true)
      .safeIntegers(true);
    for (const r of stmt.iterate(d.id) as IterableIterator<[bigint | string, bigint, bigint]>) {
      yield { key: r[0], chunkId: Number(r[1]), subChunkId: Number(r[2]) };
    }
  }

  // ---------------------------------------------------------------- replication

  /** Per chunk, the rows each partitioned table has in it (overlap-only chunks included): what a replica holds. */
  chunkContents(db: string): Map<number, Array<{ table: string; rows: number; overlapRows: number }>> {
    const rows = this.prepare(
      `SELECT c.chunk_id, t.name, c.rows, c.overlap_rows FROM table_chunks c JOIN tables t ON t.id = c.table_id
         WHERE t.db = ? AND (c.rows > 0 OR c.overlap_rows > 0) ORDER BY c.chunk_id, t.name`,
    )
      .raw(true)
      .all(db) as Array<[number, string, number, number]>;
    const out = new Map<number, Array<{ table: string; rows: number; overlapRows: number }>>();
    for (const [chunkId, table, n, overlapRows] of rows) {
      let list = out.get(chunkId);
      if (list === undefined) {
        list = [];
        out.set(chunkId, list);
      }
      list.push({ table, rows: n, overlapRows });
    }
    return out;
  }

  /** Per chunk of `db`, per table: the stages (`stageOfLoad`) of the loads that put rows there, sorted. */
  loadStages(db: string): StagesByChunk {
    const loads = this.prepare(
      `SELECT l.chunk_id, t.name, l.load_id FROM load_chunks l JOIN tables t ON t.id = l.table_id
         WHERE t.db = ? AND (l.rows > 0 OR l.overlap_rows > 0) ORDER BY l.chunk_id`,
    )
      .raw(true)
      .all(db) as Array<[number, string, string]>;
    const out: StagesByChunk = new Map();
    for (const [chunkId, table, loadId] of loads) addStage(out, chunkId, table, stageOfLoad(loadId));
    for (const byTable of out.values()) for (const list of byTable.values()) list.sort();
    return out;
  }

  private tableRow(db: string, name: string): TableRow | null {
    return (this.prepare("SELECT * FROM tables WHERE db = ? AND name = ?").get(db, name) as TableRow) ?? null;
  }

  private director(db: string, name: string): DirectorRef {
    return this.memoised(`director\0${db}\0${name}`, () => {
      const r = this.tableRow(db, name);
      if (r === null || r.kind !== "director") {
        throw new QservError("NOT_FOUND", `${db}.${name} is not a registered director table`, {
          database: db,
          table: name,
        });
      }
      return { id: r.id, integer: keyIsInteger(JSON.parse(r.config) as TableConfig) };
    });
  }
}

/** An append must bring the table's own config: the rows must fit the table they join. */
function checkSameConfig(held: TableRow, t: TableConfig): void {
  if (held.config === JSON.stringify(t)) return;
  const was = JSON.parse(held.config) as Record<string, unknown>;
  const now = t as unknown as Record<string, unknown>;
  const differ = [...new Set([...Object.keys(was), ...Object.keys(now)])].filter(
    (k) => JSON.stringify(was[k]) !== JSON.stringify(now[k]),
  );
  throw new QservError(
    "CONFLICT",
    `table ${t.database}.${t.table} exists with another config (${differ.join(", ")} differ): ` +
      "a load into an existing table must use the table's config",
    { database: t.database, table: t.table },
  );
}

function keyIsInteger(t: TableConfig): boolean {
  const col = t.schema.find((c) => c.name === t.directorKey);
  return col !== undefined && sqliteType(col.type) === "INTEGER";
}

/** A key as stored: integer text of an integer key column as a 64-bit integer, anything else as text. */
function storedKey(text: string, integer: boolean): bigint | string {
  if (!integer || !INT_TEXT.test(text)) return text;
  return int64(text) ?? text;
}

/** A lookup key as it compares with the stored keys (numeric text as a number), or null when it can match none. */
function lookupValue(k: bigint | number | string, integer: boolean): bigint | number | string | null {
  if (!integer) return typeof k === "string" ? k : String(k);
  if (typeof k === "bigint") return k >= INT64_MIN && k <= INT64_MAX ? k : null;
  if (typeof k === "number") return Number.isSafeInteger(k) ? BigInt(k) : Number.isFinite(k) ? k : null;
  const t = k.trim();
  if (INT_TEXT.test(t)) return int64(t) ?? t;
  const n = Number(t);
  return t !== "" && Number.isFinite(n) ? n : t;
}

/** A range bound: integers as 64-bit integers, anything outside int64 as a double (compares correctly). */
function boundValue(v: bigint | number): bigint | number {
  if (typeof v === "bigint") return v >= INT64_MIN && v <= INT64_MAX ? v : Number(v);
  return Number.isSafeInteger(v) ? BigInt(v) : v;
}
