/** The czar's query engine: statement in, answer out (parse → plan → dispatch → merge). */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { isQservError, QservError } from "../common/errors.js";
import { type ColumnType, valueType } from "../common/jsonValue.js";
import type { Value } from "../common/rowCodec.js";
import type { CzarCatalog } from "./catalog.js";
import { isComposite, runQuery } from "./compose/compose.js";
import type { DatabaseLocks } from "./databaseLocks.js";
import type { WorkerDirectory } from "./exec/dispatch.js";
import { executePlan } from "./exec/execute.js";
import { scratchDb, selectRows } from "./exec/scratch.js";
import { Spool, SpoolBudget } from "./exec/spool.js";
import { type InFlight, watchLoop } from "./loopWatch.js";
import { PlanCache } from "./plan/planCache.js";
import { namesTableColumn, type Plan, planSelect, scanOrder } from "./plan/planner.js";
import { type Planned, PlanPool, planOffLoop } from "./plan/planPool.js";
import type { UploadTable } from "./plan/uploads.js";
import { type Listing, showColumns, showDatabases, showTables } from "./show.js";
import { itemName, type Query, type Select, type SetStmt, type Statement } from "./sql/ast.js";
import { DEFAULT_MAX_QUERY_BYTES } from "./sql/limits.js";
import { parseStatement } from "./sql/parser.js";
import { printMysql } from "./sql/printer.js";
import { type MysqlType, mysqlType } from "./sql/resultTypes.js";
import { printSqliteExpr } from "./sql/sqlitePrinter.js";
import { mapExpr } from "./sql/walk.js";
import { DEFAULT_NET_WRITE_TIMEOUT_S } from "./writeWithin.js";

export interface ResultColumnInfo {
  name: string;
  type: ColumnType;
  /** The type MySQL gives the item, where the planner derived it (MySQL clients are told this one). */
  mysql?: MysqlType | null;
}

export interface QueryStats {
  chunks: number;
  retries: number;
  elapsedMs: number;
}

export interface QueryAnswer {
  columns: ResultColumnInfo[];
  rows: Value[][];
  stats: QueryStats;
  /** The rows went to the ResultSink as they came (rows is empty). */
  streamed?: boolean;
}

/**
 * Takes a result as it is produced: the header once, before any rows, then batches of rows.
 * Used by `execute` for results that need no merge; others come whole in the answer.
 */
export interface ResultSink {
  header(columns: ResultColumnInfo[]): Promise<void>;
  rows(rows: Value[][]): Promise<void>;
}

/** Per-connection state (the HTTP API has one per request). */
export interface Session {
  /** A connection's id (MySQL front end): its queries run under it, so `KILL QUERY id` finds them. */
  id?: number;
  database: string | null;
  user?: string;
  /**
   * An authenticated user without the admin role: SHOW PROCESSLIST shows, and KILL stops, only
   * this user's own queries. Absent (no users configured, or an admin): every query.
   */
  ownQueriesOnly?: boolean;
  /** An authenticated reader: statements that change data (DROP) are FORBIDDEN. */
  readOnly?: boolean;
  /** Time limit of this session's queries (ms, 0 = none); default: the czar's queryTimeoutMs. */
  timeoutMs?: number;
  /** `SET net_write_timeout`: seconds a client may take nothing before it is let go. */
  netWriteTimeoutS?: number;
  /** The client's address ("127.0.0.1:54321"), as SHOW PROCESSLIST's Host shows it. */
  host?: string;
  /** When the connection last started a command (ms since the epoch): Time of a Sleep row. */
  activeAt?: number;
  /** Tables the request uploaded (TAP UPLOAD), queried as TAP_UPLOAD.name. */
  uploads?: readonly UploadTable[];
}

