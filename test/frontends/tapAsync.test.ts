/**
 * Async TAP (UWS 1.1) on a real czar and worker (processes on loopback): the job lifecycle over
 * HTTP (create, parameters, phase, WAIT, list filters, results, error, destruction, DELETE), the
 * result checked against one SQLite database holding the same rows; jobs surviving a kill -9 of
 * the czar (a completed result served byte-identical, a running job in ERROR); ABORT and an
 * exceeded execution duration leaving no chunk query on the worker, with pyvo too. Queries that
 * must stay EXECUTING run on a worker held at the test point worker:query (it answers nothing
 * until the czar cancels), so no step depends on timing.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type Database from "better-sqlite3";
import { generateCatalog } from "../../bench/generate.js";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { HALT_ENV } from "../../src/common/haltPoint.js";
import type { Value } from "../../src/common/rowCodec.js";
import { WorkerClient } from "../../src/worker/client.js";
import { makeTempDir } from "../support/fs.js";
import { ingestObjects } from "../support/objectTable.js";
import { ensureTapClients, python } from "../support/tapClients.js";
import { waitFor } from "../support/waitFor.js";

const STRIPES = { numStripes: 3, numSubStripes: 3 };
const skip = ensureTapClients();

describe("TAP async: UWS jobs, durable across a czar kill, ABORT and execution duration", {
  skip: skip ?? false,
}, () => {
  const dir = makeTempDir();
  let worker: WorkerProcess;
  let czar: CzarProcess;
  let ref: Database.Database;
  let client: WorkerClient;
  const workerArg = () => `w1=${worker.address}`;

  before(async () => {
    const cat = await generateCatalog({
      outDir: join(dir, "catalog"),
      objects: 2000,
      sourcesPerObject: 0,
      database: "demo",
      ...STRIPES,
      overlap: 0.01667,
    });
    worker = await startWorkerProcess(join(dir, "w1"), ["--threads", "1"]);
    czar = await startCzarProcess(join(dir, "czar"), [workerArg()], ["--ingest-root", dir]);
    ref = await ingestObjects(czar.url, cat);
    client = new WorkerClient(worker.address);
  });
  after(async () => {
    client?.close();
    await czar?.stop("SIGTERM");
    await worker?.stop("SIGTERM");
    ref?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tap = () => `${czar.url}/tap`;
  const form = (p: Record<string, string>) => new URLSearchParams(p).toString();
  /** POSTs a form; the 303's location. */
  const post = async (path: string, p: Record<string, string>): Promise<string> => {
    const r = await fetch(path.startsWith("http") ? path : `${tap()}${path}`, {
      method: "POST",
      body: form(p),
      headers: { "content-type": "application/x-www-form-urlencoded" },
      redirect: "manual",
    });
    assert.equal(r.status, 303, await r.text());
    return r.headers.get("location")!;
  };
  const text = async (url: string, status = 200) => {
    const r = await fetch(url);
    const body = await r.text();
    assert.equal(r.status, status, body);
    return body;
  };
  const phaseOf = (url: string) => text(`${url}/phase`);
  /** WAITs (blocking, woken by the change) until the job leaves the active phases; its job document. */
  const settle = async (url: string): Promise<string> =>
    waitFor("the job ends", async () => {
      const doc = await text(`${url}?WAIT=-1`);
      return /<uws:phase>(PENDING|QUEUED|EXECUTING)</.test(doc) ? undefined : doc;
    });
  const tag = (doc: string, t: string) => new RegExp(`<uws:${t}>([^<]*)</uws:${t}>`).exec(doc)?.[1];
  const refRows = (sql: string) => ref.prepare(sql).raw(true).safeIntegers(true).all() as Value[][];
  const jobDir = (url: string) => join(dir, "czar", "tap", "jobs", url.split("/").at(-1)!);

  test("lifecycle: create PENDING, parameters, list filters, RUN, WAIT, result equal to SQLite's, error, DELETE, destruction", async () => {
    const adql = "SELECT objectId, ra, decl FROM demo.Object ORDER BY objectId";
    const job = await post("/async", { LANG: "ADQL", QUERY: adql, FORMAT: "csv", RUNID: "run-1" });
    assert.match(job, /\/tap\/async\/[0-9a-f]+$/);
    let doc = await text(job);
    assert.equal(tag(doc, "phase"), "PENDING");
    assert.equal(tag(doc, "runId"), "run-1");
    assert.match(doc, /<uws:parameter id="query">SELECT objectId, ra, decl FROM demo.Object ORDER BY objectId</);
    // Parameters and execution duration change while PENDING.
    await post(`${job}/parameters`, { MAXREC: "5000" });
    assert.match(await text(`${job}/parameters`), /<uws:parameter id="maxrec">5000</);
    await post(`${job}/executionduration`, { EXECUTIONDURATION: "600" });
    assert.equal(await text(`${job}/executionduration`), "600");
    assert.equal(await text(`${job}/owner`), "");
    assert.match(await text(`${tap()}/async?PHASE=PENDING`), new RegExp(job.split("/").at(-1)!));
    assert.doesNotMatch(await text(`${tap()}/async?PHASE=COMPLETED`), new RegExp(job.split("/").at(-1)!));
    // A WAIT on a PENDING job asked only while EXECUTING returns at once.
    assert.equal(tag(await text(`${job}?WAIT=30&PHASE=EXECUTING`), "phase"), "PENDING");

    await post(`${job}/phase`, { PHASE: "RUN" });
    doc = await settle(job);
    assert.equal(tag(doc, "phase"), "COMPLETED", doc);
    assert.match(doc, /xlink:href="[^"]*\/results\/result"/);
    const csv = (await text(`${job}/results/result`)).trimEnd().split("\r\n");
    assert.equal(csv[0], "objectId,ra,decl");
    const want = refRows("SELECT objectId, ra, decl FROM Object ORDER BY objectId");
    assert.equal(csv.length - 1, want.length);
    assert.deepEqual(
      csv.slice(1).map((l) => l.split(",").map(Number)),
      want.map((r) => r.map(Number)),
    );
    // LAST=1: the newest job; AFTER its creation: not it.
    const created = tag(doc, "creationTime")!;
    assert.match(await text(`${tap()}/async?LAST=1`), new RegExp(`id="${job.split("/").at(-1)}"`));
    assert.doesNotMatch(await text(`${tap()}/async?AFTER=${created}`), new RegExp(job.split("/").at(-1)!));

    // A bad query: the job ends in ERROR, its error a VOTable error document.
    const badJob = await post("/async", { LANG: "ADQL", QUERY: "SELECT nope FROM demo.Object", PHASE: "RUN" });
    doc = await settle(badJob);
    assert.equal(tag(doc, "phase"), "ERROR");
    assert.match(await text(`${badJob}/error`), /<INFO name="QUERY_STATUS" value="ERROR">[^<]*nope/);
    await text(`${badJob}/results/result`, 404);

    // DELETE: gone, with its directory; POST ACTION=DELETE likewise.
    assert.ok(existsSync(jobDir(job)));
    const del = await fetch(job, { method: "DELETE", redirect: "manual" });
    assert.equal(del.status, 303);
    await text(job, 404);
    assert.ok(!existsSync(jobDir(job)));
    assert.equal(await post(badJob, { ACTION: "DELETE" }), `${tap()}/async`);
    await text(badJob, 404);

    // Destruction: a job past it is gone at once, and its files by the gc pass.
    const old = await post("/async", { LANG: "ADQL", QUERY: "SELECT TOP 1 ra FROM demo.Object" });
    await post(`${old}/destruction`, { DESTRUCTION: "2001-01-01T00:00:00Z" });
    await text(old, 404);
    await waitFor("the job's files removed", async () => (existsSync(jobDir(old)) ? undefined : true));
    const gc = (await (await fetch(`${czar.url}/gc`, { method: "POST" })).json()) as { tapJobsDestroyed: string[] };
    assert.deepEqual(gc.tapJobsDestroyed, []);
    // A destruction time reached later removes the job by itself.
    const soon = await post("/async", { LANG: "ADQL", QUERY: "SELECT TOP 1 ra FROM demo.Object" });
    await post(`${soon}/destruction`, { DESTRUCTION: new Date(Date.now() + 1000).toISOString() });
    await waitFor("the job's directory removed at its destruction time", async () =>
      existsSync(jobDir(soon)) ? undefined : true,
    );
  });

  test("durable: after a kill -9 a completed result is byte-identical, a running job is in ERROR; ABORT and execution duration cancel the worker's queries", async () => {
    const done = await post("/async", {
      LANG: "ADQL",
      QUERY: "SELECT objectId, ra, decl, uFlux FROM demo.Object ORDER BY objectId",
      PHASE: "RUN",
    });
    assert.equal(tag(await settle(done), "phase"), "COMPLETED");
    const bytes = Buffer.from(await (await fetch(`${done}/results/result`)).arrayBuffer());
    assert.ok(bytes.length > 20_000);

    // The worker held at worker:query: chunk queries stay running until cancelled.
    const port = worker.address.split(":")[1]!;
    client.close();
    await worker.stop("SIGTERM");
    worker = await startWorkerProcess(join(dir, "w1"), ["--threads", "1", "--port", port], {
      env: { [HALT_ENV]: "worker:query" },
    });
    client = new WorkerClient(worker.address);
    const running = () => client.status().then((s) => s.running.length);
    const executing = async (url: string) => {
      await waitFor("the job executing on the worker", async () => {
        const phase = await phaseOf(url);
        assert.ok(["QUEUED", "EXECUTING"].includes(phase), await text(url));
        return phase === "EXECUTING" && (await running()) > 0 ? true : undefined;
      });
    };
    // The czar sees the worker back (GET /status probes it).
    const workerUp = () =>
      waitFor("the czar sees the worker up", async () => {
        const s = (await (await fetch(`${czar.url}/status`)).json()) as { workers: Array<{ up: boolean }> };
        return s.workers.every((w) => w.up) ? true : undefined;
      });
    await workerUp();
    const idle = () =>
      waitFor("no chunk query left on the worker", async () => ((await running()) === 0 ? true : undefined));

    const cut = await post("/async", { LANG: "ADQL", QUERY: "SELECT COUNT(*) FROM demo.Object", PHASE: "RUN" });
    await executing(cut);
    await czar.stop("SIGKILL");
    czar = await startCzarProcess(join(dir, "czar"), [workerArg()], ["--ingest-root", dir]);
    await workerUp();
    const moved = (u: string) => `${tap()}/async/${u.split("/").at(-1)}`;
    assert.deepEqual(Buffer.from(await (await fetch(`${moved(done)}/results/result`)).arrayBuffer()), bytes);
    const cutDoc = await text(moved(cut));
    assert.equal(tag(cutDoc, "phase"), "ERROR");
    assert.match(cutDoc, /the czar stopped while this job was EXECUTING/);
    await idle(); // the dead czar's calls were cancelled with its connections

    // ABORT: the job ABORTED, no chunk query left, nothing in SHOW PROCESSLIST.
    const aborted = await post("/async", { LANG: "ADQL", QUERY: "SELECT COUNT(*) FROM demo.Object", PHASE: "RUN" });
    await executing(aborted);
    const show = async () =>
      (
        (await (
          await fetch(`${czar.url}/query`, { method: "POST", body: JSON.stringify({ query: "SHOW PROCESSLIST" }) })
        ).json()) as { rows: unknown[][] }
      ).rows;
    assert.equal((await show()).length, 1);
    await post(`${aborted}/phase`, { PHASE: "ABORT" });
    assert.equal(tag(await settle(aborted), "phase"), "ABORTED");
    await idle();
    assert.deepEqual(await show(), []);

    // An exceeded execution duration: ERROR saying so, the chunk queries cancelled.
    const slow = await post("/async", {
      LANG: "ADQL",
      QUERY: "SELECT COUNT(*) FROM demo.Object",
      EXECUTIONDURATION: "1",
      PHASE: "RUN",
    });
    const slowDoc = await settle(slow);
    assert.equal(tag(slowDoc, "phase"), "ERROR");
    assert.match(slowDoc, /exceeded its execution duration of 1 s/);
    await idle();

    // pyvo: abort a running job, then delete it.
    const py = await post("/async", { LANG: "ADQL", QUERY: "SELECT COUNT(*) FROM demo.Object", PHASE: "RUN" });
    await executing(py);
    const got = (await python(
      `import sys, json, pyvo
job = pyvo.dal.AsyncTAPJob(sys.argv[1])
job.abort()
phase = job.phase
job.delete()
print(json.dumps({"phase": phase}))`,
      py,
    )) as { phase: string };
    assert.equal(got.phase, "ABORTED");
    await text(py, 404);
    await idle();
  });
});
