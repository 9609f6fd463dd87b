/**
 * Memory on the remaining paths of issue 23, on a real cluster (up(): czar + 2 workers, the demo
 * catalog): distinct long `objectId IN (...)` lists answer as one SQLite database does while each
 * worker's peak RSS (VmHWM) grows less than KEYS_BOUND (they used to keep every chunk's compiled
 * copy of the whole list); rows gathered on the czar go to a scratch file under
 * DATA_DIR/spool, counted against `--spool-max-mb` (TOO_LARGE past it, though the answer limit
 * is far), removed when the query ends, and by the czar's restart when a dead czar left one.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type Database from "better-sqlite3";
import { postJson } from "../../src/cli/httpClient.js";
import { DEMO_DATABASE, loadDemo } from "../../src/cluster/demo.js";
import { type UpCluster, up } from "../../src/cluster/up.js";
import { isQservError } from "../../src/common/errors.js";
import { demoReference, expectedRows } from "../support/demo.js";
import { makeTempDir } from "../support/fs.js";
import { procStatus, resetPeak } from "../support/procStatus.js";
import { rowSet } from "../support/rows.js";

const OBJECTS = 5_000;
/** Distinct IN queries, and the growth of each worker's peak RSS they may cause. */
const IN_QUERIES = 4;
const KEYS_BOUND = 128 * 2 ** 20;

describe("memory: long key IN lists on the workers, gathered rows on disk", () => {
  const dir = makeTempDir();
  let cluster: UpCluster;
  let ref: Database.Database;
  const start = () =>
    up({
      dataDir: dir,
      workers: 2,
      replicas: 1,
      httpPort: 0,
      mysqlPort: 0,
      write: () => {},
      czarArgs: ["--spool-max-mb", "1"],
    });
  const query = (sql: string) => postJson(`${cluster.url}/query`, { query: sql, database: DEMO_DATABASE });
  const spool = join(dir, "czar", "spool");
  const spoolFiles = () => (existsSync(spool) ? readdirSync(spool) : []);

  before(async () => {
    cluster = await start();
    await loadDemo({ czarUrl: cluster.url, dataDir: join(dir, "demo"), objects: OBJECTS });
    ref = demoReference(join(dir, "demo"));
  });
  after(async () => {
    await cluster?.stop();
    ref?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("distinct long IN lists: exact answers, worker RSS bounded", async (t) => {
    const ids = (ref.prepare("SELECT objectId FROM Object").pluck().all() as Array<number | bigint>).map(String);
    assert.equal(ids.length, OBJECTS);
    const pids = cluster.workers.map((w) => cluster.node(w.id).proc.pid as number);
    // Every chunk's connection opened first: what is measured is the lists' own memory.
    assert.deepEqual((await query("SELECT COUNT(*) FROM Object WHERE objectId > 0")).rows, [[OBJECTS]]);
    for (const pid of pids) resetPeak(pid);
    const before = pids.map((pid) => procStatus(pid, "VmRSS"));
    for (let q = 0; q < IN_QUERIES; q++) {
      // Every object in a different order each time (distinct statements), and keys no row has.
      const keys = ids.map((_, i) => ids[(i * (2 * q + 3)) % ids.length]!);
      for (let i = 0; i < 1000; i++) keys.push(String(9e15 + q * 1000 + i));
      const sql = `SELECT objectId, ra FROM Object WHERE objectId IN (${keys.join(",")}) AND decl > ${q * 10 - 30}`;
      const got = (await query(sql)).rows as unknown[][];
      assert.deepEqual(rowSet(got, false, 9), expectedRows(ref, sql), `IN query ${q}`);
    }
    pids.forEach((pid, i) => {
      const growth = procStatus(pid, "VmHWM") - before[i]!;
      t.diagnostic(`worker ${i + 1}: peak RSS +${(growth / 2 ** 20).toFixed(1)} MiB`);
      assert.ok(growth < KEYS_BOUND, `worker ${i + 1}: peak RSS grew ${(growth / 2 ** 20).toFixed(0)} MiB`);
    });
  });

  test("gathered rows: in a scratch file within --spool-max-mb, removed at query end and at restart", async () => {
    // A join with no ON is gathered on the czar: both sides' rows in its scratch database.
    const small = "SELECT COUNT(*), SUM(o.objectId) FROM Object o JOIN Source s WHERE o.decl > 60 AND s.decl < -60";
    const got = await query(small);
    assert.deepEqual(rowSet(got.rows as unknown[][], false, 9), expectedRows(ref, small));
    assert.deepEqual(spoolFiles(), [], "the scratch file is removed at the query's end");
    // Past the spool limit (1 MiB) with an answer of one row: TOO_LARGE, nothing left behind.
    const wide =
      "SELECT COUNT(*) FROM Object o JOIN Source s WHERE o.ra < s.ra AND o.decl < s.decl AND o.objectId <> s.objectId AND s.sourceId + s.raObject + s.declObject > 0";
    await assert.rejects(query(wide), (e: unknown) => {
      assert.ok(isQservError(e) && e.code === "TOO_LARGE", String(e));
      assert.match(e.message, /gathered on the czar exceed the czar's spool limit of 1 MiB/);
      return true;
    });
    assert.deepEqual(spoolFiles(), []);
    assert.deepEqual((await query("SELECT COUNT(*) FROM Object")).rows, [[OBJECTS]], "the czar still answers");
    // What a czar that died left there goes when it starts again.
    writeFileSync(join(spool, "scratch-999999-0.sqlite"), "left by a dead czar");
    await cluster.stop();
    cluster = await start();
    assert.deepEqual(spoolFiles(), []);
    assert.deepEqual(rowSet((await query(small)).rows as unknown[][], false, 9), expectedRows(ref, small));
  });
});
