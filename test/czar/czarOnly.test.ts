/**
 * Answers the czar gives alone never wait for worker work (a czar and two workers as processes on
 * loopback, case01): with both workers SIGSTOPped and many queries of tables held on them (listed
 * running by SHOW PROCESSLIST), `SELECT 1`, system variables, SHOW, DESCRIBE, SET and USE are
 * answered over HTTP and the MySQL port (no query slot or lock is taken by them); the workers
 * resumed, the held queries give SQLite's answers.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mysql from "mysql2/promise";
import { tempDir } from "../support/fs.js";
import { SKIP_ITEST } from "../support/paths.js";
import { postQuery, type SmallCluster, startSmallCluster } from "../support/smallCluster.js";
import { waitFor } from "../support/waitFor.js";

describe("czar-only answers while the workers are held", { skip: SKIP_ITEST }, () => {
  const dir = tempDir();
  let c: SmallCluster;
  let conn: mysql.Connection;
  const resume = () => {
    for (const w of c?.workers ?? []) w.proc.kill("SIGCONT");
  };

  before(async () => {
    c = await startSmallCluster(dir);
    conn = await mysql.createConnection({ host: "127.0.0.1", port: c.czar.mysqlPort, database: "qcase01" });
  });
  after(async () => {
    resume();
    await conn?.end();
    await c?.stop();
  });

  test("SELECT 1, SHOW, DESCRIBE, SET and USE answer while 12 queries wait on stopped workers", async () => {
    const held = Array.from(
      { length: 12 },
      (_, i) => `SELECT COUNT(*), SUM(filterId) FROM Source WHERE filterId >= ${i % 4}`,
    );
    for (const w of c.workers) w.proc.kill("SIGSTOP");
    const answers = held.map((sql) => postQuery(c.czar.url, sql));
    try {
      await waitFor("the 12 queries running on the czar", async () => {
        const r = await postQuery(c.czar.url, "SHOW PROCESSLIST");
        const running = (r.body.rows as unknown[][]).filter((row) =>
          String(row[7] ?? "").startsWith("SELECT COUNT(*)"),
        );
        return running.length === held.length ? true : undefined;
      });
      for (let i = 0; i < 3; i++) {
        assert.deepEqual((await postQuery(c.czar.url, "SELECT 1")).body.rows, [[1]]);
        assert.deepEqual((await postQuery(c.czar.url, "SELECT 1 + 1, DATABASE()")).body.rows, [[2, "qcase01"]]);
        const [one] = await conn.query({ sql: "SELECT 1", rowsAsArray: true });
        assert.deepEqual(one, [[1]]);
        const [v] = await conn.query({ sql: "SELECT @@version_comment, DATABASE()", rowsAsArray: true });
        assert.deepEqual(v, [["mini-qserv", "qcase01"]]);
        const [tables] = await conn.query({ sql: "SHOW TABLES", rowsAsArray: true });
        assert.ok((tables as unknown[][]).some((r) => r[0] === "Source"));
        const [cols] = await conn.query({ sql: "DESCRIBE Object", rowsAsArray: true });
        assert.ok((cols as unknown[][]).some((r) => r[0] === "objectId"));
        await conn.query("SET NAMES utf8mb4");
        await conn.query("USE qcase01");
      }
    } finally {
      resume();
    }
    for (const [i, a] of answers.entries()) {
      const r = await a;
      assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
      const want = c.ref.prepare(held[i]!).raw(true).get() as number[];
      assert.deepEqual((r.body.rows as number[][])[0]!.map(Number), want.map(Number), held[i]);
    }
  });
});
