/**
 * Replicas survive workers: a czar process over three worker processes (2 replicas, automatic
 * repair off so the test drives it) holding case01. A worker replaced by an empty one on the same
 * address gets copies until every chunk has two live replicas again (`mini-qserv replicate`,
 * visible in `mini-qserv status`); then another worker dies and every query still answers as
 * the single reference database. A worker restarted with its data rejoins without copies.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { loadDatabaseConfig, loadTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { toJsonValue } from "../../src/common/jsonValue.js";
import type { Value } from "../../src/common/rowCodec.js";
import type { clusterStatus } from "../../src/czar/clusterStatus.js";
import type { RepairReport } from "../../src/czar/replication.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/fs.js";
import { ITEST, SKIP_ITEST } from "../support/paths.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { rowSet } from "../support/rows.js";

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

  const status = (): Status => {
    const r = runCli(["status", "--czar", czar.url, "--json"]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Status;
  };
  const replicate = (): { report: RepairReport; text: string } => {
    const r = runCli(["replicate", "--czar", czar.url, "--json"]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    return { report: JSON.parse(r.stdout) as RepairReport, text: r.stdout };
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

  before(async () => {
    for (let i = 0; i < 3; i++) workers.push(await startWorker(i));
    czar = await startCzarProcess(
      join(dir, "czar"),
      workers.map((w, i) => `w${i + 1}=${w.address}`),
      ["--replicas", "2", "--repair-interval", "0", "--health-interval", "0"],
    );
    for (const t of ["Object", "Source", "Filter"]) {
      const file = join(DATA, `${t}.tsv.gz`);
      const table = join(DATA, "ingest", `${t}.json`);
      const r = runCli(["ingest", "--czar", czar.url, "--database", dbCfg, "--table", table, file]);
      assert.equal(r.status, 0, r.stderr);
      const cfg = loadTableConfig(table);
      loadReference(ref, file, cfg, tableDialect(cfg, file), db);
    }
  });
  after(async () => {
    await czar.stop();
    for (const w of workers) await w.stop();
  });

  test("status: three workers up, every chunk on two live replicas, replicated tables everywhere", () => {
    const s = status();
    assert.deepEqual(
      s.workers.map((w) => [w.id, w.up]),
      [
        ["w1", true],
        ["w2", true],
        ["w3", true],
      ],
    );
    const d = s.databases[0]!;
    assert.ok(d.chunks > 0);
    assert.deepEqual(d.replicas, { target: 2, histogram: { 2: d.chunks }, underReplicated: [] });
    assert.deepEqual(d.replicatedTables, { liveCopies: 3, liveWorkers: 3 });
    const text = runCli(["status", "--czar", czar.url]);
    assert.match(text.stdout, /Workers: 3 of 3 up/);
    assert.match(
      text.stdout,
      new RegExp(`qcase01: ${d.chunks} chunks, 2 replicas wanted; live replicas: ${d.chunks} with 2`),
    );
  });

  test("a worker replaced by an empty one: `replicate` copies until every chunk has two live replicas", async (t) => {
    const chunks = status().databases[0]!.chunks;
    const p = port(workers[1]!);
    await workers[1]!.stop("SIGKILL");
    rmSync(join(dir, "w2"), { recursive: true, force: true });
    workers[1] = await startWorker(1, p);

    const before = status();
    const w2 = before.workers.find((w) => w.id === "w2")!;
    assert.equal(w2.up, true);
    assert.equal(w2.chunks, 0);
    const d = before.databases[0]!;
    assert.ok((d.replicas.histogram[1] ?? 0) > 0, JSON.stringify(d.replicas));
    assert.equal(d.replicas.underReplicated.length, d.replicas.histogram[1]);
    assert.deepEqual(d.replicatedTables, { liveCopies: 2, liveWorkers: 3 });
    await answersAsReference(); // the replacement's missing chunks are answered by their other replica

    const t0 = performance.now();
    const { report } = replicate();
    const ms = performance.now() - t0;
    const bytes = report.copied.reduce((n, c) => n + c.bytes, 0);
    t.diagnostic(
      `re-replicated ${report.copied.length} chunk files (${bytes} bytes) in ${Math.round(report.elapsedMs)} ms (CLI ${Math.round(ms)} ms)`,
    );
    assert.deepEqual(report.failed, []);
    assert.deepEqual(report.unavailable, []);
    assert.ok(report.copied.length >= (d.replicas.histogram[1] ?? 0) + 1);
    assert.ok(
      report.copied.some((c) => c.chunkId === -1 && c.to === "w2"),
      "the replicated tables went to w2",
    );
    assert.ok(report.dropped.every((x) => x.worker === "w2"));

    const s = status();
    assert.deepEqual(s.databases[0]!.replicas, { target: 2, histogram: { 2: chunks }, underReplicated: [] });
    assert.deepEqual(s.databases[0]!.replicatedTables, { liveCopies: 3, liveWorkers: 3 });
    assert.ok(s.workers.find((w) => w.id === "w2")!.chunks > 0);
    assert.equal(s.repair.lastPass?.copied.length, report.copied.length);
    const again = replicate().report;
    assert.deepEqual([again.copied, again.dropped, again.adopted], [[], [], []], "a second pass has nothing to do");
  });

  test("then another worker killed: every query still answers as the reference", async () => {
    await workers[0]!.stop("SIGKILL");
    await answersAsReference();
    const s = status();
    assert.equal(s.workers.find((w) => w.id === "w1")!.up, false);
    const d = s.databases[0]!;
    assert.equal(d.replicas.histogram[0], undefined, "no chunk is lost");
  });

  test("a worker restarted with its data dir rejoins without copies", async () => {
    const held = status().workers.find((w) => w.id === "w1")!;
    assert.equal(held.up, false);
    workers[0] = await startWorker(0, port(workers[0]!));
    const { report } = replicate();
    assert.deepEqual([report.copied, report.dropped, report.failed], [[], [], []]);
    const s = status();
    const w1 = s.workers.find((w) => w.id === "w1")!;
    assert.equal(w1.up, true);
    assert.ok(w1.chunks > 0);
    const d = s.databases[0]!;
    assert.deepEqual(d.replicas, { target: 2, histogram: { 2: d.chunks }, underReplicated: [] });
    await answersAsReference();
  });
});
