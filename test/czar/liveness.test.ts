/**
 * One stuck client never freezes a database (a czar and two workers as processes on loopback,
 * real mysql2 and HTTP clients): a reader that stops reading a large streamed SELECT is let go
 * after net_write_timeout (2 s here) and one that disconnects at once — its query leaves SHOW
 * PROCESSLIST and the workers' queues — while other clients' queries keep answering; an append
 * publishes while a reader is stalled, and that reader, resumed, gets exactly the rows of the
 * table as it was when its query started.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import type Database from "better-sqlite3";
import mysql from "mysql2";
import mysqlPromise from "mysql2/promise";
import { postJson } from "../../src/cli/httpClient.js";
import { type UpCluster, up } from "../../src/cluster/up.js";
import { tableDialect } from "../../src/common/ingestConfig.js";
import { toJsonValue } from "../../src/common/jsonValue.js";
import type { Value } from "../../src/common/rowCodec.js";
import { WorkerClient } from "../../src/worker/client.js";
import { makeTempDir } from "../support/fs.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { rowSet } from "../support/rows.js";
import { SYN_DATABASE_JSON, SYN_TABLE_JSON, synDatabase, synTable, writeObjects } from "../support/synthetic.js";
import { waitFor as until } from "../support/waitFor.js";

/** Rows of the first load: a SELECT * of them is far more than loopback socket buffers hold. */
const ROWS = 200_000;
const WRITE_TIMEOUT_S = 2;
const BIG = "SELECT objectId, ra, decl, flux FROM Obj";
const COUNT = "SELECT COUNT(*), MIN(objectId), MAX(objectId) FROM Obj";

const p99 = (ms: number[]): number => {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)] ?? Number.NaN;
};

/** A mysql2 reader of `sql` that stops reading after the first row (its socket paused). */
interface Stalled {
  conn: mysql.Connection;
  id: number;
  rows: unknown[][];
  /** Settles when the result ends (rejects on an error or a lost connection). */
  done: Promise<void>;
}

