/**
 * One query never stalls the others (a czar and two workers as processes on loopback, case01):
 * a long statement is parsed and planned by a planner thread, so while it is held there (the
 * czar's test hold, MINI_QSERV_PLAN_HOLD) other clients' `SELECT 1` and point lookups over HTTP
 * and the MySQL port are answered; released, the long query's answer is the one SQLite gives.
 * Long texts that are not plain SELECTs, or are wrong, come back from the thread as inline ones do.
 * Short texts with many operators, and parts of composite queries whose text (with their
 * subqueries' rows) is long, are planned there too.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import mysql from "mysql2/promise";
import { toJsonValue } from "../../src/common/jsonValue.js";
import type { Value } from "../../src/common/rowCodec.js";
import { OFF_LOOP_TERMS, OFF_LOOP_TEXT } from "../../src/czar/plan/planPool.js";
import { tempDir } from "../support/fs.js";
import { SKIP_ITEST } from "../support/paths.js";
import { rowSet } from "../support/rows.js";
import { postQuery, type SmallCluster, startSmallCluster } from "../support/smallCluster.js";
import { waitFor } from "../support/waitFor.js";

describe("planning off the czar's event loop", { skip: SKIP_ITEST }, () => {
  const dir = tempDir();
  const hold = join(dir, "plan-hold");
  let c: SmallCluster;
  let conn: mysql.Connection;

  const reference = (sql: string) =>
    rowSet(
      (c.ref.prepare(sql).raw(true).safeIntegers(true).all() as Value[][]).map((r) => r.map(toJsonValue)),
      false,
      12,
    );
  const answered = async (sql: string) => {
    const r = await postQuery(c.czar.url, sql);
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    assert.deepEqual(rowSet(r.body.rows as never, false, 12), reference(sql), sql.slice(0, 80));
  };

  /**
   * Sends `sql` with planning held, checks that SELECT 1 (HTTP and MySQL) is answered while it is
   * held in a planner thread, releases it; its answer.
   */
  const heldInPlanning = async (sql: string) => {
    rmSync(`${hold}.reached`, { force: true });
    writeFileSync(hold, "");
    let settled = false;
    const r = postQuery(c.czar.url, sql).finally(() => {
      settled = true;
    });
    try {
      await waitFor("the query held in its planner thread", async () =>
        existsSync(`${hold}.reached`) ? true : undefined,
      );
      for (let i = 0; i < 3; i++) {
        assert.deepEqual((await postQuery(c.czar.url, "SELECT 1")).body.rows, [[1]]);
        const [rows] = await conn.query({ sql: "SELECT 1", rowsAsArray: true });
        assert.deepEqual(rows, [[1]]);
      }
      assert.equal(settled, false, "the query answered while held");
    } finally {
      rmSync(hold, { force: true });
    }
    return r;
  };

  before(async () => {
    process.env.MINI_QSERV_PLAN_HOLD = hold;
    c = await startSmallCluster(dir);
    conn = await mysql.createConnection({ host: "127.0.0.1", port: c.czar.mysqlPort, database: "qcase01" });
  });
  after(async () => {
    rmSync(hold, { force: true });
    await conn?.end();
    await c?.stop();
  });

  test("while a long query is held in planning, other clients are answered", async () => {
    const ids = (c.ref.prepare("SELECT objectId FROM Object").pluck().all() as number[]).map(String);
    // Every id and 2000 that match nothing: a long director-key IN list.
    const keys = [...ids, ...Array.from({ length: 2000 }, (_, i) => String(9_000_000_000 + i))];
    const heavy = `SELECT COUNT(*), SUM(objectId % 1000) FROM Object WHERE objectId IN (${keys.join(", ")})`;
    assert.ok(heavy.length >= OFF_LOOP_TEXT);
    writeFileSync(hold, "");
    let settled = false;
    const long = postQuery(c.czar.url, heavy).finally(() => {
      settled = true;
    });
    await waitFor("the long query held in its planner thread", async () =>
      existsSync(`${hold}.reached`) ? true : undefined,
    );
    const point = `SELECT objectId, ra_PS FROM Object WHERE objectId = ${ids[0]}`;
    for (let i = 0; i < 5; i++) {
      assert.deepEqual((await postQuery(c.czar.url, "SELECT 1")).body.rows, [[1]]);
      const [rows] = await conn.query({ sql: "SELECT 1", rowsAsArray: true });
      assert.deepEqual(rows, [[1]]);
      await answered(point);
      const [found] = await conn.query({ sql: point, rowsAsArray: true });
      assert.equal((found as unknown[][]).length, 1);
    }
    assert.equal(settled, false, "the long query answered while held");
    rmSync(hold);
    const r = await long;
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    const inList = heavy.slice(heavy.indexOf("WHERE"));
    assert.deepEqual(
      rowSet(r.body.rows as never, false, 12),
      reference(`SELECT COUNT(*), SUM(objectId % 1000) FROM Object ${inList}`),
    );
  });

  test("long texts of other kinds come back from the thread as inline ones do", async () => {
    // A SELECT without FROM, a query with a subquery (both run on the czar from the AST).
    await answered(`SELECT 1 + 1, '${"x".repeat(OFF_LOOP_TEXT)}'`);
    await answered(
      `SELECT COUNT(*) FROM Object WHERE objectId IN (SELECT objectId FROM Source WHERE ra > ${"0".repeat(5000)})`,
    );
    // A long text with an error: the same code and position as a short one.
    const pad = " ".repeat(OFF_LOOP_TEXT);
    const short = await postQuery(c.czar.url, "SELECT nosuch FROM Object");
    const long = await postQuery(c.czar.url, `SELECT nosuch FROM Object${pad}`);
    assert.equal(long.status, short.status);
    assert.deepEqual(long.body.error, short.body.error);
    type Err = { code: string; line: number; column: number };
    const bad = await postQuery(c.czar.url, "SELECT 1 FROM Object WHERE ) ");
    const badLong = await postQuery(c.czar.url, `SELECT 1 FROM Object WHERE${pad} ) `);
    assert.equal(badLong.status, bad.status);
    const [e, eLong] = [bad.body.error as Err, badLong.body.error as Err];
    assert.equal(eLong.code, e.code);
    assert.deepEqual([eLong.line, eLong.column], [e.line, e.column + OFF_LOOP_TEXT]);
  });

  test("a short text with many operators is planned in a thread", async () => {
    const chain = `SELECT objectId, ra_PS FROM Object WHERE objectId > 0${" * 1".repeat(2 * OFF_LOOP_TERMS)}`;
    assert.ok(chain.length < OFF_LOOP_TEXT);
    const r = await heldInPlanning(chain);
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    assert.deepEqual(rowSet(r.body.rows as never, false, 12), reference(chain));
  });

  test("a part of a composite query, long with its subquery's rows, is planned in a thread", async () => {
    // The statement is short (planned here); its outer part holds every objectId of Source.
    const sql = "SELECT COUNT(*), SUM(objectId % 1000) FROM Object WHERE objectId IN (SELECT objectId FROM Source)";
    assert.ok((c.ref.prepare("SELECT COUNT(DISTINCT objectId) FROM Source").pluck().get() as number) > OFF_LOOP_TERMS);
    const r = await heldInPlanning(sql);
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    assert.deepEqual(rowSet(r.body.rows as never, false, 12), reference(sql));
  });
});
