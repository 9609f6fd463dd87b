/**
 * Taking data out of a real cluster (a czar process over 3 worker processes, R = 2, loopback):
 * unloading one load while a sampler queries the table back to back (each answer is the table
 * before or after, never between), the same files loaded again, a load in the middle taken out,
 * the czar SIGKILLed at points through an unload (all in or all out after its restart), DROP
 * TABLE with a worker down (the returning worker never serves it again; the same name loads
 * again) and DROP DATABASE over the MySQL port with a worker down (gc clears it once back).
 * Answers are checked against one SQLite database holding the same rows.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import { HALT_ENV } from "../../src/common/haltPoint.js";
import type { LoadInfo } from "../../src/czar/metadata.js";
import { runCli } from "../support/cli.js";
import { CrashRig, haltWatch } from "../support/crashRig.js";
import { tempDir } from "../support/fs.js";
import { CLI } from "../support/paths.js";

const run = promisify(execFile);

/** A JSON answer of the czar: rows, loads, an error, or a removal's result. */
interface Answer {
  rows?: unknown[][];
  loads?: LoadInfo[];
  error?: { code: string; message: string };
  [k: string]: unknown;
}

const GROUPED = "SELECT objectId % 7 AS k, COUNT(*) AS n, SUM(objectId) AS s FROM Object GROUP BY k ORDER BY k";

