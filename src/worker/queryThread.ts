/**
 * A query executor thread: runs one SELECT at a time on a chunk file with better-sqlite3 (which
 * blocks), so the main thread's event loop stays free. Rows are gathered by the aggregate
 * _mq_rows, which SQLite calls once per row without building a JS row object, encoded, and
 * posted in batches; after each batch the thread waits for a credit from the main thread, which
 * grants one when gRPC has taken the previous batch (backpressure). The main thread cancels by
 * writing the job number to the shared control array; the next row or wait sees it.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { RowEncoder } from "../common/rowCodec.js";
import { registerMysqlCompat } from "../sqlite/mysqlCompat.js";
import { registerScisql } from "../sqlite/scisql.js";
import { quoteIdent } from "../sqlite/types.js";
import { createTableSql, snapshotBoundsSql, tableNames } from "./layout.js";
import type { ColumnDef } from "./messages.js";
import {
  CTRL_CANCEL,
  CTRL_CREDITS,
  type FromQueryThread,
  type JobTable,
  type QueryJob,
  type ToQueryThread,
} from "./threadMessages.js";

const port = parentPort!;
const ctrl = new Int32Array(workerData.ctrl as SharedArrayBuffer);
/** Chunk connections kept open, least recently used closed first (queryPool.connectionsPerThread). */
const MAX_CONNECTIONS = workerData.maxConnections as number;
const SUBCHUNK = "{SUBCHUNK}";

class Cancelled extends Error {}

function post(m: FromQueryThread, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

/** Where _mq_rows puts the rows of the running job. */
class Sink {
  private readonly enc: RowEncoder;
  rows = 0;
  bytes = 0;

  constructor(
    private readonly job: QueryJob,
    private readonly cancelled: () => boolean,
  ) {
    // Small at first (most chunk answers are a row or a few); grows towards maxBytes.
    this.enc = new RowEncoder(Math.min(job.maxBytes + 1024, 64 * 1024));
  }

  row(values: unknown[]): void {
    if (this.cancelled()) throw new Cancelled();
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
    post({ t: "batch", job: this.job.job, rows, data, offset: buf.byteOffset, length: buf.length }, [data]);
    Atomics.sub(ctrl, CTRL_CREDITS, 1);
    for (;;) {
      const credits = Atomics.load(ctrl, CTRL_CREDITS);
      if (credits > 0) return;
      if (this.cancelled()) throw new Cancelled();
      Atomics.wait(ctrl, CTRL_CREDITS, credits, 100);
    }
  }
}

let sink: Sink | null = null;

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
}

/**
 * Prepared statements are kept (a repeated query skips parsing and planning) up to this many
 * bytes of SQL text over all of a thread's connections, least recently used dropped first: a
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

/** Kept statements by file and text, in LRU order. */
const statements = new Map<string, { file: string; prepared: Prepared; bytes: number }>();
let statementBytes = 0;

function dropStatement(key: string): void {
  const s = statements.get(key);
  if (s === undefined) return;
  statements.delete(key);
  statementBytes -= s.bytes;
}

const conns = new Map<string, Conn>();

/** Closes a connection, with the statements kept for it. */
function closeConn(c: Conn): void {
  for (const [key, s] of statements) if (s.file === c.file) dropStatement(key);
  c.db.close();
  conns.delete(c.file);
}

function connection(file: string): Conn {
  const held = conns.get(file);
  if (held !== undefined) {
    conns.delete(file); // re-inserted below: Map order is the LRU order
    conns.set(file, held);
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
      sink!.row(values);
      return n + 1;
    },
  });
  const conn: Conn = { file, db, attached: null, bounds: new Map() };
  conns.set(file, conn);
  if (conns.size > MAX_CONNECTIONS) closeConn(conns.values().next().value as Conn);
  return conn;
}

function closeFile(file: string): void {
  for (const c of [...conns.values()]) if (c.file === file || c.attached === file) closeConn(c);
}