export interface CzarOptions {
  catalog: CzarCatalog;
  directory: WorkerDirectory;
  /** Chunk jobs in flight per query. */
  concurrency?: number;
  attemptTimeoutMs?: number;
  maxAttempts?: number;
  /** A chunk call silent this long (ms) is hedged on another replica (default 1000; 0: never). */
  hedgeAfterMs?: number;
  maxResultBytes?: number;
  /** Largest query text in bytes (default 16 MiB): longer ones are refused with TOO_LARGE. */
  maxQueryBytes?: number;
  /** A query's time limit (0: none). */
  queryTimeoutMs?: number;
  /** Seconds a client may read nothing of a result before it is let go (default 60, as MySQL's net_write_timeout). */
  netWriteTimeoutS?: number;
  /** Queries hold their database shared while dispatching, so that a table load is published between them. */
  locks?: DatabaseLocks;
  /** Where rows a slow client has not read yet spill (default: under the system's temp dir). */
  spoolDir?: string;
  /** Bytes of such rows one query keeps in memory before spilling (default 8 MiB). */
  spoolMemoryBytes?: number;
  /** Disk all spills may take (default 10 GiB): past it, the query spilling fails (TOO_LARGE). */
  spoolMaxBytes?: number;
  /** DROP TABLE and DROP DATABASE go here (without it they are refused). */
  admin?: DropOps;
  /**
   * The catalog's metadata file: with it, long statement texts are parsed and planned by
   * planner threads reading it (the event loop stays free); without it, all inline.
   */
  metadataFile?: string;
  /** Planner threads (default 2). */
  planThreads?: number;
  /** Log the statements in flight when the event loop is held longer than this (ms; 0: never). */
  loopStallLogMs?: number;
  /** Keep plans (src/czar/plan/planCache.ts); default: on unless MINI_QSERV_PLAN_CACHE=0. */
  planCache?: boolean;
  /** Told of every query (a SELECT with FROM, a UNION, or text that does not parse) once it ends. */
  onQueryEnd?: (q: FinishedQuery) => void;
  log?: Logger;
}

/** A query that ended, as `onQueryEnd` is told of it. */
export interface FinishedQuery {
  query: string;
  user: string;
  database: string | null;
  /** Date.now() when it started. */
  startedAt: number;
  elapsedMs: number;
  rows: number;
  chunks: number;
  retries: number;
  error?: QservError;
}

/** What the czar asks of data management for the DROP statements. */
export interface DropOps {
  dropTable(db: string, table: string, ifExists: boolean, signal?: AbortSignal): Promise<unknown>;
  dropDatabase(db: string, ifExists: boolean, signal?: AbortSignal): Promise<unknown>;
}

/** Qserv's async queries (SUBMIT, qserv_result, CANCEL): the TAP async job store runs them. */
export interface AsyncQueries {
  /** Starts `sql` as a job of `session`'s user in its database; the job's id. */
  submit(sql: string, session: Session): string;
  /**
   * A COMPLETED job's rows (to `sink` as they are read, if given; else held, at most `maxBytes`);
   * else an error saying its phase.
   */
  result(id: string, session: Session, maxBytes: number, sink?: ResultSink): Promise<QueryAnswer>;
  /** Stops a job not yet ended. */
  cancel(id: string, session: Session): void;
}

/** A running query, as SHOW PROCESSLIST shows it. */
export interface ProcessInfo {
  id: number;
  user: string;
  database: string | null;
  query: string;
  startedAt: number;
  chunksDone: number;
  chunksTotal: number;
  /** Stops the query; `why` becomes its error message. */
  cancel(why: string): void;
}

const DEFAULT_SPOOL_MEMORY = 8 << 20;
const DEFAULT_SPOOL_MAX = 10 * 2 ** 30;

export const VERSION = "8.0.0-mini-qserv";

const SYSVARS: Record<string, Value> = {
  version_comment: "mini-qserv",
  version: VERSION,
  max_allowed_packet: 67108864n,
  autocommit: 1n,
  sql_mode: "",
  character_set_client: "utf8mb4",
  character_set_results: "utf8mb4",
  character_set_connection: "utf8mb4",
  character_set_server: "utf8mb4",
  character_set_database: "utf8mb4",
  character_set_system: "utf8mb3",
  collation_server: "utf8mb4_general_ci",
  collation_database: "utf8mb4_general_ci",
  collation_connection: "utf8mb4_general_ci",
  lower_case_table_names: 0n,
  tx_isolation: "REPEATABLE-READ",
  transaction_isolation: "REPEATABLE-READ",
  session_track_schema: 0n,
  wait_timeout: 28800n,
  interactive_timeout: 28800n,
  time_zone: "SYSTEM",
  system_time_zone: "UTC",
};

function typesOf(
  names: readonly string[],
  rows: readonly Value[][],
  mysql: ReadonlyArray<MysqlType | null> = [],
): ResultColumnInfo[] {
  return names.map((name, i) => {
    let type: ColumnType = "NULL";
    for (const r of rows) {
      const v = r[i] ?? null;
      if (v !== null) {
        type = valueType(v);
        break;
      }
    }
    return { name, type, mysql: mysql[i] ?? null };
  });
}

