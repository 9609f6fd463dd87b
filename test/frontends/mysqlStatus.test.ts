/**
 * The stock `mariadb` client against a czar process: its `status` command answers whole; SHOW
 * PROCESSLIST lists the asking connection as MySQL does; the czar logs the real row count of a
 * query streamed over the MySQL protocol.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { postJson } from "../../src/cli/httpClient.js";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { tempDir } from "../support/fs.js";
import { ensureMysqlClients } from "../support/mysqlClients.js";
import { SYN_DATABASE_JSON, SYN_TABLE_JSON, writeObjects } from "../support/synthetic.js";
import { waitFor } from "../support/waitFor.js";

const missing = ensureMysqlClients();

describe("the mariadb client's status, SHOW PROCESSLIST, the czar's log", { skip: missing ?? false }, () => {
  const dir = tempDir();
  let worker: WorkerProcess;
  let czar: CzarProcess;
  const mariadb = (...args: string[]) =>
    spawnSync("mariadb", ["-h", "127.0.0.1", "-P", String(czar.mysqlPort), "-u", "qsmaster", ...args], {
      encoding: "utf8",
      timeout: 60_000,
    });

  before(async () => {
    worker = await startWorkerProcess(join(dir, "w1"));
    czar = await startCzarProcess(join(dir, "czar"), [`w1=${worker.address}`], ["--ingest-root", dir]);
    const file = join(dir, "objs.csv");
    writeObjects(file, 1, 1234);
    await postJson(`${czar.url}/ingest`, { database: SYN_DATABASE_JSON, table: SYN_TABLE_JSON, files: [file] });
  });
  after(async () => {
    await czar?.stop();
    await worker?.stop();
  });

  test("status: every line, no error; the character sets it asks for", () => {
    const r = mariadb("qsyn", "-e", "status");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    for (const line of [
      /Current database:\s+qsyn/,
      /Server characterset:\s+utf8mb4/,
      /Conn\.\s+characterset:\s+utf8mb4/,
    ]) {
      assert.match(r.stdout, line);
    }
    assert.match(r.stdout, /Threads: 1 {2}Questions: \d+/);
  });

  test("SHOW PROCESSLIST lists the asking connection; the czar logs a streamed query's real row count", async () => {
    const r = mariadb("qsyn", "--batch", "-e", "SHOW FULL PROCESSLIST; SELECT objectId FROM Obj");
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines[0], "Id\tUser\tHost\tdb\tCommand\tTime\tState\tInfo\tProgress");
    assert.match(
      lines[1] as string,
      /^\d+\tqsmaster\t127\.0\.0\.1:\d+\tqsyn\tQuery\t0\tstarting\tSHOW FULL PROCESSLIST\t0$/,
    );
    assert.equal(lines.length, 2 + 1 + 1234, "the processlist, then the objects' header and rows");
    const done = await waitFor("the query's log line", async () =>
      czar.logs.find((l) => l.msg === "query done" && l.rows === 1234),
    );
    assert.equal(done.rows, 1234);
  });
});
