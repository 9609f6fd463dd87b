/**
 * The web console in headless Chromium against a real cluster on loopback (two worker processes,
 * the demo catalog): the sky map draws every chunk metadata records; a query typed in the console
 * answers the rows `POST /query` and the SQLite reference give, with its sky plot; an error shows
 * its position; a box drawn on the map becomes that region's query; the history lists finished
 * queries and keeps them across a czar restart; with users configured the page asks for them.
 * No console error and no failed request in the browser throughout.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../../src/common/log.js";
import { userEntry } from "../../../src/czar/auth/users.js";
import { startCzar } from "../../../src/czar/server.js";
import { consoleRows, download, drawnChunks, runInConsole } from "../../support/consolePage.js";
import { type ConsoleRig, ensureChromium, startConsoleRig } from "../../support/consoleRig.js";
import { demoReference, expectedRows } from "../../support/demo.js";
import { tempDir } from "../../support/fs.js";
import { rowSet } from "../../support/rows.js";

const skip = ensureChromium();

/** Rows as the console's table shows them (NULL for null), joined and sorted. */
const asText = (rows: unknown[][]) => rows.map((r) => r.map((v) => (v === null ? "NULL" : String(v))).join("|")).sort();

describe("web console", { skip: skip ?? false }, () => {
  const dir = tempDir();
  let rig: ConsoleRig;

  before(async () => {
    rig = await startConsoleRig(dir, { workers: 2, objects: 1500 });
  });
  after(async () => {
    await rig?.stop();
  });

  test("the sky map draws every chunk of the demo database", async () => {
    const { page } = rig;
    await page.goto(`${rig.url}/#map`);
    const want = rig.czar.meta.chunks("demo").sort((a, b) => a - b);
    assert.ok(want.length > 50, `the demo has many chunks (${want.length})`);
    const drawn = await drawnChunks(page, want.length);
    assert.deepEqual(drawn, want);
    // Every chunk whole on its two workers: none under-replicated.
    await page.waitForFunction(`document.querySelectorAll("path.chunk.ok").length === ${want.length}`);
    // Hover names the chunk, its rows per table and its workers.
    const first = page.locator(`path.chunk[data-chunk="${want[0]}"]`);
    await first.hover({ force: true });
    const tip = (await page.locator("#tooltip").textContent()) ?? "";
    assert.match(tip, new RegExp(`chunk ${want[0]}`));
    assert.match(tip, /Object: \d+/);
    assert.match(tip, /workers: w\d, w\d/);
  });

  test("a query typed in the console returns the rows of POST /query and of one SQLite database", async () => {
    const { page } = rig;
    const sql = "SELECT objectId, ra, decl FROM Object WHERE qserv_areaspec_circle(30, 10, 30)";
    await page.goto(`${rig.url}/#console`);
    await runInConsole(page, sql, "demo");
    const shown = await consoleRows(page);
    const api = await rig.query(sql);
    assert.ok(shown.length > 50, `more than one page of rows (${shown.length})`);
    assert.deepEqual(shown.map((r) => r.join("|")).sort(), asText(api.rows as unknown[][]));
    const ref = demoReference(rig.catalogDir);
    try {
      const want = expectedRows(
        ref,
        "SELECT objectId, ra, decl FROM Object WHERE scisql_s2PtInCircle(ra, decl, 30, 10, 30) = 1",
      );
      assert.deepEqual(rowSet(api.rows as unknown[][], false, 9), want);
    } finally {
      ref.close();
    }
    // Every row with a position is on the sky plot; the histogram counts them all.
    assert.equal(await page.locator("#sky-plot circle.point").count(), shown.length);
    assert.match(
      (await page.locator("#histogram h3").textContent()) ?? "",
      new RegExp(`histogram of objectId \\(${shown.length} values`),
    );
    // The downloads carry the rows.
    const csv = await download(page, "csv");
    assert.equal(csv.trim().split("\r\n").length, shown.length + 1);
    const vot = await download(page, "votable");
    assert.equal(vot.match(/<TR>/g)?.length, shown.length);
  });

  test("ADQL typed in the console goes through /tap/sync and returns the same rows", async () => {
    const { page } = rig;
    await page.goto(`${rig.url}/#console`);
    await page.selectOption("#console-lang", "adql");
    const adql =
      "SELECT objectId, ra, decl FROM demo.Object WHERE CONTAINS(POINT('ICRS', ra, decl), CIRCLE('ICRS', 30, 10, 30)) = 1";
    await runInConsole(page, adql, "demo");
    const shown = await consoleRows(page);
    const api = await rig.query("SELECT objectId, ra, decl FROM Object WHERE qserv_areaspec_circle(30, 10, 30)");
    assert.deepEqual(shown.map((r) => r.join("|")).sort(), asText(api.rows as unknown[][]));
    await page.selectOption("#console-lang", "sql");
  });

  test("an error is shown with its position in the text", async () => {
    const { page } = rig;
    const sql = "SELECT objectId,\n  FROM Object WHERE";
    await page.goto(`${rig.url}/#console`);
    await page.fill("#sql", sql);
    await page.click("#run");
    await page.locator("#console-error").waitFor({ state: "visible" });
    const text = (await page.locator("#console-error").textContent()) ?? "";
    const r = await fetch(`${rig.url}/query`, {
      method: "POST",
      body: JSON.stringify({ query: sql, database: "demo" }),
    });
    const e = ((await r.json()) as { error: { code: string; message: string; line: number; column: number } }).error;
    assert.equal(r.status, 400);
    assert.ok(text.startsWith(`${e.code}: ${e.message}`), text);
    assert.match(text, new RegExp(`line ${e.line}, column ${e.column}:\\n.*\\n {${e.column - 1}}\\^`));
  });

  test("a box drawn on the map becomes that region's query in the console", async () => {
    const { page } = rig;
    await page.goto(`${rig.url}/#map`);
    await drawnChunks(page, rig.czar.meta.chunks("demo").length);
    const box = (await page.locator("#map svg").boundingBox())!;
    const at = (fx: number, fy: number) => [box.x + box.width * fx, box.y + box.height * fy] as const;
    await page.mouse.move(...at(0.45, 0.4));
    await page.mouse.down();
    await page.mouse.move(...at(0.5, 0.45), { steps: 4 });
    await page.mouse.move(...at(0.55, 0.5), { steps: 4 });
    await page.mouse.up();
    await page.waitForURL(/#console$/);
    const sql = await page.inputValue("#sql");
    assert.match(sql, /^SELECT \* FROM Object WHERE qserv_areaspec_box\([-\d., ]+\) LIMIT 1000$/);
    await page.click("#run");
    await page.locator("#console-status", { hasText: /rows in/ }).waitFor();
    const api = await rig.query(sql);
    assert.equal(await page.locator("#sky-plot circle.point").count(), (api.rows as unknown[][]).length);
  });

  test("finished queries are listed, slowest and failed ones easy to find, and kept across a czar restart", async () => {
    const { page } = rig;
    await rig.query("SELECT COUNT(*) FROM Source");
    await assert.rejects(rig.query("SELECT nosuchcolumn FROM Object"));
    await rig.restartCzar();
    const h = (await (await fetch(`${rig.url}/history?failed=1`)).json()) as {
      queries: Array<Record<string, unknown>>;
    };
    assert.equal(h.queries[0]?.query, "SELECT nosuchcolumn FROM Object");
    assert.equal((h.queries[0]?.error as { code: string } | undefined)?.code, "BAD_QUERY");
    const slow = (await (await fetch(`${rig.url}/history?slowest=1`)).json()) as {
      queries: Array<{ elapsedMs: number }>;
    };
    const ms = slow.queries.map((q) => q.elapsedMs);
    assert.deepEqual(
      ms,
      [...ms].sort((a, b) => b - a),
    );
    await page.goto(`${rig.url}/#queries`);
    await page.locator("#history tr", { hasText: "SELECT COUNT(*) FROM Source" }).first().waitFor();
    await page.check("#hist-failed");
    await page.locator("#history tbody tr.failed", { hasText: "nosuchcolumn" }).waitFor();
    assert.equal(await page.locator("#history tbody tr:not(.failed)").count(), 0);
  });

  test("no console error and no failed request in the browser", () => {
    // The bad query's 400 was asked for: its answer, and Chromium's line about it, once each.
    const asked = [
      /^answer 400: POST http:\/\/[\d.:]+\/query$/,
      /^console: Failed to load resource: the server responded with a status of 400 \(Bad Request\)$/,
    ];
    const rest = [...rig.problems];
    for (const a of asked) {
      const i = rest.findIndex((p) => a.test(p));
      if (i >= 0) rest.splice(i, 1);
    }
    assert.deepEqual(rest, []);
  });
});

describe("web console access", () => {
  test("with users configured, the page and its API ask for them (HTTP Basic)", async () => {
    const d = tempDir();
    const czar = await startCzar({
      dataDir: join(d, "czar"),
      workers: [],
      httpPort: 0,
      users: [await userEntry("astro", "reader", "secret")],
      healthIntervalMs: 0,
      log: createLogger("czar", "warn"),
    });
    try {
      const url = `http://127.0.0.1:${czar.httpPort}`;
      for (const path of ["/", "/console/app.js", "/history", "/chunks?database=demo"]) {
        const r = await fetch(`${url}${path}`);
        assert.equal(r.status, 401, path);
        assert.match(r.headers.get("www-authenticate") ?? "", /^Basic/);
      }
      const auth = { authorization: `Basic ${Buffer.from("astro:secret").toString("base64")}` };
      const page = await fetch(`${url}/`, { headers: auth });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script type="module" src="\/console\/app.js">/);
      assert.equal((await fetch(`${url}/history`, { headers: auth })).status, 200);
      assert.equal(
        (
          await fetch(`${url}/history`, {
            headers: { authorization: `Basic ${Buffer.from("astro:wrong").toString("base64")}` },
          })
        ).status,
        401,
      );
    } finally {
      await czar.close();
    }
  });
});
