/**
 * Users on the czar's HTTP API and MySQL port, against real processes on loopback: a users file
 * written by `mini-qserv user add`, a worker and a czar sharing a cluster secret (from the
 * environment), case01's Object ingested by a writer through the CLI. Without credentials every
 * route is refused (401), a reader may query but not ingest, collect or replicate (403), user A's
 * running query is invisible to user B and B cannot kill it (HTTP and MySQL), an admin sees and
 * kills it; failed HTTP logins lock the address out for MySQL logins too (one throttle).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import http from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import mysql from "mysql2/promise";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { loadDatabaseConfig, loadTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { tempDir } from "../support/fs.js";
import { CLI, ITEST, SKIP_ITEST } from "../support/paths.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { waitFor } from "../support/waitFor.js";

const DATA = join(ITEST, "case01", "data");
const USERS = { alice: "reader", bob: "reader", wendy: "writer", ada: "admin" } as const;
type Name = keyof typeof USERS;
const passwordOf = (u: Name) => `pw-of-${u}-0123`;
const SECRET = "a-cluster-secret-for-this-test-only";

/** `mini-qserv ARGS` with extra environment; its exit status and output. */
function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** One HTTP request as `who` (none: no credentials; a string: that raw password for alice). */
function request(
  url: string,
  method: string,
  path: string,
  body: unknown,
  who?: Name | { user: string; password: string },
  localAddress = "127.0.0.1",
): Promise<Reply> {
  const cred = typeof who === "string" ? { user: who, password: passwordOf(who) } : who;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (cred !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${cred.user}:${cred.password}`).toString("base64")}`;
  }
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method, headers, localAddress }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () => {
        const text = Buffer.concat(parts).toString("utf8");
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = { text };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const errorCode = (r: Reply) => (r.body.error as { code?: string } | undefined)?.code;

describe("users and roles on the czar (HTTP Basic, MySQL logins)", { skip: SKIP_ITEST }, () => {
  const dir = tempDir();
  const usersFile = join(dir, "users.json");
  let worker: WorkerProcess;
  let czar: CzarProcess;
  const ref = referenceDb();
  const q = (query: string, who?: Name) => request(czar.url, "POST", "/query", { query, database: "qcase01" }, who);
  const mysqlAs = (who: Name, password = passwordOf(who)) =>
    mysql.createConnection({ host: "127.0.0.1", port: czar.mysqlPort, user: who, password, database: "qcase01" });

  before(async () => {
    for (const [user, role] of Object.entries(USERS)) {
      const r = cli(["user", "add", user, "--users-file", usersFile, "--role", role], {
        MINI_QSERV_PASSWORD: passwordOf(user as Name),
      });
      assert.equal(r.status, 0, r.stderr);
    }
    const env = { MINI_QSERV_CLUSTER_SECRET: SECRET };
    worker = await startWorkerProcess(join(dir, "w1"), [], { env });
    // No hedging, no probes: a query on the stopped worker stays running until killed.
    czar = await startCzarProcess(
      join(dir, "czar"),
      [`w1=${worker.address}`],
      ["--users-file", usersFile, "--hedge-after", "0", "--health-interval", "0", "--login-max-failures", "3"],
      { env },
    );
    // A writer ingests through the CLI, which sends the credentials it is given.
    const file = join(DATA, "Object.tsv.gz");
    const table = join(DATA, "ingest", "Object.json");
    const dbCfg = join(DATA, "ingest", "database.json");
    const args = ["ingest", "--czar", czar.url, "--database", dbCfg, "--table", table];
    const r = cli(["--user", "wendy", ...args, file], { MINI_QSERV_PASSWORD: passwordOf("wendy") });
    assert.equal(r.status, 0, r.stderr);
    const cfg = loadTableConfig(table);
    const db = loadDatabaseConfig(dbCfg);
    loadReference(ref, file, cfg, tableDialect(cfg, file), {
      numStripes: db.numStripes,
      numSubStripes: db.numSubStripes,
    });
  });
  after(async () => {
    worker?.proc.kill("SIGCONT");
    await czar?.stop();
    await worker?.stop();
  });

  test("without valid credentials every route is refused with 401 and a Basic challenge", async () => {
    for (const [method, path, body] of [
      ["POST", "/query", { query: "SELECT 1" }],
      ["GET", "/status", undefined],
      ["POST", "/ingest", {}],
      ["POST", "/gc", {}],
      ["GET", "/tap/tables", undefined],
    ] as const) {
      for (const who of [undefined, { user: "alice", password: "wrong" }, { user: "nobody", password: "x" }]) {
        const r = await request(czar.url, method, path, body, who, "127.0.0.2");
        assert.equal(r.status, 401, `${method} ${path} as ${JSON.stringify(who)}`);
        assert.match(String(r.headers["www-authenticate"]), /^Basic /);
      }
    }
    // The CLI without a user is refused too (exit 2, the code named).
    const r = cli(["query", "--czar", czar.url, "SELECT 1"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /UNAUTHENTICATED/);
  });

  test("a reader queries (the same rows as SQLite) but may not ingest, replicate or collect", async () => {
    const sql = "SELECT COUNT(*), SUM(objectId) FROM Object";
    const r = await q(sql, "alice");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const want = (ref.prepare(sql).raw(true).safeIntegers(true).get() as bigint[]).map(String);
    assert.deepEqual((r.body.rows as unknown[][])[0]!.map(String), want);
    for (const path of ["/ingest", "/replicate", "/gc"]) {
      const denied = await request(czar.url, "POST", path, {}, "alice");
      assert.equal(denied.status, 403, path);
      assert.equal(errorCode(denied), "FORBIDDEN");
    }
    const ok = cli(["--user", "alice", "query", "--czar", czar.url, "--database", "qcase01", sql], {
      MINI_QSERV_PASSWORD: passwordOf("alice"),
    });
    assert.equal(ok.status, 0, ok.stderr);
    // The same users log in on the MySQL port; a wrong password is refused.
    const c = await mysqlAs("alice");
    const [rows] = (await c.query("SELECT COUNT(*) AS n FROM Object")) as unknown as [Array<{ n: number }>];
    assert.equal(String(rows[0]!.n), want[0]);
    // Nor drop, over either front end; the table is still there.
    await assert.rejects(c.query("DROP TABLE Object"), /may not drop: it needs the writer role/);
    await c.end();
    const drop = await q("DROP TABLE Object", "alice");
    assert.equal(drop.status, 403, JSON.stringify(drop.body));
    assert.equal(errorCode(drop), "FORBIDDEN");
    assert.equal((await q(sql, "alice")).status, 200);
    await assert.rejects(mysqlAs("alice", "wrong"), (e: { errno?: number }) => e.errno === 1045);
  });

  test("user A's running query: B neither sees nor kills it (HTTP and MySQL); an admin does both", async () => {
    worker.proc.kill("SIGSTOP");
    const running = q("SELECT COUNT(*) FROM Object WHERE ra_PS > 0", "alice");
    const ids = async (who: Name): Promise<number[]> => {
      const r = await q("SHOW PROCESSLIST", who);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return (r.body.rows as unknown[][]).map((x) => Number(x[0]));
    };
    const id = await waitFor("alice's query running", async () => (await ids("alice"))[0]);
    assert.deepEqual(await ids("bob"), []);
    const status = await request(czar.url, "GET", "/status", undefined, "bob");
    assert.deepEqual(status.body.queries, []);
    const killed = await q(`KILL QUERY ${id}`, "bob");
    assert.equal(killed.status, 403);
    assert.match(JSON.stringify(killed.body), /not owner of thread/);
    const bob = await mysqlAs("bob");
    await assert.rejects(bob.query(`KILL QUERY ${id}`), (e: { errno?: number }) => e.errno === 1095);
    await bob.end();
    // Still running: bob's attempts did nothing.
    assert.deepEqual(await ids("alice"), [id]);
    assert.deepEqual(await ids("ada"), [id]);
    const ada = await mysqlAs("ada");
    await ada.query(`KILL QUERY ${id}`);
    await ada.end();
    const r = await running;
    assert.equal(errorCode(r), "CANCELLED", JSON.stringify(r.body));
    worker.proc.kill("SIGCONT");
  });

  test("failed HTTP logins lock the address out, for MySQL logins too (one throttle)", async () => {
    const from = "127.0.0.9";
    for (let i = 0; i < 3; i++) {
      const r = await request(czar.url, "GET", "/status", undefined, { user: "ada", password: "nope" }, from);
      assert.equal(r.status, 401);
    }
    const locked = await request(czar.url, "GET", "/status", undefined, "ada", from);
    assert.equal(locked.status, 401);
    assert.match(JSON.stringify(locked.body), /too many failed logins/);
    const { connect } = await import("node:net");
    await assert.rejects(
      mysql.createConnection({
        user: "ada",
        password: passwordOf("ada"),
        stream: connect({ host: "127.0.0.1", port: czar.mysqlPort, localAddress: from }),
      }),
      (e: { errno?: number }) => e.errno === 1129,
    );
    // Another address is not affected.
    assert.equal((await request(czar.url, "GET", "/status", undefined, "ada")).status, 200);
  });
});