export class Czar {
  private nextId = 1;
  private readonly running = new Map<number, ProcessInfo>();
  /** MySQL connections by id, for KILL CONNECTION. */
  private readonly connections = new Map<number, () => void>();
  private readonly sessions = new Map<number, Session>();

  private readonly spoolBudget: SpoolBudget;
  private readonly planner: PlanPool | null;
  private readonly plans: PlanCache | null;
  /** The in-memory database SELECTs without FROM are answered in (made once: the fast path). */
  private localDb: ReturnType<typeof scratchDb> | null = null;
  /** SUBMIT, qserv_result and CANCEL go here (set by the server once the TAP service is up). */
  asyncQueries: AsyncQueries | null = null;
  /** Statements being executed (what the loop watch names when the loop is held). */
  private readonly inFlight = new Set<InFlight>();
  private readonly stopWatch: () => void;

  constructor(private readonly o: CzarOptions) {
    this.spoolBudget = new SpoolBudget(
      o.spoolDir ?? join(tmpdir(), "mini-qserv-spool"),
      o.spoolMaxBytes ?? DEFAULT_SPOOL_MAX,
    );
    this.planner =
      o.metadataFile === undefined
        ? null
        : new PlanPool(o.metadataFile, o.planThreads ?? 2, process.env.MINI_QSERV_PLAN_HOLD || undefined);
    this.stopWatch =
      (o.loopStallLogMs ?? 0) > 0 && o.log !== undefined
        ? watchLoop(o.loopStallLogMs ?? 0, () => this.inFlight, o.log)
        : () => {};
    this.plans = (o.planCache ?? process.env.MINI_QSERV_PLAN_CACHE !== "0") ? new PlanCache(o.catalog) : null;
  }

  /** Stops the planner threads and closes the local database. */
  async close(): Promise<void> {
    this.stopWatch();
    this.localDb?.close();
    this.localDb = null;
    await this.planner?.close();
  }

  private get maxResultBytes(): number {
    return this.o.maxResultBytes ?? 1 << 30;
  }

  /** The metadata the czar plans with (TAP_SCHEMA is made from it). */
  get catalog(): CzarCatalog {
    return this.o.catalog;
  }

  /** An id for a new connection, from the same sequence as query ids (so they never clash). */
  newSessionId(): number {
    return this.nextId++;
  }

  /** A MySQL connection logged in: SHOW PROCESSLIST lists it until `closeSession`. */
  openSession(session: Session): void {
    if (session.id !== undefined) this.sessions.set(session.id, session);
  }

  closeSession(session: Session): void {
    if (session.id !== undefined) this.sessions.delete(session.id);
  }

  /** Connections open (MySQL clients), for COM_STATISTICS's Threads. */
  sessionCount(): number {
    return this.sessions.size;
  }

  /** How long a write to this session's client may wait for it to read (ms). */
  writeTimeoutMs(session: Session): number {
    return (session.netWriteTimeoutS ?? this.o.netWriteTimeoutS ?? DEFAULT_NET_WRITE_TIMEOUT_S) * 1000;
  }

  /** The running queries `session` may see (every one without a session). */
  processes(session?: Session): ProcessInfo[] {
    const all = [...this.running.values()];
    return session?.ownQueriesOnly === true ? all.filter((p) => p.user === session.user) : all;
  }

  /** A client connection `KILL [CONNECTION] id` closes; returns its detach. */
  attachConnection(id: number, close: () => void): () => void {
    this.connections.set(id, close);
    return () => {
      if (this.connections.get(id) === close) this.connections.delete(id);
    };
  }

  /**
   * Cancels a running query (it leaves the process list at once, even while a write to its
   * client is pending) and, unless only the query is killed, closes its connection as MySQL's
   * KILL does; false if there is neither with that id. A session limited to its own queries gets
   * FORBIDDEN for another user's (MySQL's "You are not owner of thread").
   */
  kill(id: number, session?: Session, queryOnly = true): boolean {
    const p = this.running.get(id);
    if (p !== undefined && session?.ownQueriesOnly === true && p.user !== session.user) {
      throw new QservError("FORBIDDEN", `You are not owner of thread ${id}`);
    }
    const close = queryOnly ? undefined : this.connections.get(id);
    if (p === undefined && close !== undefined && session?.ownQueriesOnly === true && session.id !== id) {
      throw new QservError("FORBIDDEN", `You are not owner of thread ${id}`);
    }
    p?.cancel(`query ${id} killed`);
    close?.();
    return p !== undefined || close !== undefined;
  }

