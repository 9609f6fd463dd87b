/**
 * The czar as users run it: a czar process over three worker processes on loopback, data loaded
 * with `mini-qserv ingest`, queried with `mini-qserv query` and over HTTP; answers checked against
 * one SQLite database holding the same rows. Also: a worker killed (SIGKILL) → its chunks are
 * answered by their replicas; a restarted czar still knows its cluster.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { loadDatabaseConfig, loadTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { toJsonValue } from "../../src/common/jsonValue.js";
import type { Value } from "../../src/common/rowCodec.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/fs.js";
import { ITEST, SKIP_ITEST } from "../support/paths.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { rowSet } from "../support/rows.js";

const DATA = join(ITEST, "case01", "data");

interface Answer {
  columns: Array<{ name: string; type: string }>;
  rows: Array<Array<number | string | null>>;
  stats: { chunks: number; retries: number };
}

async function post(url: string, query: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${url}/query`, { method: "POST", body: JSON.stringify({ query, database: "qcase01" }) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe("czar process over three workers (case01)", { skip: SKIP_ITEST }, () => {
  const dir = tempDir();
  const workers: WorkerProcess[] = [];
  let czar: CzarProcess;
  const ref = referenceDb();
  const dbCfg = join(DATA, "ingest", "database.json");
  const db = loadDatabaseConfig(dbCfg);

  const expected = (sql: string): string[] =>
    rowSet(
      (ref.prepare(sql).raw(true).safeIntegers(true).all() as Value[][]).map((r) => r.map(toJsonValue)),
      false,
      12,
    );
  const got = async (sql: string): Promise<Answer> => {
    const r = await post(czar.url, sql);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as unknown as Answer;
  };
  const startCzar = () =>
    startCzarProcess(
      join(dir, "czar"),
      workers.map((w, i) => `w${i + 1}=${w.address}`),
      // No background probes: the SIGKILL test checks that the query itself retries.
      ["--health-interval", "0"],
    );

  before(async () => {
    for (let i = 1; i <= 3; i++) workers.push(await startWorkerProcess(join(dir, `w${i}`)));
    czar = await startCzar();
    for (const t of ["Object", "Source", "Filter"]) {
      const file = join(DATA, `${t}.tsv.gz`);
      const r = runCli([
        "ingest",
        "--czar",
        czar.url,
        "--database",
        dbCfg,
        "--table",
        join(DATA, "ingest", `${t}.json`),
        file,
      ]);
      assert.equal(r.status, 0, r.stderr);
      const cfg = loadTableConfig(join(DATA, "ingest", `${t}.json`));
      loadReference(ref, file, cfg, tableDialect(cfg, file), {
        numStripes: db.numStripes,
        numSubStripes: db.numSubStripes,
      });
    }
  });
  after(async () => {
    await czar.stop();
    for (const w of workers) await w.stop();
  });

  test("mini-qserv query prints a table and CSV; a bad query exits 2 with code and position", () => {
    const sql = "SELECT filterId, COUNT(*) AS n FROM Source GROUP BY filterId ORDER BY filterId";
    const t = runCli(["query", "--czar", czar.url, "--database", "qcase01", sql]);
    assert.equal(t.status, 0, t.stderr);
    const want = ref.prepare(sql).raw(true).all() as Array<[number, number]>;
    assert.ok(want.length > 1);
    for (const [f, n] of want) assert.match(t.stdout, new RegExp(`\\|\\s+${f} \\|\\s+${n} \\|`));
    const c = runCli(["query", "--czar", czar.url, "--database", "qcase01", "--format", "csv", sql]);
    assert.equal(c.stdout, ["filterId,n", ...want.map(([f, n]) => `${f},${n}`), ""].join("\n"));
    const bad = runCli(["query", "--czar", czar.url, "--database", "qcase01", "SELECT ra_PS FROM Object WHERE"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /SYNTAX_ERROR.*line 1, column 31 at end of input/);
  });

  test("HTTP: answers equal the single database's; errors carry code, line and column", async () => {
    const queries = [
      "SELECT objectId, ra_PS, decl_PS FROM Object WHERE qserv_areaspec_box(0, -6, 4, 6)",
      "SELECT o.objectId, COUNT(*), AVG(s.psfFlux) FROM Object o JOIN Source s USING (objectId) GROUP BY o.objectId",
      "SELECT s.sourceId, f.filterName FROM Source s JOIN Filter f USING (filterId) WHERE s.objectId = 386942193651348",
    ];
    const plain = [
      "SELECT objectId, ra_PS, decl_PS FROM Object WHERE scisql_s2PtInBox(ra_PS, decl_PS, 0, -6, 4, 6) = 1",
      queries[1]!,
      queries[2]!,
    ];
    for (const [i, q] of queries.entries()) {
      const a = await got(q);
      assert.ok(a.rows.length > 0, q);
      assert.deepEqual(rowSet(a.rows, false, 12), expected(plain[i]!), q);
    }
    // Over a derived table too: the names are checked against its columns, not left to SQLite.
    for (const [sql, clause, column] of [
      ["SELECT nosuch FROM Object", "field list", 8],
      ["WITH t AS (SELECT objectId, ra_PS FROM Object) SELECT COUNT(*) FROM t WHERE nosuch < 1", "where clause", 77],
    ] as const) {
      const e = await post(czar.url, sql);
      assert.equal(e.status, 400);
      assert.deepEqual(e.body.error, {
        code: "BAD_QUERY",
        message: `Unknown column 'nosuch' in '${clause}' (line 1, column ${column})`,
        line: 1,
        column,
      });
    }
  });

  test("a worker killed with SIGKILL: every chunk is answered by a replica, same rows", async () => {
    const sql = "SELECT sourceId, objectId, psfFlux FROM Source";
    const before = await got(sql);
    assert.equal(before.rows.length, 3339);
    await workers[1]!.stop("SIGKILL");
    const afterKill = await got(sql);
    assert.deepEqual(rowSet(afterKill.rows), rowSet(before.rows));
    assert.ok(afterKill.stats.retries > 0, "some chunks were retried on a replica");
  });

  test("a restarted czar knows its databases, tables and chunk placement", async () => {
    await czar.stop();
    czar = await startCzar();
    const a = await got("SELECT COUNT(*) FROM Object");
    assert.deepEqual(a.rows, [[88]]);
    const t = await got("SHOW TABLES");
    assert.deepEqual(
      t.rows.map((r) => r[0]),
      ["Filter", "Object", "Source"],
    );
    const d = await got("DESCRIBE Filter");
    const cfg = loadTableConfig(join(DATA, "ingest", "Filter.json"));
    assert.deepEqual(
      d.rows.map((r) => [r[0], r[2]]),
      cfg.schema.map((c) => [c.name, /NOT NULL/i.test(c.type) ? "NO" : "YES"]),
    );
    assert.deepEqual((await got("SHOW DATABASES")).rows, [["qcase01"]]);
  });
});
