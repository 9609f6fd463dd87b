/**
 * Qserv's async forms on the MySQL port (mysql2) and POST /query, against a real czar and worker
 * on loopback: SUBMIT SELECT answers a job id, SELECT * FROM qserv_result(id) the job's rows
 * (checked against one SQLite database holding the same rows; refused while the job runs, as
 * Qserv does), CANCEL stops it. The job is the TAP async job of the same id (/tap/async) and is
 * in SHOW PROCESSLIST while it runs. A query held running sits on a worker halted at the test
 * point worker:query, so no step depends on timing.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type Database from "better-sqlite3";
import mysql from "mysql2/promise";
import { generateCatalog } from "../../bench/generate.js";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { HALT_ENV } from "../../src/common/haltPoint.js";
import type { Value } from "../../src/common/rowCodec.js";
import { WorkerClient } from "../../src/worker/client.js";
import { makeTempDir } from "../support/fs.js";
import { ingestObjects } from "../support/objectTable.js";
import { waitFor } from "../support/waitFor.js";

describe("Qserv async queries: SUBMIT, qserv_result, CANCEL over the MySQL protocol", () => {
  const dir = makeTempDir();
  let worker: WorkerProcess;
  let czar: CzarProcess;
  let ref: Database.Database;
  let conn: mysql.Connection;

  before(async () => {
    const cat = await generateCatalog({
      outDir: join(dir, "catalog"),
      objects: 1500,
      sourcesPerObject: 0,
      database: "demo",
      numStripes: 3,
      numSubStripes: 3,
      overlap: 0.01667,
    });
    worker = await startWorkerProcess(join(dir, "w1"), ["--threads", "1"]);
    czar = await startCzarProcess(join(dir, "czar"), [`w1=${worker.address}`], ["--ingest-root", dir]);
    ref = await ingestObjects(czar.url, cat);
    conn = await mysql.createConnection({
      host: "127.0.0.1",
      port: czar.mysqlPort,
      user: "qsmaster",
      rowsAsArray: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
  });
  after(async () => {
    await conn?.end();
    await czar?.stop("SIGTERM");
    await worker?.stop("SIGTERM");
    ref?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rowsOf = async (sql: string) => (await conn.query(sql))[0] as unknown[][];
  const refRows = (sql: string) => ref.prepare(sql).raw(true).safeIntegers(true).all() as Value[][];
  const phase = async (id: string) => (await fetch(`${czar.url}/tap/async/${id}/phase`)).text();
  const refused = async (sql: string, re: RegExp) => {
    await assert.rejects(conn.query(sql), (e: Error) => {
      assert.match(e.message, re);
      return true;
    });
  };
  /** qserv_result once the job has ended (refused as still executing until then). */
  const result = (id: string) =>
    waitFor("the job's result", async () => {
      try {
        return await rowsOf(`SELECT * FROM qserv_result(${id})`);
      } catch (e) {
        assert.match((e as Error).message, /still executing/);
        return undefined;
      }
    });

  test("SUBMIT answers a job id; qserv_result its rows, equal to SQLite's; the same job under /tap/async", async () => {
    await conn.query("USE demo");
    const [submitted, fields] = await conn.query(
      "SUBMIT SELECT objectId, ra, decl, uFlux FROM Object WHERE decl > 0 ORDER BY objectId",
    );
    assert.equal((fields as mysql.FieldPacket[])[0]!.name, "jobId");
    const id = String((submitted as unknown[][])[0]![0]);
    assert.match(id, /^\d+$/);
    const got = await result(id);
    const want = refRows("SELECT objectId, ra, decl, uFlux FROM Object WHERE decl > 0 ORDER BY objectId");
    assert.ok(want.length > 100);
    assert.deepEqual(
      got.map((r) => r.map((v) => (v === null ? null : String(v)))),
      want.map((r) => r.map((v) => (v === null ? null : typeof v === "bigint" ? String(v) : String(Number(v))))),
    );
    assert.equal(await phase(id), "COMPLETED");
    // Read again: the result stays until the job's destruction.
    assert.equal((await rowsOf(`SELECT * FROM qserv_result(${id})`)).length, want.length);

    // Strings with the JSON result's own punctuation, NULL, 64-bit ids: read back as they were.
    const [tricky] = await conn.query(
      `SUBMIT SELECT objectId, CONCAT('a,"]\\\\[', objectId) AS s, NULL AS n FROM Object ORDER BY objectId LIMIT 3`,
    );
    const trickyRows = await result(String((tricky as unknown[][])[0]![0]));
    const ids = refRows("SELECT objectId FROM Object ORDER BY objectId LIMIT 3").map((r) => String(r[0]));
    assert.deepEqual(
      trickyRows.map((r) => r.map((v) => (v === null ? null : String(v)))),
      ids.map((i) => [i, `a,"]\\[${i}`, null]),
    );

    // POST /query takes the same forms.
    const post = async (query: string) => {
      const r = await fetch(`${czar.url}/query`, { method: "POST", body: JSON.stringify({ query, database: "demo" }) });
      return { status: r.status, body: (await r.json()) as { columns: Array<{ name: string }>; rows: unknown[][] } };
    };
    const s = await post("SUBMIT SELECT COUNT(*) AS n FROM Object");
    assert.equal(s.status, 200);
    assert.equal(s.body.columns[0]!.name, "jobId");
    const countId = String(s.body.rows[0]![0]);
    const counted = await result(countId);
    assert.deepEqual(
      counted.map((r) => String(r[0])),
      [String(refRows("SELECT COUNT(*) FROM Object")[0]![0])],
    );
    assert.deepEqual(
      (await post(`SELECT * FROM qserv_result(${countId})`)).body.rows.map((r) => String(r[0])),
      [String(counted[0]![0])],
    );

    // Refused: unknown ids, qserv_result other than as SELECT *, a failed job's result.
    await refused("SELECT * FROM qserv_result(123)", /No job found for ID=123/);
    await refused(
      `SELECT objectId FROM qserv_result(${id})`,
      /qserv_result\(\.\.\.\) other than as SELECT \* FROM qserv_result\(<id>\) is not supported at line 1/,
    );
    await refused("SUBMIT SHOW TABLES", /SELECT after SUBMIT/);
    await refused(`CANCEL ${id}`, /not running \(COMPLETED\)/);
    const [bad] = await conn.query("SUBMIT SELECT nope FROM Object");
    const badId = String((bad as unknown[][])[0]![0]);
    await waitFor("the bad job fails", async () => ((await phase(badId)) === "ERROR" ? true : undefined));
    await refused(`SELECT * FROM qserv_result(${badId})`, /failed: .*nope/);
  });

  test("a running job: in SHOW PROCESSLIST and EXECUTING, qserv_result refused, CANCEL aborts its chunk queries", async () => {
    // The worker held at worker:query: chunk queries stay running until cancelled.
    const port = worker.address.split(":")[1]!;
    await worker.stop("SIGTERM");
    worker = await startWorkerProcess(join(dir, "w1"), ["--threads", "1", "--port", port], {
      env: { [HALT_ENV]: "worker:query" },
    });
    const client = new WorkerClient(worker.address);
    try {
      const running = () => client.status().then((s) => s.running.length);
      const [submitted] = await conn.query("SUBMIT SELECT COUNT(*) FROM demo.Object");
      const id = String((submitted as unknown[][])[0]![0]);
      await waitFor("the job executing on the worker", async () =>
        (await phase(id)) === "EXECUTING" && (await running()) > 0 ? true : undefined,
      );
      const list = await rowsOf("SHOW FULL PROCESSLIST");
      assert.ok(
        list.some((r) => String(r[7]).includes("COUNT(*)") && String(r[7]).includes("demo")),
        JSON.stringify(list),
      );
      await refused(`SELECT * FROM qserv_result(${id})`, /still executing/);
      await conn.query(`CANCEL ${id}`);
      await waitFor("the job aborted", async () => ((await phase(id)) === "ABORTED" ? true : undefined));
      await waitFor("no chunk query left on the worker", async () => ((await running()) === 0 ? true : undefined));
      await refused(`SELECT * FROM qserv_result(${id})`, /ABORTED/);
    } finally {
      client.close();
    }
  });
});