  /** Runs one statement. `signal` cancels it (the client went away); `sink` may take the rows as they come. */
  async execute(sql: string, session: Session, signal?: AbortSignal, sink?: ResultSink): Promise<QueryAnswer> {
    const flight: InFlight = { sql, since: performance.now() };
    this.inFlight.add(flight);
    try {
      return await this.executeStatement(sql, session, signal, sink);
    } finally {
      this.inFlight.delete(flight);
    }
  }

  private async executeStatement(
    sql: string,
    session: Session,
    signal?: AbortSignal,
    sink?: ResultSink,
  ): Promise<QueryAnswer> {
    const t0 = performance.now();
    const ended = this.o.onQueryEnd;
    const startedAt = Date.now();
    const end = (a: QueryAnswer | null, rows: number, e?: unknown) =>
      ended?.({
        query: sql,
        user: session.user ?? "qsmaster",
        database: session.database,
        startedAt,
        elapsedMs: performance.now() - t0,
        rows,
        chunks: a?.stats.chunks ?? 0,
        retries: a?.stats.retries ?? 0,
        ...(e === undefined ? {} : { error: isQservError(e) ? e : new QservError("INTERNAL", String(e)) }),
      });
    let parsed: Planned;
    try {
      // Uploaded tables (TAP) live in this session only: such a query is planned here.
      parsed =
        this.planner !== null && planOffLoop(sql) && (session.uploads?.length ?? 0) === 0
          ? await this.planner.parse(sql, this.o.maxQueryBytes ?? DEFAULT_MAX_QUERY_BYTES, session.database)
          : this.parseInline(sql, session);
    } catch (e) {
      end(null, 0, e);
      throw e;
    }
    const run = async (out?: ResultSink): Promise<QueryAnswer> => {
      if (parsed.kind === "statement") return this.statement(parsed.stmt, sql, session, t0, signal, out);
      const p = parsed;
      try {
        return await this.select(
          sql,
          { first: p.plan, again: () => p.replan(session.database) },
          session,
          t0,
          signal,
          out,
        );
      } finally {
        p.done();
      }
    };
    // The history keeps queries of tables (a SELECT with FROM, a UNION), not SET, SHOW or SELECT 1.
    const recorded =
      ended !== undefined &&
      (parsed.kind === "plan" ||
        parsed.stmt.kind === "union" ||
        (parsed.stmt.kind === "select" && parsed.stmt.from.length > 0));
    if (!recorded) return run(sink);
    // Rows streamed to the sink are counted as they pass.
    let streamed = 0;
    const counting: ResultSink | undefined =
      sink === undefined
        ? undefined
        : {
            header: (c) => sink.header(c),
            rows: (r) => {
              streamed += r.length;
              return sink.rows(r);
            },
          };
    try {
      const a = await run(counting);
      end(a, a.streamed === true ? streamed : a.rows.length);
      return a;
    } catch (e) {
      end(null, streamed, e);
      throw e;
    }
  }

