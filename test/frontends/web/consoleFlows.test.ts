/**
 * The web console's longer flows in headless Chromium (`npm run test:console`; skipped in
 * `npm test` unless MINI_QSERV_CONSOLE_FLOWS=1): a worker killed turns its chunks
 * under-replicated on the map and down in the workers view within the health interval, and a
 * repair turns them back; a query held by a stopped worker shows its progress and its kill button
 * ends it (the worker then runs no query); an ingest shows its phases. No console error and no
 * failed request in the browser. Every wait is on a state, bounded generously.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { postUpload } from "../../../src/cli/httpClient.js";
import { HALT_ENV } from "../../../src/common/haltPoint.js";
import { chunksIn, drawnChunks } from "../../support/consolePage.js";
import { type ConsoleRig, ensureChromium, startConsoleRig } from "../../support/consoleRig.js";
import { tempDir } from "../../support/fs.js";
import { waitFor } from "../../support/waitFor.js";

const skip = process.env.MINI_QSERV_CONSOLE_FLOWS === "1" ? ensureChromium() : "npm run test:console runs these";

interface WorkerStatus {
  id: string;
  up: boolean;
  queriesRunning: number;
}
const workersOf = async (url: string) =>
  ((await (await fetch(`${url}/status`)).json()) as { workers: WorkerStatus[] }).workers;

describe("web console: a worker killed, then repaired", { skip: skip ?? false }, () => {
  const dir = tempDir();
  let rig: ConsoleRig;
  before(async () => {
    rig = await startConsoleRig(dir, {
      workers: 3,
      objects: 2000,
      czar: { replicas: 2, repairGraceMs: 0, healthIntervalMs: 2000 },
    });
  });
  after(async () => {
    await rig?.stop();
  });

  test("its chunks turn under-replicated within the health interval and back after repair", async () => {
    const { page } = rig;
    await page.goto(`${rig.url}/#map`);
    const chunks = rig.czar.meta.chunks("demo");
    await drawnChunks(page, chunks.length);
    await page.waitForFunction(`document.querySelectorAll("path.chunk.ok").length === ${chunks.length}`);
    const onW3 = chunks.filter((c) => rig.czar.meta.replicas("demo", c).includes("w3"));
    assert.ok(onW3.length > 0);
    await rig.workers[2]!.stop("SIGKILL");
    // The map shows exactly w3's chunks under-replicated, the workers view w3 down.
    await page.waitForFunction(`document.querySelectorAll("path.chunk.under").length === ${onW3.length}`, undefined, {
      timeout: 60_000,
    });
    const under = await page.evaluate<number[]>(
      `[...document.querySelectorAll("path.chunk.under")].map((p) => Number(p.getAttribute("data-chunk")))`,
    );
    assert.deepEqual(
      under.sort((a, b) => a - b),
      onW3.sort((a, b) => a - b),
    );
    await page.goto(`${rig.url}/#workers`);
    await page.locator("#workers tr.worker.down", { hasText: "w3" }).waitFor({ timeout: 60_000 });
    // One repair pass copies them to the live workers.
    const r = await fetch(`${rig.url}/replicate`, { method: "POST" });
    assert.equal(r.status, 200);
    await page.goto(`${rig.url}/#map`);
    await page.waitForFunction(
      `document.querySelectorAll("path.chunk.ok").length === ${chunks.length} && document.querySelectorAll("path.chunk.under").length === 0`,
      undefined,
      { timeout: 60_000 },
    );
    assert.equal(await chunksIn(page, "lost"), 0);
    assert.deepEqual(rig.problems, []);
  });
});

describe("web console: a long query and an ingest", { skip: skip ?? false }, () => {
  const dir = tempDir();
  let rig: ConsoleRig;
  before(async () => {
    // No probes but those asked for (GET /status), no hedging: a query sent to a stopped worker
    // waits for it, whatever the time.
    rig = await startConsoleRig(dir, { workers: 2, objects: 2000, czar: { healthIntervalMs: 0, hedgeAfterMs: 0 } });
  });
  after(async () => {
    delete process.env[HALT_ENV];
    await rig?.stop();
  });

  test("a long query shows its progress and its kill button ends it", async () => {
    const { page } = rig;
    await rig.query("SELECT COUNT(*) FROM Object"); // listings fresh: the next query probes no worker
    const w2 = rig.workers[1]!;
    w2.proc.kill("SIGSTOP");
    try {
      await page.goto(`${rig.url}/#console`);
      await page.waitForFunction(`[...document.getElementById("console-db").options].some((o) => o.value === "demo")`);
      await page.selectOption("#console-db", "demo");
      await page.fill("#sql", "SELECT objectId, COUNT(*) FROM Source GROUP BY objectId");
      await page.click("#run");
      await page.goto(`${rig.url}/#queries`);
      // w1's chunks are done, w2's wait: a progress bar part way.
      const bar = page.locator("#running tr.query progress");
      await waitFor("the query's progress", async () => {
        const [value, max] = await Promise.all([bar.getAttribute("value"), bar.getAttribute("max")]).catch(() => [
          null,
          null,
        ]);
        return Number(value) > 0 && Number(value) < Number(max) ? true : undefined;
      });
      await page.click("#running button.kill");
      await page.waitForFunction(`document.querySelectorAll("#running tr.query").length === 0`, undefined, {
        timeout: 60_000,
      });
      assert.equal(rig.czar.czar.processes().length, 0);
      // The console that ran it says it was killed.
      await page.waitForFunction(`document.getElementById("console-status").textContent === "failed"`);
      assert.match((await page.locator("#console-error").textContent()) ?? "", /^CANCELLED: query \d+ killed/);
    } finally {
      w2.proc.kill("SIGCONT");
    }
    // The worker lets go of the cancelled query: it shows none running, here and on the page.
    await waitFor("w2 running no query", async () => {
      const w = (await workersOf(rig.url)).find((x) => x.id === "w2");
      return w?.up === true && w.queriesRunning === 0 ? true : undefined;
    });
    await page.goto(`${rig.url}/#workers`);
    await page.locator("#workers tr.worker.up", { hasText: "w2" }).waitFor();
    // The history has it, failed as killed.
    const h = (await (await fetch(`${rig.url}/history?failed=1`)).json()) as {
      queries: Array<{ query: string; error: { code: string } }>;
    };
    assert.equal(h.queries[0]?.query, "SELECT objectId, COUNT(*) FROM Source GROUP BY objectId");
    assert.equal(h.queries[0]?.error.code, "CANCELLED");
    // The killed query's 409, in the browser's console and as an answer, was asked for.
    const killed = rig.problems.filter((p) => p.includes("409"));
    assert.equal(killed.length, 2, killed.join("\n"));
    assert.deepEqual(
      rig.problems.filter((p) => !p.includes("409")),
      [],
    );
    rig.problems.splice(0);
  });

  test("an ingest shows its phases", async () => {
    const { page } = rig;
    // The czar (this process) halts the load at its publish: partition and upload are done then.
    process.env[HALT_ENV] = "publish:locked";
    const database = { ...JSON.parse(readFileSync(join(rig.catalogDir, "database.json"), "utf8")), database: "held" };
    const table = { ...JSON.parse(readFileSync(join(rig.catalogDir, "Object.json"), "utf8")), database: "held" };
    await page.goto(`${rig.url}/#ingest`);
    const load = postUpload(
      `${rig.url}/ingest`,
      { database, table, progress: true },
      [join(rig.catalogDir, "Object.csv")],
      () => {},
    );
    load.catch(() => {});
    const phases = page.locator("#ingests .ingest .phase");
    await page.locator("#ingests .ingest .phase.publish.current").waitFor({ timeout: 60_000 });
    assert.deepEqual(await phases.evaluateAll((ps) => ps.map((p) => p.getAttribute("class"))), [
      "phase partition done",
      "phase upload done",
      "phase publish current",
    ]);
    const upload = page.locator("#ingests .phase.upload progress");
    assert.equal(await upload.getAttribute("value"), await upload.getAttribute("max"));
    assert.match((await page.locator("#ingests .ingest h3").textContent()) ?? "", /^held\.Object — publish/);
    // The earlier loads are listed per table.
    await page.locator("#loads summary", { hasText: /^demo\.Object: 1 load, 2000 rows$/ }).waitFor();
    assert.deepEqual(rig.problems, []);
  });
});
