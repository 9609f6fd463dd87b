/**
 * A worker whose disk fills during ingest (issue 23), for real: worker w2's data dir is a small
 * tmpfs (skipped, with the reason, where mounting is not permitted), two worker processes, R = 2.
 * A load larger than w2's disk fails with an error naming w2 and the full disk; no stage is left
 * on either worker and w2's disk is free again; the next load succeeds and answers exactly.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isQservError } from "../../src/common/errors.js";
import { Czar } from "../../src/czar/czar.js";
import { DatabaseLocks } from "../../src/czar/databaseLocks.js";
import { ingestTable } from "../../src/czar/ingest.js";
import { startCluster, type TestCluster } from "../support/cluster.js";
import { makeTempDir } from "../support/fs.js";
import { synDatabase, synTable, writeObjects } from "../support/synthetic.js";

/** w2's disk: the worker's own files fit, a load of BIG rows does not. */
const DISK_MB = 4;
const BIG = 150_000;
const SMALL = 3_000;

describe("a worker whose disk fills during ingest", () => {
  const dir = makeTempDir();
  const w2 = join(dir, "w2");
  let mounted = "";
  let cluster: TestCluster | undefined;
  let czar: Czar;
  const database = synDatabase();
  const table = synTable();
  const ingest = (f: string) => ingestTable(cluster!.ctx, { database, table, files: [f] });
  const freeBytes = () => {
    const s = statfsSync(w2);
    return s.bfree * s.bsize;
  };

  before(async () => {
    mkdirSync(w2, { recursive: true });
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${DISK_MB}m`, "tmpfs", w2], { encoding: "utf8" });
    if (m.status !== 0) {
      mounted = `mount -t tmpfs is not permitted here: ${(m.stderr || m.error?.message || "").trim()}`;
      return;
    }
    cluster = await startCluster(dir, 2, 2);
    const locks = new DatabaseLocks();
    cluster.ctx.locks = locks;
    const meta = cluster.ctx.meta;
    czar = new Czar({
      catalog: meta,
      directory: { replicas: (db, c) => meta.replicas(db, c), client: (id) => cluster!.client(id) },
      locks,
    });
  });
  after(async () => {
    await cluster?.stop();
    if (mounted === "") spawnSync("umount", ["-l", w2]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("the load fails naming the worker and ENOSPC, leaves no stage, and the next load succeeds", async (t) => {
    if (mounted !== "") {
      t.skip(mounted);
      return;
    }
    const freeBefore = freeBytes();
    const big = join(dir, "big.csv");
    writeObjects(big, 1, BIG);
    await assert.rejects(ingest(big), (e: unknown) => {
      assert.ok(isQservError(e), String(e));
      assert.match(e.message, /worker w2/, e.message);
      assert.match(e.message, /ENOSPC/, e.message);
      return true;
    });
    // The failing load dropped its stages: none left, w2's disk free again.
    for (const w of ["w1", "w2"]) {
      const held = (await cluster!.client(w).list("qsyn")).databases[0];
      assert.deepEqual(held?.staged ?? [], [], `stages left on ${w}`);
    }
    assert.ok(freeBytes() >= freeBefore - 256 * 1024, `w2 free: ${freeBytes()} of ${freeBefore} before the load`);

    const small = join(dir, "small.csv");
    writeObjects(small, 1_000_001, SMALL);
    const r = await ingest(small);
    assert.equal(r.tableRows, SMALL);
    const a = await czar.execute("SELECT COUNT(*), SUM(objectId) FROM Obj", { database: "qsyn" });
    const sum = (BigInt(SMALL) * (2n * 1_000_001n + BigInt(SMALL) - 1n)) / 2n;
    assert.deepEqual(
      a.rows.map((row) => row.map(String)),
      [[String(SMALL), String(sum)]],
    );
    const meta = cluster!.ctx.meta;
    for (const c of meta.tableChunks("qsyn", "Obj")) {
      assert.deepEqual([...meta.replicas("qsyn", c)].sort(), ["w1", "w2"], `chunk ${c} on both workers`);
    }
  });
});