  private async statement(
    stmt: Statement,
    sql: string,
    session: Session,
    t0: number,
    signal?: AbortSignal,
    sink?: ResultSink,
  ): Promise<QueryAnswer> {
    const listing = (l: Listing & { types?: Array<MysqlType | null> }): QueryAnswer => ({
      columns: typesOf(l.columns, l.rows, l.types),
      rows: l.rows,
      stats: { chunks: 0, retries: 0, elapsedMs: performance.now() - t0 },
    });
    switch (stmt.kind) {
      case "union":
        return this.composite(stmt, session, t0, signal);
      case "select":
        if (isComposite(stmt)) return this.composite(stmt, session, t0, signal);
        return stmt.from.length === 0
          ? listing(this.local(stmt, session))
          : this.select(sql, this.inline(stmt, session, sql), session, t0, signal, sink);
      case "showDatabases":
        return listing(showDatabases(this.o.catalog, stmt));
      case "showTables":
        return listing(showTables(this.o.catalog, stmt, session.database));
      case "showColumns":
      case "describe":
        return listing(showColumns(this.o.catalog, stmt, session.database));
      case "showProcesslist":
        return listing(this.processlist(stmt.full, sql, session));
      case "kill":
        if (!this.kill(stmt.id, session, stmt.query))
          throw new QservError("NOT_FOUND", `Unknown thread id: ${stmt.id}`);
        return listing({ columns: [], rows: [] });
      case "submit":
        return listing({
          columns: ["jobId"],
          rows: [[BigInt(this.async(stmt.pos).submit(printMysql(stmt.query), session))]],
        });
      case "qservResult":
        return this.async(stmt.pos).result(stmt.id, session, this.maxResultBytes, sink);
      case "cancel":
        this.async(stmt.pos).cancel(stmt.id, session);
        return listing({ columns: [], rows: [] });
      case "use":
        if (this.o.catalog.database(stmt.db) === null)
          throw new QservError("BAD_QUERY", `Unknown database '${stmt.db}'`);
        session.database = stmt.db;
        return listing({ columns: [], rows: [] });
      case "set":
        setVariables(stmt, session);
        return listing({ columns: [], rows: [] });
      case "dropTable": {
        const db = stmt.db ?? session.database;
        if (db === null) throw new QservError("BAD_QUERY", "No database selected");
        await this.adminOps(stmt.pos, session).dropTable(db, stmt.table, stmt.ifExists, signal);
        return listing({ columns: [], rows: [] });
      }
      case "dropDatabase":
        await this.adminOps(stmt.pos, session).dropDatabase(stmt.db, stmt.ifExists, signal);
        if (session.database === stmt.db) session.database = null;
        return listing({ columns: [], rows: [] });
      default:
        return unreachable(stmt);
    }
  }

  private async(pos: { line: number; column: number }): AsyncQueries {
    if (this.asyncQueries === null) {
      throw new QservError("UNSUPPORTED", "not supported: async queries on this czar (no job store)", { ...pos });
    }
    return this.asyncQueries;
  }

  private adminOps(pos: { line: number; column: number }, session: Session): DropOps {
    if (session.readOnly === true) {
      throw new QservError("FORBIDDEN", `user '${session.user}' (reader) may not drop: it needs the writer role`, {
        ...pos,
      });
    }
    if (this.o.admin === undefined) {
      throw new QservError("UNSUPPORTED", "not supported: DROP on this czar (no data management)", { ...pos });
    }
    return this.o.admin;
  }

  /** A query made of queries (src/czar/compose/): its parts run one after the other, combined here. */
  private async composite(q: Query, session: Session, t0: number, signal?: AbortSignal): Promise<QueryAnswer> {
    let chunks = 0;
    let retries = 0;
    // Every part sees each database as the first part on it did.
    const snapshots = new Map<string, number>();
    const a = await runQuery(q, {
      run: async (s) => {
        if (s.from.length === 0) return this.local(s, session);
        const text = printMysql(s);
        const planned = await this.partPlanning(text, s, session);
        let part: QueryAnswer;
        try {
          part = await this.select(text, planned.planning, session, t0, signal, undefined, snapshots);
        } finally {
          planned.done();
        }
        chunks += part.stats.chunks;
        retries += part.stats.retries;
        const types = part.columns.map((c) => c.mysql ?? null);
        return { columns: part.columns.map((c) => c.name), types, rows: part.rows };
      },
      scanOrder: (s) => {
        try {
          return scanOrder(s, session.database, this.o.catalog);
        } catch {
          return null; // the query itself will say what is wrong with it
        }
      },
      isTableColumn: (s, c) => {
        try {
          return namesTableColumn(s, c, session.database, this.o.catalog);
        } catch {
          return false; // as above
        }
      },
      maxResultBytes: this.maxResultBytes,
      scratch: this.spoolBudget,
    });
    return {
      columns: typesOf(a.columns, a.rows, a.types),
      rows: a.rows,
      stats: { chunks, retries, elapsedMs: performance.now() - t0 },
    };
  }