describe("one stuck client never freezes a database", () => {
  const dir = makeTempDir();
  let cluster: UpCluster;
  let watcher: mysqlPromise.Connection;
  let workers: WorkerClient[];
  /** Every file loaded so far, concatenated: the reference's input. */
  let loaded = "";
  let nextId = 1;
  /** The cluster's log lines. */
  let logs = "";

  const connect = (database?: string) =>
    mysqlPromise.createConnection({
      host: "127.0.0.1",
      port: cluster.mysqlPort,
      user: "qsmaster",
      rowsAsArray: true,
      ...(database === undefined ? {} : { database }),
    });

  /** A file of `n` new objects: its path and its text. */
  const newObjects = (n: number): { file: string; csv: string } => {
    const file = join(dir, `objects-${nextId}.csv`);
    writeObjects(file, nextId, n);
    nextId += n;
    return { file, csv: readFileSync(file, "latin1") };
  };
  /** Loads a file through the czar's HTTP API (an append once the table exists). */
  const ingest = async (file: string): Promise<void> => {
    await postJson(`${cluster.url}/ingest`, { database: SYN_DATABASE_JSON, table: SYN_TABLE_JSON, files: [file] });
  };

  /** A reference SQLite database holding `csv`. */
  const reference = (csv: string): Database.Database => {
    const ref = referenceDb();
    const f = join(dir, "reference.csv");
    writeFileSync(f, csv);
    const table = synTable();
    loadReference(ref, f, { ...table, longitudeKey: "" }, tableDialect(table, f), synDatabase());
    return ref;
  };
  const expected = (csv: string, sql: string): string[] => {
    const ref = reference(csv);
    try {
      const rows = ref.prepare(sql).raw(true).safeIntegers(true).all() as Value[][];
      return rowSet(
        rows.map((r) => r.map(toJsonValue)),
        false,
        9,
      );
    } finally {
      ref.close();
    }
  };

  const spoolDir = () => join(dir, "czar", "spool");
  const processIds = async (): Promise<number[]> => {
    const [rows] = (await watcher.query("SHOW PROCESSLIST")) as unknown as [unknown[][]];
    // Running queries (idle connections are listed too, as Sleep).
    return rows.filter((r) => /chunks$/.test(String(r[6]))).map((r) => Number(r[0]));
  };
  /** Resolves, with the ms it took, once `id` has left SHOW PROCESSLIST and the workers run nothing. */
  const released = async (id: number, boundMs = 60_000): Promise<number> => {
    const t0 = performance.now();
    await until(
      `query ${id} leaves the process list`,
      async () => ((await processIds()).includes(id) ? undefined : true),
      boundMs,
    );
    const ms = performance.now() - t0;
    await until("the workers run no query", async () => {
      const s = await Promise.all(workers.map((w) => w.status()));
      return s.every((x) => x.queriesRunning === 0 && x.queriesQueued === 0) ? true : undefined;
    });
    return ms;
  };

  const stall = async (sql: string, setup: string[] = []): Promise<Stalled> => {
    const conn = mysql.createConnection({
      host: "127.0.0.1",
      port: cluster.mysqlPort,
      user: "qsmaster",
      database: "qsyn",
    });
    for (const s of setup) await conn.promise().query(s);
    const rows: unknown[][] = [];
    const q = conn.query({ sql, rowsAsArray: true });
    let first: () => void = () => {};
    const started = new Promise<void>((r) => {
      first = r;
    });
    q.on("result", (row: unknown) => {
      rows.push(row as unknown[]);
      if (rows.length === 1) {
        conn.pause();
        first();
      }
    });
    const done = new Promise<void>((resolve, reject) => {
      q.on("end", () => resolve());
      q.on("error", reject);
      // mysql2 reports a lost connection on the connection, not on the streaming query.
      conn.on("error", reject);
      conn.on("end", () => reject(new Error("connection closed by the server")));
    });
    done.catch(() => {});
    await Promise.race([started, done]);
    const id = conn.threadId as number;
    // Stalled: listed as running, the czar waiting on the socket.
    await until(`query ${id} listed`, async () => ((await processIds()).includes(id) ? true : undefined));
    return { conn, id, rows, done };
  };

  /**
   * Other clients' COUNT queries in a loop until `stop` settles, each answer that of the table
   * loaded so far (or of `next` too, while it is appended); their latencies (ms).
   */
  const others = async (stop: Promise<unknown>, next = "", clients = 3): Promise<number[]> => {
    let stopped = false;
    void stop.finally(() => {
      stopped = true;
    });
    const ms: number[] = [];
    const want = [expected(loaded, COUNT), expected(loaded + next, COUNT)].map((x) => x.join("\n"));
    await Promise.all(
      Array.from({ length: clients }, async () => {
        const c = await connect("qsyn");
        try {
          do {
            const t0 = performance.now();
            const [rows] = (await c.query(COUNT)) as unknown as [unknown[][]];
            ms.push(performance.now() - t0);
            assert.ok(want.includes(rowSet(rows, false, 9).join("\n")), `answer ${rowSet(rows, false, 9)}`);
          } while (!stopped);
        } finally {
          await c.end();
        }
      }),
    );
    return ms;
  };

  before(async () => {
    cluster = await up({
      dataDir: dir,
      workers: 2,
      replicas: 1,
      httpPort: 0,
      mysqlPort: 0,
      write: (text) => {
        logs += text;
      },
      czarArgs: ["--net-write-timeout", String(WRITE_TIMEOUT_S), "--spool-memory-mb", "1", "--ingest-root", dir],
    });
    workers = cluster.workers.map((w) => new WorkerClient(w.address, cluster.secret));
    const first = newObjects(ROWS);
    await ingest(first.file);
    loaded += first.csv;
    watcher = await connect();
  });
  after(async () => {
    await watcher?.end();
    for (const w of workers ?? []) w.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("net_write_timeout: the czar's default, SET per session, @@ reads it", async () => {
    const c = await connect();
    try {
      const get = async () => ((await c.query("SELECT @@net_write_timeout")) as unknown as [unknown[][]])[0];
      assert.deepEqual(await get(), [[WRITE_TIMEOUT_S]]);
      await c.query("SET SESSION net_write_timeout = 600");
      assert.deepEqual(await get(), [[600]]);
      await c.query("SET @@net_write_timeout = 30, NAMES utf8mb4");
      assert.deepEqual(await get(), [[30]]);
      await assert.rejects(c.query("SET GLOBAL net_write_timeout = 5"), /not supported: SET GLOBAL net_write_timeout/);
      await assert.rejects(c.query("SET net_write_timeout = 'x'"), /Incorrect argument type/);
    } finally {
      await c.end();
    }
  });

  test("a mysql2 reader that stops reading is let go after net_write_timeout; other clients keep answering", async (t: TestContext) => {
    const s = await stall(BIG);
    const gone = released(s.id);
    const latencies = await others(gone);
    const ms = await gone;
    await assert.rejects(
      (async () => {
        s.conn.resume();
        await s.done;
      })(),
      "the stalled reader's connection was closed",
    );
    s.conn.destroy();
    assert.ok(s.rows.length < ROWS, `${s.rows.length} rows read`);
    assert.ok(latencies.length > 0);
    t.diagnostic(
      `stalled query let go ${(ms / 1000).toFixed(1)} s after it was seen stalled (net_write_timeout ${WRITE_TIMEOUT_S} s); ` +
        `${latencies.length} other queries meanwhile, p99 ${p99(latencies).toFixed(0)} ms`,
    );
  });

  test("KILL QUERY of a query whose client stopped reading: it leaves at once; KILL closes the connection", async () => {
    // A long write timeout: only the KILL can end this query within the bounds below.
    const s = await stall(BIG, ["SET net_write_timeout = 3600"]);
    await watcher.query(`KILL QUERY ${s.id}`);
    await released(s.id, 30_000);
    // The connection stays (KILL QUERY), its write still pending; KILL ends it as MySQL's does.
    await watcher.query(`KILL ${s.id}`);
    s.conn.resume(); // a paused socket would not see its end
    await assert.rejects(s.done, "the killed connection was closed");
    s.conn.destroy();
    await assert.rejects(watcher.query(`KILL ${s.id}`), /Unknown thread id/);
  });

  test("a mysql2 reader that disconnects mid-result: its query leaves at once", async (t: TestContext) => {
    // A long write timeout: only the disconnect can end this query within the bound below.
    const s = await stall(BIG, ["SET net_write_timeout = 3600"]);
    s.conn.destroy();
    const ms = await released(s.id, 30_000);
    t.diagnostic(`query left ${ms.toFixed(0)} ms after the disconnect`);
    const c = await connect("qsyn");
    try {
      const [rows] = (await c.query(COUNT)) as unknown as [unknown[][]];
      assert.deepEqual(rowSet(rows, false, 9), expected(loaded, COUNT));
    } finally {
      await c.end();
    }
  });

  test("an append publishes while a reader is stalled; the reader, resumed, gets the rows its query started on", async (t: TestContext) => {
    const before = loaded;
    const s = await stall(BIG, ["SET net_write_timeout = 3600"]);
    // The workers are done with it (its rows wait in the czar's spool, partly on disk) ...
    await until("the stalled query's chunks all done", async () => {
      const [rows] = (await watcher.query("SHOW PROCESSLIST")) as unknown as [unknown[][]];
      const state = String(rows.find((r) => Number(r[0]) === s.id)?.[6]);
      const [done, total] = state.split(" ")[0]?.split("/").map(Number) ?? [];
      return done !== undefined && done === total ? true : undefined;
    });
    assert.ok(readdirSync(spoolDir()).length > 0, "rows spilled to the spool dir");
    // ... so an append publishes, and other clients' queries answer, meanwhile.
    const t0 = performance.now();
    const more = newObjects(1000);
    const load = ingest(more.file);
    const latencies = await others(load, more.csv);
    await load;
    loaded += more.csv;
    const appendMs = performance.now() - t0;
    assert.ok((await processIds()).includes(s.id), "the reader is still stalled");
    const c = await connect("qsyn");
    try {
      const [rows] = (await c.query(COUNT)) as unknown as [unknown[][]];
      assert.deepEqual(rowSet(rows, false, 9), expected(loaded, COUNT), "new queries see the append");
    } finally {
      await c.end();
    }
    s.conn.resume();
    await s.done;
    s.conn.destroy();
    assert.deepEqual(rowSet(s.rows, false, 9), expected(before, BIG), "the rows of the table before the append");
    await released(s.id);
    assert.deepEqual(readdirSync(spoolDir()), [], "the spill file is removed");
    t.diagnostic(
      `append of 1000 rows published in ${appendMs.toFixed(0)} ms with a reader stalled; ` +
        `${latencies.length} other queries meanwhile, p99 ${p99(latencies).toFixed(0)} ms`,
    );
  });

  /**
   * A raw socket sending `request` that reads the start of the answer and then nothing: the
   * kernel's receive buffer stays small (it grows only as the reader reads), so the czar's
   * writes block. `resume` reads on to the close: the answer's head, its last bytes, its size.
   */
  const rawReader = (request: string) => {
    const { port } = new URL(cluster.url);
    const sock = net.connect(Number(port), "127.0.0.1");
    sock.on("error", () => {});
    const closed = new Promise<void>((resolve) => sock.once("close", () => resolve()));
    let head = "";
    let got = 0;
    let tail = "";
    sock.on("data", (d: Buffer) => {
      if (got === 0) {
        head = d.subarray(0, 512).toString("latin1");
        sock.pause();
      }
      got += d.length;
      tail = (tail + d.subarray(-16).toString("latin1")).slice(-16);
    });
    sock.write(request);
    return {
      resume: async () => {
        sock.resume();
        await closed;
        return { head, tail, got };
      },
    };
  };

  test("an HTTP reader that stops reading is let go after the write timeout; other clients keep answering", async (t: TestContext) => {
    const body = JSON.stringify({ query: BIG, database: "qsyn" });
    const r = rawReader(
      `POST /query HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const letGo = until("the czar lets the HTTP reader go", async () =>
      /client let go/.test(logs) ? true : undefined,
    );
    const latencies = await others(letGo);
    await letGo;
    const { head, tail, got } = await r.resume();
    assert.match(head, /^HTTP\/1\.1 200/);
    // The answer is streamed (chunked): cut short, it lacks the final empty chunk.
    assert.match(head, /transfer-encoding: chunked/i);
    assert.ok(!tail.endsWith("\r\n0\r\n\r\n"), `${got} bytes delivered, the answer cut short`);
    t.diagnostic(
      `${latencies.length} other queries while the HTTP reader stalled, p99 ${p99(latencies).toFixed(0)} ms`,
    );
  });
  test("a TAP client that stops reading is let go after the write timeout; other clients keep answering", async (t: TestContext) => {
    const tapQueries = async (): Promise<number> => {
      const [rows] = (await watcher.query("SHOW PROCESSLIST")) as unknown as [unknown[][]];
      return rows.filter((r) => r[1] === "tap" && /chunks$/.test(String(r[6]))).length;
    };
    const adql = encodeURIComponent("SELECT objectId, ra, decl, flux FROM qsyn.Obj");
    const r = rawReader(
      `GET /tap/sync?REQUEST=doQuery&LANG=ADQL&RESPONSEFORMAT=tabledata&QUERY=${adql} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`,
    );
    await until("the TAP query runs", async () => ((await tapQueries()) > 0 ? true : undefined));
    const letGo = until("the czar lets the TAP client go", async () => ((await tapQueries()) === 0 ? true : undefined));
    const latencies = await others(letGo);
    await letGo;
    const { head, tail, got } = await r.resume();
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.ok(!tail.endsWith("\r\n0\r\n\r\n"), `${got} bytes delivered, the answer cut short`);
    t.diagnostic(`${latencies.length} other queries while the TAP client stalled, p99 ${p99(latencies).toFixed(0)} ms`);
  });
});