describe("DROP and unload on a cluster (3 workers, R = 2)", () => {
  const dir = tempDir();
  let rig: CrashRig;
  /** The object ids of each part, for the SQLite reference. */
  let ids: bigint[][];

  before(async () => {
    rig = await CrashRig.start(dir, 3000, 3, 6);
    ids = rig.parts.map((p) =>
      readFileSync(p.file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => BigInt(l.slice(0, l.indexOf(",")))),
    );
  });

  /** `fn` while the sampler queries the table back to back (it slows loads down, so only then). */
  async function sampling<T>(fn: () => Promise<T>): Promise<T> {
    const before = rig.samples;
    rig.startSampler();
    try {
      return await fn();
    } finally {
      await rig.stopSampler();
      assert.ok(rig.samples > before, "no query ran meanwhile");
    }
  }
  after(() => rig?.stop());

  /** "count/sum" of the table holding these parts. */
  const keyOf = (parts: number[]) => {
    const c = parts.reduce((n, p) => n + rig.parts[p]!.content.count, 0);
    const s = parts.reduce((n, p) => n + rig.parts[p]!.content.sum, 0);
    return `${c}/${s}`;
  };

  async function http(method: string, path: string, body?: unknown): Promise<{ status: number; body: Answer }> {
    const r = await fetch(`${rig.czar.url}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as Answer };
  }

  const query = (q: string) => http("POST", "/query", { query: q, database: "demo" });

  async function loads(): Promise<LoadInfo[]> {
    const r = await http("GET", "/loads?database=demo&table=Object");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.loads as LoadInfo[];
  }

  async function loadIdOf(part: number): Promise<string> {
    const l = (await loads()).find((x) => x.files.includes(rig.parts[part]!.file));
    assert.ok(l !== undefined, `no load of part ${part}`);
    return l.loadId;
  }

  /** The grouped answer and the count/sum are those of SQLite holding exactly these parts. */
  async function expectParts(parts: number[], what: string): Promise<void> {
    const s = await rig.sample();
    assert.equal(s.answer, keyOf(parts), `${what}: count/sum`);
    const ref = new Database(":memory:");
    ref.defaultSafeIntegers(true);
    ref.exec("CREATE TABLE Object (objectId INTEGER)");
    const ins = ref.prepare("INSERT INTO Object VALUES (?)");
    for (const p of parts) for (const id of ids[p]!) ins.run(id);
    const want = (ref.prepare(GROUPED).raw(true).all() as bigint[][]).map((r) => r.map(String));
    ref.close();
    const got = await query(GROUPED);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.deepEqual(
      (got.body.rows as unknown[][]).map((r) => r.map(String)),
      want,
      `${what}: grouped answer against SQLite`,
    );
    const meta = new Database(join(dir, "czar", "czar.sqlite"), { readonly: true });
    const indexed = meta.prepare("SELECT count(*) FROM director_index").pluck().get() as number;
    meta.close();
    assert.equal(
      indexed,
      parts.reduce((n, p) => n + rig.parts[p]!.content.count, 0),
      `${what}: director index`,
    );
  }

  test("loads lists each load; unloading one while queries run gives before or after, never between; the same file loads again", async () => {
    rig.allowed = new Set([keyOf([0]), keyOf([0, 1])]);
    assert.equal((await rig.ingest(1)).status, 200);
    rig.allowed = new Set([keyOf([0, 1])]);
    const listed = await loads();
    const shape = (l: unknown[]) => JSON.stringify(l);
    assert.deepEqual(
      listed.map((l) => shape([l.table, l.rows, l.files, l.state])).sort(),
      [0, 1].map((p) => shape(["Object", rig.parts[p]!.content.count, [rig.parts[p]!.file], "published"])).sort(),
    );
    assert.ok(listed.every((l) => l.loadedAt !== null && !Number.isNaN(Date.parse(l.loadedAt))));
    const cli = runCli(["loads", "--czar", rig.czar.url, "--database", "demo"]);
    assert.equal(cli.status, 0, cli.stderr);
    const lines = cli.stdout.trim().split("\n");
    assert.match(lines[0]!, /^LOAD ID\s+TABLE\s+ROWS\s+LOADED AT\s+STATE\s+FILES$/);
    assert.deepEqual(
      lines
        .slice(1)
        .map((l) => l.split(/\s+/)[0])
        .sort(),
      listed.map((l) => l.loadId).sort(),
    );
    const id = await loadIdOf(1);
    rig.allowed = new Set([keyOf([0]), keyOf([0, 1])]);
    const r = await sampling(() => http("DELETE", `/ingest/${encodeURIComponent(id)}`));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.rows, rig.parts[1]!.content.count);
    assert.deepEqual(r.body.pending, []);
    rig.allowed = new Set([keyOf([0])]);
    await expectParts([0], "after the unload");
    assert.equal((await http("DELETE", `/ingest/${encodeURIComponent(id)}`)).status, 404, "unloaded twice");
    rig.allowed = new Set([keyOf([0]), keyOf([0, 1])]);
    const again = await rig.ingest(1);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.duplicate, false);
    rig.allowed = new Set([keyOf([0, 1])]);
    await expectParts([0, 1], "the same file loaded again");
    await rig.expectWhole();
  });

  test("a load in the middle is taken out exactly (rows of later loads stay)", async () => {
    rig.allowed = new Set([keyOf([0, 1]), keyOf([0, 1, 2])]);
    assert.equal((await rig.ingest(2)).status, 200);
    rig.allowed = new Set([keyOf([0, 1, 2]), keyOf([0, 2])]);
    const id = await loadIdOf(1);
    // Through the CLI this time (a child process: the sampler keeps running meanwhile).
    const r = await sampling(() => run(process.execPath, [CLI, "unload", id, "--czar", rig.czar.url]));
    assert.equal(r.stdout, `unloaded ${id}: ${rig.parts[1]!.content.count} rows\n`);
    rig.allowed = new Set([keyOf([0, 2])]);
    await expectParts([0, 2], "part 1 out");
    await rig.expectWhole();
    rig.allowed = new Set([keyOf([0, 2]), keyOf([0, 1, 2])]);
    assert.equal((await rig.ingest(1)).status, 200);
    rig.allowed = new Set([keyOf([0, 1, 2])]);
    await expectParts([0, 1, 2], "part 1 back");
  });

  // `npm run soak:unload` also kills it before metadata changed (unload:locked: all in).
  const points = ["unload:partial", "unload:recorded"];
  if (process.env.MINI_QSERV_SOAK === "1") points.unshift("unload:locked");
  for (const point of points) {
    test(`the czar SIGKILLed at ${point} of an unload: all in or all out after its restart`, async () => {
      const id = await loadIdOf(2);
      rig.allowed = new Set([keyOf([0, 1, 2]), keyOf([0, 1])]);
      const halt = haltWatch(point);
      await rig.czar.stop("SIGTERM");
      await rig.startCzar({ [HALT_ENV]: point }, halt.onLog);
      const out = point !== "unload:locked";
      await sampling(async () => {
        const pending = http("DELETE", `/ingest/${encodeURIComponent(id)}`).catch(() => null);
        await halt.halted;
        await rig.czar.stop("SIGKILL");
        assert.equal(await pending, null, "the halted unload answered");
        await rig.startCzar();
        // From the restart on, only the one outcome.
        rig.allowed = new Set([keyOf(out ? [0, 1] : [0, 1, 2])]);
        await rig.sample();
      });
      await expectParts(out ? [0, 1] : [0, 1, 2], `after the restart at ${point}`);
      await rig.expectWhole();
      if (!out) {
        rig.allowed = new Set([keyOf([0, 1, 2]), keyOf([0, 1])]);
        assert.equal((await http("DELETE", `/ingest/${encodeURIComponent(id)}`)).status, 200);
      }
      rig.allowed = new Set([keyOf([0, 1]), keyOf([0, 1, 2])]);
      const back = await rig.ingest(2);
      assert.equal(back.status, 200, JSON.stringify(back.body));
      assert.equal(back.body.duplicate, false);
      rig.allowed = new Set([keyOf([0, 1, 2])]);
      await expectParts([0, 1, 2], `part 2 loaded again after ${point}`);
    });
  }

  test("an unload with a worker down: it leaves those chunks' replicas, never serves the rows once back; repair restores R", async () => {
    await rig.killWorker(2);
    const id = await loadIdOf(2);
    const r = await http("DELETE", `/ingest/${encodeURIComponent(id)}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.pending, ["w3"]);
    rig.allowed = new Set([keyOf([0, 1])]);
    await expectParts([0, 1], "w3 down");
    await rig.startWorker(2);
    await rig.post("/status");
    await expectParts([0, 1], "w3 back, before any repair or gc pass");
    await rig.expectWhole();
    await rig.post("/gc", {});
    await expectParts([0, 1], "after repair and gc");
    rig.allowed = new Set([keyOf([0, 1]), keyOf([0, 1, 2])]);
    assert.equal((await rig.ingest(2)).status, 200);
    await expectParts([0, 1, 2], "part 2 loaded again");
  });

  test("every sampled answer was the table before or after, or a clear error", async () => {
    assert.deepEqual(rig.violations, []);
    assert.ok(rig.samples - rig.errors >= 5, `${rig.samples} samples, ${rig.errors} errors`);
  });

  test("DROP TABLE with a worker down: gone everywhere, the returning worker never serves it, the name loads again", async () => {
    await rig.killWorker(0);
    const r = runCli(["drop", "demo", "Object", "--czar", rig.czar.url]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "dropped demo.Object\n");
    const q = await query("SELECT COUNT(*) FROM Object");
    assert.equal(q.status, 400, JSON.stringify(q.body));
    assert.match(q.body.error?.message ?? "", /Object/);
    assert.deepEqual(await loads(), []);
    assert.equal((await query("DROP TABLE IF EXISTS demo.Object")).status, 200);
    assert.equal((await query("DROP TABLE demo.Object")).status, 404);
    await rig.startWorker(0);
    assert.notDeepEqual((await rig.held(0)).chunks, [], "worker 0 kept its files while down");
    await rig.post("/status");
    // Loaded again before any gc pass: worker 0's old rows must not come back with it.
    const again = await rig.ingest(0);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.tableRows, rig.parts[0]!.content.count);
    await expectParts([0], "Object loaded again after the drop");
    await rig.expectWhole();
  });

  test("DROP DATABASE over the MySQL port with a worker down; gc clears the returning worker", async () => {
    await rig.killWorker(1);
    const c = await mysql.createConnection({ host: "127.0.0.1", port: rig.czar.mysqlPort, user: "qsmaster" });
    try {
      await c.query("USE demo");
      await c.query("DROP DATABASE demo");
      const [dbs] = (await c.query("SHOW DATABASES")) as unknown as [Array<Record<string, string>>];
      assert.ok(!dbs.some((d) => Object.values(d).includes("demo")), JSON.stringify(dbs));
      await assert.rejects(c.query("DROP DATABASE demo"), /database doesn't exist/);
      await c.query("DROP DATABASE IF EXISTS demo");
      await assert.rejects(c.query("DROP TABLE Object"), /No database selected/);
    } finally {
      await c.end();
    }
    await rig.startWorker(1);
    assert.notDeepEqual((await rig.held(1)).chunks, [], "worker 1 kept its files while down");
    // Its loads are taken back (metadata records none of them), files left over dropped.
    const gc = (await rig.post("/gc", {})) as Record<string, Array<{ worker: string }>>;
    const cleared = [...gc.unpublished!, ...gc.unplaced!, ...gc.unknownTables!];
    assert.ok(
      cleared.some((u) => u.worker === "w2"),
      JSON.stringify(gc),
    );
    for (const i of [0, 1, 2]) assert.deepEqual(await rig.held(i), { chunks: [], staged: 0 }, `worker ${i}`);
    const again = await rig.ingest(0);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    await expectParts([0], "demo loaded again after DROP DATABASE");
    await rig.expectWhole();
  });
});