  /**
   * As MySQL lists them: every connection (idle ones as Sleep, the asking one running this
   * statement) and every running query (HTTP ones included), by id.
   */
  private processlist(full: boolean, sql: string, asking: Session): Listing {
    const now = Date.now();
    const columns = ["Id", "User", "Host", "db", "Command", "Time", "State", "Info", "Progress"];
    const info = (q: string) => (full ? q : q.slice(0, 100));
    const secs = (since: number) => BigInt(Math.max(0, Math.floor((now - since) / 1000)));
    const rows = new Map<number, Value[]>();
    for (const [id, s] of this.sessions) {
      const self = s === asking;
      if (asking.ownQueriesOnly === true && s.user !== asking.user) continue;
      rows.set(id, [
        BigInt(id),
        s.user ?? "qsmaster",
        s.host ?? "",
        s.database,
        self ? "Query" : "Sleep",
        self ? 0n : secs(s.activeAt ?? now),
        self ? "starting" : "",
        self ? info(sql) : null,
        0,
      ]);
    }
    for (const p of this.processes(asking)) {
      rows.set(p.id, [
        BigInt(p.id),
        p.user,
        this.sessions.get(p.id)?.host ?? "",
        p.database,
        "Query",
        secs(p.startedAt),
        `${p.chunksDone}/${p.chunksTotal} chunks`,
        info(p.query),
        p.chunksTotal === 0 ? 0 : p.chunksDone / p.chunksTotal,
      ]);
    }
    return { columns, rows: [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r) };
  }

  /** A SELECT without FROM, evaluated on the czar (system variables and DATABASE() answered here). */
  private local(s: Select, session: Session): Listing & { types: Array<MysqlType | null> } {
    const columns: string[] = [];
    const exprs: string[] = [];
    const types: Array<MysqlType | null> = [];
    for (const it of s.items) {
      if (it.kind !== "expr") throw new QservError("BAD_QUERY", "SELECT * without FROM: No tables used");
      const e = mapExpr(it.expr, (x) => {
        if (x.kind === "sysvar") {
          const name = x.name.toLowerCase();
          const v = name === NET_WRITE_TIMEOUT ? BigInt(this.writeTimeoutMs(session) / 1000) : SYSVARS[name];
          if (v === undefined) throw new QservError("BAD_QUERY", `Unknown system variable '${x.name}'`);
          if (v === null) return { kind: "null", pos: x.pos };
          return typeof v === "string"
            ? { kind: "string", value: v, pos: x.pos }
            : { kind: "integer", text: String(v), pos: x.pos };
        }
        if (x.kind === "call" && x.args.length === 0) {
          const n = x.name.toUpperCase();
          if (n === "DATABASE" || n === "SCHEMA") {
            return session.database === null
              ? { kind: "null", pos: x.pos }
              : { kind: "string", value: session.database, pos: x.pos };
          }
          if (n === "VERSION") return { kind: "string", value: VERSION, pos: x.pos };
          if (n === "USER" || n === "CURRENT_USER")
            return { kind: "string", value: `${session.user ?? "qsmaster"}@localhost`, pos: x.pos };
          if (n === "CONNECTION_ID") return { kind: "integer", text: "1", pos: x.pos };
        }
        return x;
      });
      columns.push(itemName(it));
      types.push(mysqlType(it.expr, () => null));
      exprs.push(printSqliteExpr(e));
    }
    this.localDb ??= scratchDb();
    const db = this.localDb;
    try {
      const limit =
        s.limit === null ? "" : ` LIMIT ${s.limit.count}${s.limit.offset === null ? "" : ` OFFSET ${s.limit.offset}`}`;
      const where = s.where === null ? "" : ` WHERE ${printSqliteExpr(s.where)}`;
      return { columns, types, rows: selectRows(db, `SELECT ${exprs.join(", ")}${where}${limit}`) };
    } catch (e) {
      if (isQservError(e)) throw e;
      throw new QservError("SQL_ERROR", (e as Error).message);
    }
  }

  /**
   * A part of a composite query: planned by a planner thread when its text (as printed, with the
   * rows of its subqueries in it) is long or has many operators, else here.
   */
  private async partPlanning(
    text: string,
    s: Select,
    session: Session,
  ): Promise<{ planning: Planning; done: () => void }> {
    if (this.planner === null || !planOffLoop(text) || (session.uploads?.length ?? 0) > 0) {
      return { planning: this.inline(s, session), done: () => {} };
    }
    // The printed part may be longer than its statement (subquery rows in it): a larger bound.
    const p = await this.planner.parse(text, 4 * (this.o.maxQueryBytes ?? DEFAULT_MAX_QUERY_BYTES), session.database);
    if (p.kind !== "plan") return { planning: this.inline(s, session), done: () => {} };
    return { planning: { first: p.plan, again: () => p.replan(session.database) }, done: p.done };
  }

