/**
 * Replicas survive workers: a czar process over three worker processes (2 replicas, automatic
 * repair off so the test drives it) holding case01. A worker replaced by an empty one on the same
 * address gets copies until every chunk has two live replicas again (`mini-qserv replicate`,
 * visible in `mini-qserv status`); then another worker dies and every query still answers as
 * the single reference database. A worker restarted with its data rejoins without copies.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { loadDatabaseConfig, loadTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { toJsonValue } from "../../src/common/jsonValue.js";
import type { Value } from "../../src/common/rowCodec.js";
import type { clusterStatus } from "../../src/czar/clusterStatus.js";
import type { RepairReport } from "../../src/czar/replication.js";
import { WorkerClient } from "../../src/worker/client.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/fs.js";
import { ITEST, SKIP_ITEST } from "../support/paths.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { rowSet } from "../support/rows.js";
import { waitFor } from "../support/waitFor.js";

const DATA = join(ITEST, "case01", "data");
type Status = Awaited<ReturnType<typeof clusterStatus>>;

const QUERIES = [
  "SELECT objectId, ra_PS, decl_PS FROM Object",
  "SELECT COUNT(*) AS n, MIN(objectId), MAX(decl_PS) FROM Object",
  "SELECT o.objectId, COUNT(*), SUM(s.psfFlux) FROM Object o JOIN Source s USING (objectId) GROUP BY o.objectId",
  "SELECT s.filterId, f.filterName, COUNT(*) FROM Source s JOIN Filter f USING (filterId) GROUP BY s.filterId, f.filterName",
];

describe("replica repair over worker processes (case01, 2 replicas)", { skip: SKIP_ITEST }, () => {
  const dir = tempDir();
  const workers: WorkerProcess[] = [];
  let czar: CzarProcess;
  const ref = referenceDb();
  const dbCfg = join(DATA, "ingest", "database.json");
  const db = loadDatabaseConfig(dbCfg);
  const port = (w: WorkerProcess) => w.address.split(":")[1]!;
  const startWorker = (i: number, p = "0") =>
    startWorkerProcess(join(dir, `w${i + 1}`), ["--threads", "2", "--port", p]);

  const status = async (): Promise<Status> => (await (await fetch(`${czar.url}/status`)).json()) as Status;
  const replicate = async (): Promise<RepairReport> => {
    const r = await fetch(`${czar.url}/replicate`, { method: "POST" });
    assert.equal(r.status, 200);
    return (await r.json()) as RepairReport;
  };
  const ingest = async (t: string) => {
    const file = join(DATA, `${t}.tsv.gz`);
    const table = join(DATA, "ingest", `${t}.json`);
    const json = (f: string) => JSON.parse(readFileSync(f, "utf8")) as unknown;
    const body = { database: json(dbCfg), table: json(table), files: [file] };
    const r = await fetch(`${czar.url}/ingest`, { method: "POST", body: JSON.stringify(body) });
    assert.equal(r.status, 200, await r.text());
    const cfg = loadTableConfig(table);
    loadReference(ref, file, cfg, tableDialect(cfg, file), db);
  };
  const answersAsReference = async () => {
    for (const sql of QUERIES) {
      const res = await fetch(`${czar.url}/query`, {
        method: "POST",
        body: JSON.stringify({ query: sql, database: "qcase01" }),
      });
      const body = (await res.json()) as { rows: Array<Array<number | string | null>> };
      assert.equal(res.status, 200, JSON.stringify(body));
      const want = (ref.prepare(sql).raw(true).safeIntegers(true).all() as Value[][]).map((r) => r.map(toJsonValue));
      assert.ok(want.length > 0);
      assert.deepEqual(rowSet(body.rows, false, 12), rowSet(want, false, 12), sql);
    }
  };
  const allOnTwo = (s: Status) => {
    const d = s.databases[0]!;
    assert.deepEqual(d.replicas, { target: 2, histogram: { 2: d.chunks }, underReplicated: [] });
    assert.deepEqual(d.replicatedTables, { liveCopies: 3, liveWorkers: 3 });
  };

  before(async () => {
    for (let i = 0; i < 3; i++) workers.push(await startWorker(i));
    czar = await startCzarProcess(
      join(dir, "czar"),
      workers.map((w, i) => `w${i + 1}=${w.address}`),
      ["--replicas", "2", "--repair-interval", "0", "--health-interval", "0", "--ingest-root", DATA],
    );
    await ingest("Object");
    await Promise.all([ingest("Source"), ingest("Filter")]);
  });
  after(async () => {
    await czar.stop();
    for (const w of workers) await w.stop();
  });

  test("status: three workers up, every chunk on two live replicas, replicated tables everywhere", async () => {
    const s = await status();
    assert.deepEqual(
      s.workers.map((w) => [w.id, w.up]),
      [
        ["w1", true],
        ["w2", true],
        ["w3", true],
      ],
    );
    assert.ok(s.databases[0]!.chunks > 0);
    allOnTwo(s);
  });

  test("a worker replaced by an empty one: `replicate` copies until every chunk has two live replicas", async (t) => {
    const p = port(workers[1]!);
    await workers[1]!.stop("SIGKILL");
    rmSync(join(dir, "w2"), { recursive: true, force: true });
    workers[1] = await startWorker(1, p);

    const before = await status();
    const w2 = before.workers.find((w) => w.id === "w2")!;
    assert.equal(w2.up, true);
    assert.equal(w2.chunks, 0);
    const d = before.databases[0]!;
    const under = d.replicas.histogram[1] ?? 0;
    assert.ok(under > 0, JSON.stringify(d.replicas));
    assert.equal(d.replicas.underReplicated.length, under);
    assert.deepEqual(d.replicatedTables, { liveCopies: 2, liveWorkers: 3 });
    const shown = runCli(["status", "--czar", czar.url]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^Workers: 3 of 3 up$/m);
    assert.match(shown.stdout, new RegExp(`^ {4}under-replicated: ${d.replicas.underReplicated.join(" ")}$`, "m"));
    await answersAsReference(); // the replacement's missing chunks are answered by their other replica

    const cli = runCli(["replicate", "--czar", czar.url]);
    assert.equal(cli.status, 0, cli.stderr + cli.stdout);
    assert.match(cli.stdout, /^copied +chunk \d+ of qcase01: w[13] → w2 \(\d+ bytes, \d+ ms\)$/m);
    const s = await status();
    const report = s.repair.lastPass!;
    const bytes = report.copied.reduce((n, c) => n + c.bytes, 0);
    t.diagnostic(
      `re-replicated ${report.copied.length} chunk files, ${bytes} bytes, in ${Math.round(report.elapsedMs)} ms`,
    );
    assert.match(cli.stdout, new RegExp(`^${report.copied.length} copied \\(${bytes} bytes\\), 0 adopted, `, "m"));
    assert.deepEqual([report.failed, report.unavailable], [[], []]);
    assert.equal(report.copied.length, under + 1);
    assert.ok(
      report.copied.some((c) => c.chunkId === -1 && c.to === "w2"),
      "the replicated tables went to w2",
    );
    assert.ok(report.dropped.every((x) => x.worker === "w2"));
    allOnTwo(s);
    assert.ok(s.workers.find((w) => w.id === "w2")!.chunks > 0);
    const again = await replicate();
    assert.deepEqual([again.copied, again.dropped, again.adopted], [[], [], []], "a second pass has nothing to do");
  });

  test("then another worker killed: every query still answers as the reference", async () => {
    await workers[0]!.stop("SIGKILL");
    await answersAsReference();
    const s = await status();
    assert.equal(s.workers.find((w) => w.id === "w1")!.up, false);
    assert.equal(s.databases[0]!.replicas.histogram[0], undefined, "no chunk is lost");
  });

  test("a worker restarted with its data dir rejoins without copies", async () => {
    workers[0] = await startWorker(0, port(workers[0]!));
    const report = await replicate();
    assert.deepEqual([report.copied, report.dropped, report.failed], [[], [], []]);
    const s = await status();
    const w1 = s.workers.find((w) => w.id === "w1")!;
    assert.equal(w1.up, true);
    assert.ok(w1.chunks > 0);
    allOnTwo(s);
    await answersAsReference();
  });

  test("a chunk a live worker lost is left out of queries, then copied back", async () => {
    const w3 = new WorkerClient(workers[2]!.address);
    try {
      const chunkId = (await w3.list("qcase01")).databases[0]!.chunks[0]!.chunkId;
      assert.equal((await w3.drop({ database: "qcase01", chunkId, table: "" })).existed, true);
      const s = await status();
      assert.deepEqual(s.databases[0]!.replicas.underReplicated, [chunkId]);
      const r = await fetch(`${czar.url}/query`, {
        method: "POST",
        body: JSON.stringify({ query: "SELECT COUNT(*) FROM Object", database: "qcase01" }),
      });
      const body = (await r.json()) as { rows: unknown[][]; stats: { retries: number } };
      assert.deepEqual(body.rows, [[88]]);
      assert.equal(body.stats.retries, 0, "the replica that lost the chunk was not asked");
      const report = await replicate();
      assert.deepEqual(report.dropped, [{ database: "qcase01", chunkId, worker: "w3" }]);
      assert.deepEqual(
        report.copied.map((c) => c.chunkId),
        [chunkId],
      );
      allOnTwo(await status());
      await answersAsReference();
    } finally {
      w3.close();
    }
  });

  test("automatic repair: a czar with --repair-interval 1 copies a lost chunk back by itself", async () => {
    await czar.stop();
    czar = await startCzarProcess(
      join(dir, "czar"),
      [],
      ["--replicas", "2", "--repair-interval", "1", "--ingest-root", DATA],
    );
    const w1 = new WorkerClient(workers[0]!.address);
    try {
      const chunkId = (await w1.list("qcase01")).databases[0]!.chunks[0]!.chunkId;
      await w1.drop({ database: "qcase01", chunkId, table: "" });
      await waitFor("the lost chunk copied back", async () =>
        (await status()).repair.lastPass?.copied?.some((c) => c.chunkId === chunkId) ? true : undefined,
      );
      allOnTwo(await status());
    } finally {
      w1.close();
    }
  });

  test("automatic passes leave a worker down for less than the grace period alone; back, it rejoins", async () => {
    const before = (await status()).repair.totals.copies;
    const p = port(workers[2]!);
    await workers[2]!.stop("SIGKILL");
    // Several automatic passes (1 s apart) while w3 is down, within the default grace of 60 s:
    // counted from the first pass that saw it down.
    const seenDown = await waitFor("w3 seen down", async () => {
      const s = await status();
      return s.workers.find((w) => w.id === "w3")?.up === false ? s.repair.totals.passes : undefined;
    });
    await waitFor("three passes with w3 down", async () =>
      (await status()).repair.totals.passes >= seenDown + 3 ? true : undefined,
    );
    const down = await status();
    assert.equal(down.repair.totals.copies, before, "no copies while w3 may come back");
    assert.ok(down.databases[0]!.replicas.underReplicated.length > 0);
    workers[2] = await startWorker(2, p);
    await waitFor("w3 rejoined", async () => {
      const s = await status();
      return s.workers.every((w) => w.up === true) && s.databases[0]!.replicas.underReplicated.length === 0
        ? true
        : undefined;
    });
    allOnTwo(await status());
    assert.equal((await status()).repair.totals.copies, before);
    await answersAsReference();
  });
});
