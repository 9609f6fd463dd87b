/**
 * The stock MySQL clients against a real cluster (up(): czar + 2 workers, the demo catalog):
 * Node's mysql2, Python's pymysql and the mariadb command-line client connect, USE, run a cone
 * search and an aggregate (answers checked against one SQLite database holding the same rows),
 * get an error with MySQL's number and SQLSTATE, stream a result of more than 100k rows, and
 * cancel a running query (KILL QUERY from a second connection, Ctrl-C in the CLI).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type Database from "better-sqlite3";
import mysql from "mysql2";
import mysqlPromise from "mysql2/promise";
import { loadDemo } from "../../src/cluster/demo.js";
import { type UpCluster, up } from "../../src/cluster/up.js";
import { demoReference, expectedRows, referenceSql } from "../support/demo.js";
import { makeTempDir } from "../support/fs.js";
import { ensureMysqlClients, PYTHON } from "../support/mysqlClients.js";
import { rowSet } from "../support/rows.js";

const CONE = "SELECT objectId, ra, decl FROM Object WHERE qserv_areaspec_circle(40, 20, 6)";
const AGG = "SELECT COUNT(*), AVG(ra), MIN(decl), MAX(flags) FROM Object";
/** More than 100k rows (the catalog has about 4 sources per object). */
const BIG = "SELECT sourceId, objectId, ra, decl FROM Source";
/** A merge over every chunk: slow enough to be cancelled midway. */
const SLOW = "SELECT objectId, COUNT(*), MAX(psfFlux) FROM Source GROUP BY objectId";
const OBJECTS = 27_000;

const skip = ensureMysqlClients();