  /**
   * A statement parsed here, on the event loop; a plain SELECT through the plan cache: one made
   * from a template is planned at once, and parsed from its text after all if that fails (so
   * that its error is the parser's and planner's on the text as written).
   */
  private parseInline(sql: string, session: Session): Planned {
    const parse = () => parseStatement(sql, "mysql", this.o.maxQueryBytes);
    if (this.plans === null || (session.uploads?.length ?? 0) > 0) return { kind: "statement", stmt: parse() };
    const db = session.database;
    const plain = (s: Statement) => s.kind === "select" && s.from.length > 0 && !isComposite(s);
    const { stmt, fromTemplate } = this.plans.statement(sql, db, parse, plain);
    if (!fromTemplate) return { kind: "statement", stmt };
    try {
      this.plans.plan(sql, db, () => planSelect(stmt as Select, db, this.o.catalog));
      return { kind: "statement", stmt };
    } catch {
      this.plans.forget(sql, db);
      return { kind: "statement", stmt: parse() };
    }
  }

  /**
   * A SELECT planned here, on the event loop (a short text, or a part of a composite query);
   * with its text `sql`, through the plan cache (and not planned again under the lock while the
   * metadata is unchanged).
   */
  private inline(stmt: Select, session: Session, sql?: string): Planning {
    const again = () => planSelect(stmt, session.database, this.o.catalog, session.uploads);
    if (sql === undefined || this.plans === null || (session.uploads?.length ?? 0) > 0)
      return { first: again(), again };
    const generation = this.plans.generation();
    return { first: this.plans.plan(sql, session.database, again), again, generation };
  }

  /** Runs a plan under its database's lock, planned again once the lock is held. */
  private async select(
    sql: string,
    planning: Planning,
    session: Session,
    t0: number,
    signal?: AbortSignal,
    sink?: ResultSink,
    /** Snapshots by database, shared by the parts of one statement. */
    snapshots = new Map<string, number>(),
  ): Promise<QueryAnswer> {
    const { first, again } = planning;
    let plan = first;
    const unlock = (await this.o.locks?.shared(plan.database, signal)) ?? (() => {});
    try {
      // Planned again under the lock: metadata may have changed while waiting for it. The
      // snapshot is read with the plan (no await between, inline; a planner thread's plan is
      // made under the lock too, which a publish needs exclusive): the plan's chunks hold every
      // row it sees; an earlier part's older snapshot on a newer plan is fine, the workers leave
      // the newer rows out.
      if (
        this.o.locks !== undefined &&
        (planning.generation === undefined || planning.generation !== this.plans?.generation())
      ) {
        const p = again();
        plan = p instanceof Promise ? await p : p;
      }
      const seq = snapshots.get(plan.database) ?? this.o.catalog.snapshotSeq?.(plan.database);
      if (seq !== undefined) snapshots.set(plan.database, seq);
      return await this.run(sql, plan, session, t0, unlock, signal, sink, seq);
    } finally {
      unlock();
    }
  }

