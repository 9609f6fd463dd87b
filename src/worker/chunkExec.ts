/**
 * Running one SELECT on a chunk file with better-sqlite3 (which blocks): the executor threads'
 * core (queryThread.ts), also used on the main thread for index-seek-sized queries
 * (inlineQuery.ts). Rows are gathered by the aggregate _mq_rows, which SQLite calls once per row
 * without building a JS row object, encoded, and handed on in batches; after each batch
 * `afterBatch` may wait for room (a thread waits for a credit) or throw `Cancelled`.
 */
import Database from "better-sqlite3";
import { RowEncoder } from "../common/rowCodec.js";
import { registerMysqlCompat } from "../sqlite/mysqlCompat.js";
import { registerScisql } from "../sqlite/scisql.js";
import { quoteIdent } from "../sqlite/types.js";
import { createTableSql, snapshotBoundsSql, tableNames } from "./layout.js";
import type { ColumnDef } from "./messages.js";
import type { FromQueryThread, JobTable, QueryJob } from "./threadMessages.js";

const SUBCHUNK = "{SUBCHUNK}";

export class Cancelled extends Error {}

/** Where an executor's messages go, and how it waits for room after a batch. */
export interface ExecHooks {
  post(m: FromQueryThread, transfer?: ArrayBuffer[]): void;
  /** After each batch: returns once another may be made; throws Cancelled when the job is cancelled. */
  afterBatch(job: number): void;
  cancelled(job: number): boolean;
}

/**
 * Whether a prepared statement may run here (`details`: its EXPLAIN QUERY PLAN, made when asked
 * for): false sends the job elsewhere, before any row is made.
 */
export type PlanGate = (details: () => readonly string[]) => boolean;

/** Where _mq_rows puts the rows of the running job. */
class Sink {
  private readonly enc: RowEncoder;
  rows = 0;
  bytes = 0;

  constructor(
    private readonly job: QueryJob,
    private readonly hooks: ExecHooks,
  ) {
    // Small at first (most chunk answers are a row or a few); grows towards maxBytes.
    this.enc = new RowEncoder(Math.min(job.maxBytes + 1024, 64 * 1024));
  }

  row(values: unknown[]): void {
    if (this.hooks.cancelled(this.job.job)) throw new Cancelled();
    this.enc.append(values);
    if (this.enc.rows >= this.job.maxRows || this.enc.bytes >= this.job.maxBytes) this.flush();
  }

  flush(): void {
    if (this.enc.rows === 0) return;
    const rows = this.enc.rows;
    const buf = this.enc.take();
    this.rows += rows;
    this.bytes += buf.length;
    const data = buf.buffer as ArrayBuffer;
    this.hooks.post({ t: "batch", job: this.job.job, rows, data, offset: buf.byteOffset, length: buf.length }, [data]);
    this.hooks.afterBatch(this.job.job);
  }
}

interface Conn {
  file: string;
  db: Database.Database;
  attached: string | null;
  /** snapshotBoundsSql per schema, prepared once (absent while the file predates snapshots). */
  bounds: Map<string, Database.Statement>;
}

/** A statement, its columns, and its rows wrapped for _mq_rows. */
interface Prepared {
  columns: Array<{ name: string; declType: string }>;
  wrapped: Database.Statement;
  /** Its EXPLAIN QUERY PLAN details, once a gate asked. */
  plan?: string[];
}

/**
 * Prepared statements are kept (a repeated query skips parsing and planning) up to this many
 * bytes of SQL text over all of an executor's connections, least recently used dropped first: a
 * compiled statement's memory grows with its text (a long IN list compiles to code per value).
 */
const STATEMENT_CACHE_BYTES = 4 << 20;
/**
 * A statement with more text than this (a long literal list) is not kept, and its connection is
 * closed after the job: better-sqlite3 frees a statement only when the garbage collector takes
 * its object, which it may not do for long (it does not see the native memory), or when its
 * database is closed.
 */
const MAX_KEPT_STATEMENT = 64 << 10;

