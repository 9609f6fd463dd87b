/**
 * `mini-qserv czar --watch DIR`: the czar loads the files itself (read where they are), shows them
 * in `GET /watch`, and after a restart goes over the same directory without loading anything again.
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import type { WatchSnapshot } from "../../src/watch/snapshot.js";
import { tempDir } from "../support/fs.js";
import { SYN_DATABASE_JSON, SYN_TABLE_JSON, writeObjects } from "../support/synthetic.js";
import { waitFor } from "../support/waitFor.js";

const dir = tempDir();
const inbox = join(dir, "inbox");
let worker: WorkerProcess;
let czar: CzarProcess;

const startCzar = async () => {
  czar = await startCzarProcess(
    join(dir, "czar"),
    [`w1=${worker.address}`],
    ["--watch", inbox, "--watch-rules", join(dir, "rules.json"), "--watch-scan-interval", "0.05"],
  );
};

async function watched(since = ""): Promise<WatchSnapshot | undefined> {
  const r = await fetch(`${czar.url}/watch`);
  const w = ((await r.json()) as { watchers: WatchSnapshot[] }).watchers[0];
  return w !== undefined && w.updatedAt > since ? w : undefined;
}

async function query(sql: string): Promise<unknown[][]> {
  const r = await fetch(`${czar.url}/query`, {
    method: "POST",
    body: JSON.stringify({ query: sql, database: "qsyn" }),
  });
  return ((await r.json()) as { rows: unknown[][] }).rows;
}

before(async () => {
  mkdirSync(inbox);
  writeFileSync(join(dir, "database.json"), JSON.stringify(SYN_DATABASE_JSON));
  writeFileSync(join(dir, "Obj.json"), JSON.stringify(SYN_TABLE_JSON));
  writeFileSync(
    join(dir, "rules.json"),
    JSON.stringify({ rules: [{ pattern: "*.csv", database: "database.json", table: "Obj.json" }] }),
  );
  worker = await startWorkerProcess(join(dir, "w1"));
  await startCzar();
});

after(async () => {
  await czar?.stop();
  await worker?.stop();
});

test("the czar's own watcher: loaded once, the bad file parked, nothing again after a restart", async () => {
  writeObjects(join(inbox, "a.csv"), 1, 300, "", 3);
  writeFileSync(join(inbox, "a.csv.done"), "");
  writeFileSync(join(inbox, "b.csv"), "1,2,3\n"); // three fields where the table has four
  writeFileSync(join(inbox, "b.csv.done"), "");
  copyFileSync(join(inbox, "a.csv"), join(inbox, "a-again.csv"));
  writeFileSync(join(inbox, "notes.txt"), "no rule takes this name\n");
  writeFileSync(join(inbox, "notes.txt.done"), "");
  const w = await waitFor("the files done", async () => {
    const s = await watched();
    const c = s?.counts;
    return c !== undefined && c.loaded === 1 && c.rejected === 2 && c.duplicate === 1 ? s : undefined;
  });
  assert.match(w.id, /^czar:/);
  const a = w.files.find((f) => f.name === "a.csv");
  assert.equal(a?.rows, 300);
  assert.equal(w.files.find((f) => f.name === "a-again.csv")?.duplicateOf, "a.csv");
  assert.deepEqual(await query("SELECT COUNT(*), COUNT(DISTINCT objectId) FROM Obj"), [[300, 300]]);
  assert.match(readFileSync(join(inbox, "rejected", "b.csv.reason"), "utf8"), /b\.csv:1/);
  assert.match(readFileSync(join(inbox, "rejected", "notes.txt.reason"), "utf8"), /no rule matches/);
  assert.equal(existsSync(join(inbox, "b.csv")), false);

  const restartedAt = new Date().toISOString();
  await czar.stop();
  await startCzar();
  const again = await waitFor("the restarted czar's watcher", () => watched(restartedAt));
  assert.deepEqual(again.counts, { ...w.counts, incomplete: 0 });
  assert.equal(again.files.find((f) => f.name === "a.csv")?.loadId, a?.loadId);
  const loads = (await (await fetch(`${czar.url}/loads`)).json()) as { loads: unknown[] };
  assert.equal(loads.loads.length, 1);
  assert.deepEqual(await query("SELECT COUNT(*) FROM Obj"), [[300]]);
});