  /** Runs a plan; `dispatched` is called once the workers are done with it (the client may still be reading). */
  private async run(
    sql: string,
    plan: Plan,
    session: Session,
    t0: number,
    dispatched: () => void,
    signal?: AbortSignal,
    sink?: ResultSink,
    snapshotSeq?: number,
  ): Promise<QueryAnswer> {
    const id = session.id ?? this.nextId++;
    // Streamed: rows go through a spool at the client's pace, the workers' at theirs; the header
    // is typed from the first rows (all of a column's values share a storage class).
    let header: ResultColumnInfo[] | null = null;
    const spool =
      sink === undefined || plan.merge.kind !== "concat"
        ? null
        : new Spool(this.o.spoolMemoryBytes ?? DEFAULT_SPOOL_MEMORY, this.spoolBudget, `q${id}`);
    const controller = new AbortController();
    let why = "";
    // Stops the workers and, once they are done, the rows still on their way to the client.
    const cancel = (reason: string) => {
      why ||= reason;
      controller.abort();
      spool?.fail(new QservError("CANCELLED", why));
    };
    const deliver = async (from: Spool, to: ResultSink) => {
      for await (const rows of from.batches()) {
        if (header === null) {
          header = typesOf(plan.columns, rows, plan.types);
          await to.header(header);
        }
        await to.rows(rows);
      }
    };
    const delivered =
      spool === null || sink === undefined
        ? null
        : deliver(spool, sink).catch((e: unknown) => {
            cancel(e instanceof Error ? e.message : String(e));
            throw e;
          });
    delivered?.catch(() => {});
    const proc: ProcessInfo = {
      id,
      user: session.user ?? "qsmaster",
      database: plan.database,
      query: sql,
      startedAt: Date.now(),
      chunksDone: 0,
      chunksTotal: plan.jobs.length,
      cancel,
    };
    this.running.set(id, proc);
    let streamedRows = 0;
    const onAbort = () => cancel("query cancelled by the client");
    signal?.addEventListener("abort", onAbort, { once: true });
    const timeoutMs = session.timeoutMs ?? this.o.queryTimeoutMs ?? 0;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => cancel(`query ${id} exceeded its time limit of ${timeoutMs} ms`), timeoutMs)
        : null;
    try {
      const { rows, stats, streamed } = await executePlan(plan, this.o.directory, {
        queryId: `q${id}`,
        concurrency: this.o.concurrency ?? 8,
        attemptTimeoutMs: this.o.attemptTimeoutMs ?? 600_000,
        maxAttempts: this.o.maxAttempts ?? 3,
        hedgeAfterMs: this.o.hedgeAfterMs ?? 1000,
        maxResultBytes: this.maxResultBytes,
        scratch: this.spoolBudget,
        signal: controller.signal,
        ...(snapshotSeq === undefined ? {} : { snapshotSeq }),
        ...(spool === null
          ? {}
          : {
              stream: async (rows: Value[][]) => {
                streamedRows += rows.length;
                return spool.push(rows);
              },
            }),
        onProgress: (done) => {
          proc.chunksDone = done;
        },
      });
      dispatched();
      spool?.end();
      await delivered;
      const elapsedMs = performance.now() - t0;
      // Streamed rows went to the client, not into `rows`: they are counted as they passed.
      const n = streamed ? streamedRows : rows.length;
      this.o.log?.info({ id, chunks: plan.jobs.length, rows: n, ms: Math.round(elapsedMs) }, "query done");
      const columns = header ?? typesOf(plan.columns, rows, plan.types);
      if (streamed && header === null) await sink?.header(columns);
      return { columns, rows, stats: { chunks: stats.jobs, retries: stats.retries, elapsedMs }, streamed };
    } catch (e) {
      const cancelled = why;
      if (isQservError(e) && e.code === "TOO_LARGE" && cancelled === "") {
        // Past the result limit: the client gets the rows before it, then the error.
        spool?.end(e);
      } else {
        // The client's writes stop before the error is answered (they share its connection).
        spool?.fail(e);
      }
      // A cancelled query does not wait for a write its client may never take (the spool's
      // failure ends the delivery once that write ends or times out).
      if (cancelled !== "") throw new QservError("CANCELLED", cancelled);
      await delivered?.catch(() => {});
      throw e;
    } finally {
      if (timer !== null) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      spool?.close();
      this.running.delete(id);
    }
  }
}

/** A plan made before its database's lock is taken, and how to make it again under the lock. */
interface Planning {
  first: Plan;
  again: () => Plan | Promise<Plan>;
  /** The metadata generation `first` was planned under (plan cache): unchanged, it holds. */
  generation?: string;
}

const NET_WRITE_TIMEOUT = "net_write_timeout";

/** Session variables: net_write_timeout is kept (it lets a stalled client go); the others are accepted and ignored. */
function setVariables(stmt: SetStmt, session: Session): void {
  for (const it of stmt.items) {
    if (it.kind !== "variable" || it.name.toLowerCase() !== NET_WRITE_TIMEOUT) continue;
    if (it.scope === "GLOBAL") throw new QservError("UNSUPPORTED", `not supported: SET GLOBAL ${NET_WRITE_TIMEOUT}`);
    const v = it.value;
    const n = v.kind === "integer" ? Number(v.text) : Number.NaN;
    if (!Number.isSafeInteger(n)) {
      throw new QservError("BAD_QUERY", `Incorrect argument type to variable '${NET_WRITE_TIMEOUT}'`);
    }
    // MySQL clamps to its range (1 s to a year).
    session.netWriteTimeoutS = Math.min(31_536_000, Math.max(1, n));
  }
}

function unreachable(x: never): never {
  throw new QservError("INTERNAL", `unhandled statement ${JSON.stringify(x)}`);
}