/** Rows of a table published after a snapshot: from which rowid on (0: all of them). */
interface SnapshotBound {
  table_name: string;
  rows_from: number | null;
  overlap_from: number | null;
  columns: string;
}

/** The statement wrapped so that _mq_rows sees every row, columns renamed by position. */
function wrapped(sql: string, ncols: number): string {
  const cols = Array.from({ length: ncols }, (_, i) => `c${i}`).join(", ");
  return `WITH _mq_q(${cols}) AS (${sql}\n) SELECT _mq_rows(${cols}) FROM _mq_q`;
}

/** Runs jobs one at a time, keeping chunk connections (LRU, at most `maxConnections`) and statements. */
export class ChunkExecutor {
  private sink: Sink | null = null;
  /** Kept statements by file and text, in LRU order. */
  private readonly statements = new Map<string, { file: string; prepared: Prepared; bytes: number }>();
  private statementBytes = 0;
  private readonly conns = new Map<string, Conn>();

  constructor(
    private readonly maxConnections: number,
    private readonly hooks: ExecHooks,
  ) {}

  private dropStatement(key: string): void {
    const s = this.statements.get(key);
    if (s === undefined) return;
    this.statements.delete(key);
    this.statementBytes -= s.bytes;
  }

  /** Closes a connection, with the statements kept for it. */
  private closeConn(c: Conn): void {
    for (const [key, s] of this.statements) if (s.file === c.file) this.dropStatement(key);
    c.db.close();
    this.conns.delete(c.file);
  }

  private connection(file: string): Conn {
    const held = this.conns.get(file);
    if (held !== undefined) {
      this.conns.delete(file); // re-inserted below: Map order is the LRU order
      this.conns.set(file, held);
      return held;
    }
    const db = new Database(file, { fileMustExist: true });
    db.pragma("temp_store = memory");
    db.pragma("mmap_size = 268435456");
    db.pragma("cache_size = -65536");
    registerScisql(db);
    registerMysqlCompat(db);
    db.aggregate("_mq_rows", {
      varargs: true,
      safeIntegers: true,
      start: 0,
      step: (n: number, ...values: unknown[]) => {
        this.sink!.row(values);
        return n + 1;
      },
    });
    const conn: Conn = { file, db, attached: null, bounds: new Map() };
    this.conns.set(file, conn);
    if (this.conns.size > this.maxConnections) this.closeConn(this.conns.values().next().value as Conn);
    return conn;
  }

  /** Closes the connections to `file` (dropped or replaced), or that attach it. */
  closeFile(file: string): void {
    for (const c of [...this.conns.values()]) if (c.file === file || c.attached === file) this.closeConn(c);
  }

  /** Empty stand-ins for tables this chunk lacks, and sub-chunk views; returns their drops. */
  private tempObjects(db: Database.Database, job: QueryJob, tables: JobTable[], subChunk: number | null): string[] {
    const drops: string[] = [];
    for (const t of tables) {
      const names = tableNames(t.name, job.chunkId);
      for (const base of [names.rows, names.overlap as string]) {
        if (subChunk === null) {
          db.exec(createTableSql(base, t.columns, true));
          drops.push(`DROP TABLE IF EXISTS temp.${quoteIdent(base)}`);
        } else {
          const view = `${base}_${subChunk}`;
          db.exec(
            `CREATE TEMP VIEW IF NOT EXISTS ${quoteIdent(view)} AS SELECT * FROM ${quoteIdent(base)} WHERE subChunkId = ${subChunk}`,
          );
          drops.push(`DROP VIEW IF EXISTS temp.${quoteIdent(view)}`);
        }
      }
    }
    return drops;
  }

  private boundsOf(conn: Conn, schema: string, seq: number): SnapshotBound[] {
    let stmt = conn.bounds.get(schema);
    if (stmt === undefined) {
      try {
        stmt = conn.db.prepare(snapshotBoundsSql(schema));
      } catch {
        return []; // a file written before snapshots (no _mq_stages.seq): every row predates them
      }
      conn.bounds.set(schema, stmt);
    }
    return stmt.all(seq) as SnapshotBound[];
  }

