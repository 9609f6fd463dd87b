/**
 * `mini-qserv up` on a data dir whose recorded worker port another process has taken since: the
 * worker moves to a free port (said in the log, recorded in cluster.json) and keeps its data.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { postJson, postUpload } from "../../src/cli/httpClient.js";
import { tempDir } from "../support/fs.js";
import { SYN_DATABASE_JSON, SYN_TABLE_JSON, writeObjects } from "../support/synthetic.js";
import { startUp } from "../support/upProcess.js";

async function stop(proc: ChildProcess): Promise<void> {
  proc.kill("SIGINT");
  const [code] = await once(proc, "exit");
  assert.equal(code, 0, "up stops cleanly");
}

test("up on a data dir whose worker port is taken: a new port, said and recorded; the data is there", async () => {
  const dir = tempDir();
  const args = ["--data-dir", dir, "--http-port", "0", "--mysql-port", "0", "--workers", "1"];
  const first = await startUp(args);
  const file = join(dir, "objs.csv");
  writeObjects(file, 1, 500);
  try {
    const r = await postUpload(
      `${first.url}/ingest`,
      { database: SYN_DATABASE_JSON, table: SYN_TABLE_JSON },
      [file],
      () => {},
    );
    assert.equal(r.rows, 500);
  } finally {
    await stop(first.proc);
  }
  const recorded = () =>
    (JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8")) as { workers: Array<{ port: number }> }).workers[0]
      ?.port as number;
  const old = recorded();
  // Another process takes w1's port.
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(old, "127.0.0.1", resolve));
  try {
    const second = await startUp(args);
    try {
      const log = second.out.join("\n");
      assert.match(log, new RegExp(`w1's port ${old} \\(recorded in .*cluster\\.json\\) is taken by another process`));
      assert.doesNotMatch(second.err.join(""), /\n\s+at /, "no stack trace");
      assert.notEqual(recorded(), old);
      const q = await postJson(`${second.url}/query`, { query: "SELECT COUNT(*) FROM Obj", database: "qsyn" });
      assert.deepEqual(q.rows, [[500]]);
    } finally {
      await stop(second.proc);
    }
  } finally {
    squatter.close();
  }
});