describe("MySQL clients against the czar's MySQL front end", { skip: skip ?? false }, () => {
  // Removed after the cluster stopped (its workers write there until then).
  const dir = makeTempDir();
  let cluster: UpCluster;
  let ref: Database.Database;
  let bigCount: number;

  before(async () => {
    cluster = await up({ dataDir: dir, workers: 2, replicas: 1, httpPort: 0, mysqlPort: 0, write: () => {} });
    await loadDemo({ czarUrl: cluster.url, dataDir: join(dir, "demo"), objects: OBJECTS });
    ref = demoReference(join(dir, "demo"));
    bigCount = (ref.prepare("SELECT COUNT(*) FROM Source").pluck().get() as number) ?? 0;
    assert.ok(bigCount >= 100_000, `${bigCount} sources`);
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
    ref?.close();
  });

  const connect = () =>
    mysqlPromise.createConnection({ host: "127.0.0.1", port: cluster.mysqlPort, user: "qsmaster", rowsAsArray: true });
  /** Resolves once SHOW PROCESSLIST (on `c`) lists connection `id` running a query. */
  const running = async (c: mysqlPromise.Connection, id: number) => {
    const until = Date.now() + 30_000;
    for (;;) {
      const [rows] = (await c.query("SHOW PROCESSLIST")) as unknown as [unknown[][]];
      const row = rows.find((r) => Number(r[0]) === id);
      if (row !== undefined && /^[1-9]\d*\/\d+ chunks$/.test(String(row[6]))) return row;
      assert.ok(Date.now() < until, `connection ${id} never seen running a query`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  test("mysql2: connect, USE, the connect-time queries, a cone search and an aggregate", async () => {
    const c = await connect();
    try {
      await c.query("SET NAMES utf8mb4");
      const [v] = (await c.query("SELECT @@version_comment LIMIT 1")) as unknown as [unknown[][]];
      assert.equal(v.length, 1);
      await c.query("USE demo");
      const [db] = (await c.query("SELECT DATABASE()")) as unknown as [unknown[][]];
      assert.deepEqual(db, [["demo"]]);
      const [tables] = (await c.query("SHOW TABLES")) as unknown as [unknown[][]];
      assert.deepEqual(tables.map((t) => t[0]).sort(), ["Object", "Source"]);
      const [cone] = (await c.query(CONE)) as unknown as [unknown[][]];
      assert.ok(cone.length > 0);
      assert.deepEqual(rowSet(cone, false, 9), expectedRows(ref, referenceSql(CONE)));
      const [agg, fields] = (await c.query(AGG)) as unknown as [unknown[][], Array<{ name: string; type: number }>];
      assert.deepEqual(rowSet(agg, false, 9), expectedRows(ref, AGG));
      assert.deepEqual(
        fields.map((f) => [f.name, f.type]),
        [
          ["COUNT(*)", 8],
          ["AVG(ra)", 5],
          ["MIN(decl)", 5],
          ["MAX(flags)", 3], // an int(11) column: LONG, as MySQL types it
        ],
      );
      assert.equal(typeof agg[0]?.[0], "number");
    } finally {
      await c.end();
    }
  });

  test("mysql2: errors carry MySQL's number, SQLSTATE and the czar's message", async () => {
    const c = await connect();
    try {
      await assert.rejects(
        c.query("SELECT nope FROM demo.Object"),
        (e: Error & { errno?: number; sqlState?: string }) => {
          assert.equal(e.errno, 1054);
          assert.equal(e.sqlState, "42S22");
          assert.match(e.message, /Unknown column 'nope'/);
          return true;
        },
      );
      await assert.rejects(c.query("SELEC 1"), (e: Error & { errno?: number; sqlState?: string }) => {
        assert.equal(e.errno, 1064);
        assert.equal(e.sqlState, "42000");
        return true;
      });
      await assert.rejects(c.query("SELECT * FROM Object"), (e: Error & { errno?: number }) => e.errno === 1046);
      const [one] = (await c.query("SELECT 1")) as unknown as [unknown[][]];
      assert.deepEqual(one, [[1]], "the connection is still usable");
    } finally {
      await c.end();
    }
  });

  test("mysql2: a result of more than 100k rows streams: rows arrive while the query still runs", async () => {
    const watcher = await connect();
    const c = mysql.createConnection({
      host: "127.0.0.1",
      port: cluster.mysqlPort,
      user: "qsmaster",
      database: "demo",
    });
    try {
      let n = 0;
      let ids = 0;
      let stillRunning: unknown[] | null = null;
      const q = c.query(BIG);
      q.on("result", (row: { objectId: number }) => {
        n++;
        ids += row.objectId;
        if (n === 1) {
          // Hold the stream: the czar must wait for us, the query stays listed as running.
          c.pause();
          running(watcher, c.threadId as number)
            .then((r) => {
              stillRunning = r;
            })
            .catch(() => {})
            .finally(() => c.resume());
        }
      });
      await new Promise<void>((resolve, reject) => {
        q.on("end", () => resolve());
        q.on("error", reject);
      });
      assert.equal(n, bigCount);
      assert.equal(ids, ref.prepare("SELECT SUM(objectId) FROM Source").pluck().get());
      assert.ok(stillRunning !== null, "the first row came before the query finished");
    } finally {
      c.end();
      await watcher.end();
    }
  });

  test("mysql2: KILL QUERY from a second connection cancels a running query", async () => {
    const a = await connect();
    const b = await connect();
    try {
      await a.query("USE demo");
      const slow = a.query(SLOW);
      await running(b, a.threadId);
      await b.query(`KILL QUERY ${a.threadId}`);
      await assert.rejects(slow, (e: Error & { errno?: number }) => {
        assert.equal(e.errno, 1317);
        return true;
      });
      // As MySQL: every connection, a idle (Sleep), b running this very statement; no query left.
      const [rows] = (await b.query("SHOW PROCESSLIST")) as unknown as [unknown[][]];
      const byId = new Map(rows.map((r) => [Number(r[0]), r]));
      assert.deepEqual(
        [byId.get(a.threadId)?.[4], byId.get(b.threadId)?.slice(4, 8)],
        ["Sleep", ["Query", 0, "starting", "SHOW PROCESSLIST"]],
      );
      assert.match(String(byId.get(b.threadId)?.[2]), /^127\.0\.0\.1:\d+$/);
      const [one] = (await a.query("SELECT 1")) as unknown as [unknown[][]];
      assert.deepEqual(one, [[1]]);
    } finally {
      await a.end();
      await b.end();
    }
  });

  test("pymysql: USE, cone search, aggregate, error, 100k+ rows unbuffered, KILL QUERY", () => {
    const script = `
import json, sys, threading, time, pymysql, pymysql.cursors
port = int(sys.argv[1])
c = pymysql.connect(host="127.0.0.1", port=port, user="qsmaster")
out = {}
c.select_db("demo")
cur = c.cursor()
cur.execute("SELECT DATABASE()"); out["db"] = cur.fetchone()[0]
cur.execute("USE demo")
cur.execute(${JSON.stringify(CONE)}); out["cone"] = [list(r) for r in cur.fetchall()]
cur.execute(${JSON.stringify(AGG)}); out["agg"] = [list(r) for r in cur.fetchall()]
try:
    cur.execute("SELECT nope FROM Object")
except pymysql.MySQLError as e:
    out["error"] = list(e.args)
ss = c.cursor(pymysql.cursors.SSCursor)
ss.execute(${JSON.stringify(BIG)})
out["big"] = sum(1 for _ in ss)
ss.close()
killer = pymysql.connect(host="127.0.0.1", port=port, user="qsmaster")
result = {}
def slow():
    try:
        k = c.cursor(); k.execute(${JSON.stringify(SLOW)}); result["rows"] = len(k.fetchall())
    except pymysql.MySQLError as e:
        result["error"] = e.args[0]
t = threading.Thread(target=slow); t.start()
kc = killer.cursor()
while True:
    kc.execute("SHOW PROCESSLIST")
    if any(r[0] == c.thread_id() and str(r[6]).endswith("chunks") and not str(r[6]).startswith("0/") for r in kc.fetchall()): break
    time.sleep(0.02)
kc.execute("KILL QUERY %d" % c.thread_id())
t.join()
out["killed"] = result
c.ping()
print(json.dumps(out))
`;
    const r = spawnSync(PYTHON, ["-c", script, String(cluster.mysqlPort)], { encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      db: string;
      cone: unknown[][];
      agg: unknown[][];
      error: unknown[];
      big: number;
      killed: unknown;
    };
    assert.deepEqual(rowSet(out.cone, false, 9), expectedRows(ref, referenceSql(CONE)));
    assert.deepEqual(rowSet(out.agg, false, 9), expectedRows(ref, AGG));
    assert.equal(out.error[0], 1054);
    assert.equal(out.db, "demo", "COM_INIT_DB (select_db) set the database");
    assert.equal(out.big, bigCount);
    assert.deepEqual(out.killed, { error: 1317 });
  });

  test("mariadb CLI: a cone search, an aggregate, an error, 100k+ rows, Ctrl-C kills the query", async () => {
    // The mariadb CLI's arguments for `sql` on the demo database, `flags` before it.
    const argv = (sql: string, ...flags: string[]) => [
      ...["-h", "127.0.0.1", "-P", String(cluster.mysqlPort), "-u", "qsmaster"],
      ...flags,
      ...["demo", "-e", sql],
    ];
    const cli = (sql: string) =>
      spawnSync("mariadb", argv(sql, "--batch", "--skip-column-names"), {
        encoding: "utf8",
        timeout: 120_000,
        maxBuffer: 1 << 28,
      });
    const tsv = (out: string) =>
      out
        .trimEnd()
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split("\t").map((v) => (v === "NULL" ? null : Number(v))));
    const cone = cli(CONE);
    assert.equal(cone.status, 0, cone.stderr);
    assert.deepEqual(
      rowSet(tsv(cone.stdout), false, 6),
      rowSet(ref.prepare(referenceSql(CONE)).raw(true).all() as unknown[][], false, 6),
    );
    const agg = cli(AGG);
    assert.equal(agg.status, 0, agg.stderr);
    assert.deepEqual(
      rowSet(tsv(agg.stdout), false, 6),
      rowSet(ref.prepare(AGG).raw(true).all() as unknown[][], false, 6),
    );
    const bad = cli("SELECT nope FROM Object");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /ERROR 1054 \(42S22\).*Unknown column 'nope'/);
    const big = cli(BIG);
    assert.equal(big.status, 0, big.stderr);
    assert.equal(big.stdout.trimEnd().split("\n").length, bigCount);

    // Ctrl-C: the client sends KILL QUERY on a second connection.
    const watcher = await connect();
    try {
      const p = spawn("mariadb", argv(SLOW));
      let stderr = "";
      let stdout = "";
      p.stderr.on("data", (d) => (stderr += d));
      p.stdout.on("data", (d) => (stdout += d));
      const until = Date.now() + 30_000;
      for (;;) {
        const [rows] = (await watcher.query("SHOW PROCESSLIST")) as unknown as [unknown[][]];
        if (rows.some((r) => r[7] === SLOW && !String(r[6]).startsWith("0/"))) break;
        assert.ok(Date.now() < until, "the mariadb client's query never seen running");
        await new Promise((r) => setTimeout(r, 20));
      }
      p.kill("SIGINT");
      await once(p, "exit");
      assert.match(stdout + stderr, /ERROR 1317 \(70100\)/);
      const [rows] = (await watcher.query("SHOW PROCESSLIST")) as unknown as [unknown[][]];
      assert.deepEqual(
        rows.filter((r) => /chunks$/.test(String(r[6]))),
        [],
        "no query left running",
      );
    } finally {
      await watcher.end();
    }
  });
});