  /**
   * Inside the job's read transaction: every table of the chunk (and of the attached replicated
   * file) that holds rows published after the job's snapshot is shadowed by a temp view of the rows
   * before them, or by an empty stand-in when the table itself came later. Returns their drops.
   */
  private snapshotObjects(conn: Conn, job: QueryJob, drops: string[]): void {
    const schemas: Array<[string, number]> = [["main", job.chunkId]];
    if (conn.attached !== null && job.attach !== null) schemas.push(["rep", -1]);
    for (const [schema, chunkId] of schemas) {
      for (const b of this.boundsOf(conn, schema, job.snapshotSeq)) {
        const names = tableNames(b.table_name, chunkId);
        for (const [name, from] of [
          [names.rows, b.rows_from],
          [names.overlap, b.overlap_from],
        ] as const) {
          if (name === null || from === null) continue;
          // The drop is noted first: whatever fails next, nothing outlives the job.
          if (from === 0) {
            drops.push(`DROP TABLE IF EXISTS temp.${quoteIdent(name)}`);
            conn.db.exec(createTableSql(name, JSON.parse(b.columns) as ColumnDef[], true));
          } else {
            drops.push(`DROP VIEW IF EXISTS temp.${quoteIdent(name)}`);
            conn.db.exec(
              `CREATE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM ${schema}.${quoteIdent(name)} WHERE rowid < ${from}`,
            );
          }
        }
      }
    }
  }

  private dropAll(db: Database.Database, drops: string[]): void {
    for (const d of drops) {
      try {
        db.exec(d);
      } catch {
        // the connection is unusable: closed, so that the next job opens a fresh one
        const c = [...this.conns.values()].find((x) => x.db === db);
        if (c !== undefined) this.closeConn(c);
        return;
      }
    }
  }

  /** The statement of `text`, from the cache (and kept there when `keep` and short enough). */
  private prepare(conn: Conn, text: string, keep: boolean): Prepared {
    const key = `${conn.file}\0${text}`;
    const held = this.statements.get(key);
    if (held !== undefined) {
      this.statements.delete(key); // re-inserted below: Map order is the LRU order
      this.statements.set(key, held);
      return held.prepared;
    }
    const stmt = conn.db.prepare(text);
    if (!stmt.reader) throw new Error("only SELECT statements run on a worker");
    const cols = stmt.columns();
    const p: Prepared = {
      columns: cols.map((c) => ({ name: c.name, declType: c.type ?? "" })),
      wrapped: conn.db.prepare(wrapped(text, cols.length)),
    };
    if (!keep || text.length > MAX_KEPT_STATEMENT) return p;
    this.statements.set(key, { file: conn.file, prepared: p, bytes: key.length });
    this.statementBytes += key.length;
    while (this.statementBytes > STATEMENT_CACHE_BYTES)
      this.dropStatement(this.statements.keys().next().value as string);
    return p;
  }

  /**
   * The job's sub-chunk passes as one statement, when every `{SUBCHUNK}` of its text is in a
   * sub-chunk table's name: each `"T_c_{SUBCHUNK}"` becomes the subquery of T_c's rows with
   * subChunkId = @mqSubChunk, so that one statement, prepared once (and kept), runs every pass with the
   * sub-chunk bound — no view made and dropped, nor statement prepared, per pass. Null: it is not.
   */
  private sharedPasses(job: QueryJob, sql: string): string | null {
    const total = sql.split(SUBCHUNK).length - 1;
    let covered = 0;
    let text = sql;
    for (const t of job.tables) {
      const names = tableNames(t.name, job.chunkId);
      for (const base of [names.rows, names.overlap]) {
        if (base === null) continue;
        const named = quoteIdent(`${base}_${SUBCHUNK}`);
        covered += sql.split(named).length - 1;
        text = text.replaceAll(named, `(SELECT * FROM ${quoteIdent(base)} WHERE subChunkId = @mqSubChunk)`);
      }
    }
    return total > 0 && covered === total ? text : null;
  }