/** Empty stand-ins for tables this chunk lacks, and sub-chunk views; returns their drops. */
function tempObjects(db: Database.Database, job: QueryJob, tables: JobTable[], subChunk: number | null): string[] {
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

/** Rows of a table published after a snapshot: from which rowid on (0: all of them). */
interface SnapshotBound {
  table_name: string;
  rows_from: number | null;
  overlap_from: number | null;
  columns: string;
}

function boundsOf(conn: Conn, schema: string, seq: number): SnapshotBound[] {
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
function snapshotObjects(conn: Conn, job: QueryJob, drops: string[]): void {
  const schemas: Array<[string, number]> = [["main", job.chunkId]];
  if (conn.attached !== null && job.attach !== null) schemas.push(["rep", -1]);
  for (const [schema, chunkId] of schemas) {
    for (const b of boundsOf(conn, schema, job.snapshotSeq)) {
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

function dropAll(db: Database.Database, drops: string[]): void {
  for (const d of drops) {
    try {
      db.exec(d);
    } catch {
      // the connection is unusable: closed, so that the next job opens a fresh one
      const c = [...conns.values()].find((x) => x.db === db);
      if (c !== undefined) closeConn(c);
      return;
    }
  }
}

/** The statement wrapped so that _mq_rows sees every row, columns renamed by position. */
function wrapped(sql: string, ncols: number): string {
  const cols = Array.from({ length: ncols }, (_, i) => `c${i}`).join(", ");
  return `WITH _mq_q(${cols}) AS (${sql}\n) SELECT _mq_rows(${cols}) FROM _mq_q`;
}

/** The statement of `text`, from the thread's cache (and kept there when `keep` and short enough). */
function prepare(conn: Conn, text: string, keep: boolean): Prepared {
  const key = `${conn.file}\0${text}`;
  const held = statements.get(key);
  if (held !== undefined) {
    statements.delete(key); // re-inserted below: Map order is the LRU order
    statements.set(key, held);
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
  statements.set(key, { file: conn.file, prepared: p, bytes: key.length });
  statementBytes += key.length;
  while (statementBytes > STATEMENT_CACHE_BYTES) dropStatement(statements.keys().next().value as string);
  return p;
}

function execute(job: QueryJob, conn: Conn, current: Sink, keep: boolean): void {
  const { db } = conn;
  const sql = job.sql.replace(/[\s;]+$/, "");
  const passes = job.subChunkIds.length > 0 ? job.subChunkIds : [null];
  let headerSent = false;
  for (const s of passes) {
    const views = s === null ? [] : tempObjects(db, job, job.tables, s);
    try {
      // Sub-chunk passes are not kept: their views come and go with the pass; nor are statements
      // over snapshot views.
      const text = s === null ? sql : sql.replaceAll(SUBCHUNK, String(s));
      const stmt = prepare(conn, text, s === null && keep);
      if (!headerSent) {
        post({ t: "header", job: job.job, columns: stmt.columns });
        headerSent = true;
      }
      stmt.wrapped.get();
    } finally {
      dropAll(db, views);
    }
  }
  current.flush();
}

function run(job: QueryJob): void {
  const t0 = performance.now();
  const current = new Sink(job, () => Atomics.load(ctrl, CTRL_CANCEL) === job.job);
  const standIns: string[] = [];
  let db: Database.Database | null = null;
  try {
    const conn = connection(job.file);
    db = conn.db;
    if (job.attach !== null && conn.attached !== job.attach) {
      db.prepare("ATTACH DATABASE ? AS rep").run(job.attach);
      conn.attached = job.attach;
    }
    // One read transaction: the snapshot's bounds and the rows are read from the same version
    // of the files, whatever a publish does meanwhile.
    if (job.snapshotSeq > 0) {
      db.exec("BEGIN");
      snapshotObjects(conn, job, standIns);
    }
    const snapshotViews = standIns.length;
    standIns.push(
      ...tempObjects(
        db,
        job,
        job.tables.filter((t) => !t.present),
        null,
      ),
    );
    sink = current;
    execute(job, conn, current, snapshotViews === 0);
    // Its statements too long to keep are freed with it (see MAX_KEPT_STATEMENT).
    if (job.sql.length > MAX_KEPT_STATEMENT) {
      closeConn(conn); // temp objects and the read transaction go with it
      db = null;
    }
    post({ t: "done", job: job.job, rows: current.rows, bytes: current.bytes, execMs: performance.now() - t0 });
  } catch (e) {
    if (e instanceof Cancelled) post({ t: "error", job: job.job, code: "CANCELLED", message: "query cancelled" });
    else post({ t: "error", job: job.job, code: "SQL_ERROR", message: e instanceof Error ? e.message : String(e) });
  } finally {
    sink = null;
    if (db !== null) {
      dropAll(db, standIns);
      try {
        if (db.open && db.inTransaction) db.exec("COMMIT");
      } catch {
        const c = [...conns.values()].find((x) => x.db === db);
        if (c !== undefined) closeConn(c);
      }
    }
  }
}

port.on("message", (m: ToQueryThread) => {
  if (m.t === "query") run(m);
  else closeFile(m.file);
});