  /** Runs the job's statement (per sub-chunk pass); false when `gate` refused it (nothing was sent). */
  private execute(job: QueryJob, conn: Conn, current: Sink, keep: boolean, gate?: PlanGate): boolean {
    const { db } = conn;
    const sql = job.sql.replace(/[\s;]+$/, "");
    const shared = job.subChunkIds.length > 0 && gate === undefined ? this.sharedPasses(job, sql) : null;
    if (shared !== null) {
      const stmt = this.prepare(conn, shared, keep);
      this.hooks.post({ t: "header", job: job.job, columns: stmt.columns });
      for (const s of job.subChunkIds) stmt.wrapped.get({ mqSubChunk: s });
      current.flush();
      return true;
    }
    const passes = job.subChunkIds.length > 0 ? job.subChunkIds : [null];
    let headerSent = false;
    for (const s of passes) {
      const views = s === null ? [] : this.tempObjects(db, job, job.tables, s);
      try {
        // Sub-chunk passes are not kept: their views come and go with the pass; nor are statements
        // over snapshot views.
        const text = s === null ? sql : sql.replaceAll(SUBCHUNK, String(s));
        const stmt = this.prepare(conn, text, s === null && keep);
        if (gate !== undefined) {
          const details = () =>
            (stmt.plan ??= (db.prepare(`EXPLAIN QUERY PLAN ${text}`).all() as Array<{ detail: string }>).map(
              (r) => r.detail,
            ));
          if (!gate(details)) return false;
        }
        if (!headerSent) {
          this.hooks.post({ t: "header", job: job.job, columns: stmt.columns });
          headerSent = true;
        }
        stmt.wrapped.get();
      } finally {
        this.dropAll(db, views);
      }
    }
    current.flush();
    return true;
  }

  /**
   * Runs one job to its end: its messages (header, batches, then done or error) go to the hooks.
   * With a `gate`, a statement it refuses is not run: false, and no message was sent.
   */
  run(job: QueryJob, gate?: PlanGate): boolean {
    const t0 = performance.now();
    const current = new Sink(job, this.hooks);
    const standIns: string[] = [];
    let db: Database.Database | null = null;
    try {
      const conn = this.connection(job.file);
      db = conn.db;
      if (job.attach !== null && conn.attached !== job.attach) {
        db.prepare("ATTACH DATABASE ? AS rep").run(job.attach);
        conn.attached = job.attach;
      }
      // One read transaction: the snapshot's bounds and the rows are read from the same version
      // of the files, whatever a publish does meanwhile.
      if (job.snapshotSeq > 0) {
        db.exec("BEGIN");
        this.snapshotObjects(conn, job, standIns);
      }
      const snapshotViews = standIns.length;
      standIns.push(
        ...this.tempObjects(
          db,
          job,
          job.tables.filter((t) => !t.present),
          null,
        ),
      );
      this.sink = current;
      if (!this.execute(job, conn, current, snapshotViews === 0, gate)) return false;
      // Its statements too long to keep are freed with it (see MAX_KEPT_STATEMENT).
      if (job.sql.length > MAX_KEPT_STATEMENT) {
        this.closeConn(conn); // temp objects and the read transaction go with it
        db = null;
      }
      this.hooks.post({
        t: "done",
        job: job.job,
        rows: current.rows,
        bytes: current.bytes,
        execMs: performance.now() - t0,
      });
    } catch (e) {
      // With a gate (inline, messages held until it returns), an error is the pool's to report.
      if (gate !== undefined) return false;
      if (e instanceof Cancelled)
        this.hooks.post({ t: "error", job: job.job, code: "CANCELLED", message: "query cancelled" });
      else
        this.hooks.post({
          t: "error",
          job: job.job,
          code: "SQL_ERROR",
          message: e instanceof Error ? e.message : String(e),
        });
    } finally {
      this.sink = null;
      if (db !== null) {
        this.dropAll(db, standIns);
        try {
          if (db.open && db.inTransaction) db.exec("COMMIT");
        } catch {
          const c = [...this.conns.values()].find((x) => x.db === db);
          if (c !== undefined) this.closeConn(c);
        }
      }
    }
    return true;
  }
}
