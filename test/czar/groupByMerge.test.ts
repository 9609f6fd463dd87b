/**
 * GROUP BY and full-scan aggregates through partial aggregation per worker call (the chunks of a
 * batch combined by group on the worker) and the czar's hash merge: a czar process over three
 * worker processes on loopback (R = 2), a table of ~120 chunks with NULL groups, text groups
 * spelled several ways, integers, reals and NULLs; every answer checked against one SQLite
 * database holding the same rows (MySQL's semantics through the same SQL functions), also with a
 * worker killed. The worker's combination is checked on its own over gRPC.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { parseTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { toJsonValue } from "../../src/common/jsonValue.js";
import type { Value } from "../../src/common/rowCodec.js";
import { WorkerClient } from "../../src/worker/client.js";
import { tempDir } from "../support/fs.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { rowSet } from "../support/rows.js";
import { SYN_DATABASE_JSON, SYN_TABLE_JSON } from "../support/synthetic.js";

const DATABASE = { ...SYN_DATABASE_JSON, database: "qgb" };
/** The synthetic table's positions and chunk columns, with grouping columns of every kind. */
const TABLE = {
  ...SYN_TABLE_JSON,
  database: "qgb",
  schema: [
    ...SYN_TABLE_JSON.schema.slice(0, 3),
    { name: "flags", type: "INT" },
    { name: "band", type: "VARCHAR(8)" },
    { name: "small", type: "INT" },
    { name: "cnt", type: "BIGINT" },
    { name: "mag", type: "DOUBLE" },
    ...SYN_TABLE_JSON.schema.slice(4),
  ],
};
/** Spellings equal under utf8mb4_general_ci (and NULL): groups whose spelling is the first row's. */
const BANDS = ["g", "G", "r", "R ", "i", null, "z", "Zz", "zz", "I"];
const ROWS = 4000;

/** Rows over a 20° × 20° patch (about 120 chunks), values from a seeded generator. */
function writeRows(file: string): void {
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const nul = "\\N";
  const lines: string[] = [];
  for (let id = 1; id <= ROWS; id++) {
    const ra = (next() * 20).toFixed(6);
    const decl = (next() * 20 - 10).toFixed(6);
    const flags = id % 7 === 0 ? nul : String(Math.floor(next() * 13));
    const band = BANDS[Math.floor(next() * BANDS.length)] ?? nul;
    const small = id % 11 === 0 ? nul : String(Math.floor(next() * 2000) - 1000);
    const cnt = String(BigInt(id) * 4_000_000_000_007n);
    const mag = id % 13 === 0 ? nul : (15 + next() * 10).toFixed(9);
    lines.push([id, ra, decl, flags, band, small, cnt, mag].join("\t"));
  }
  writeFileSync(file, `${lines.join("\n")}\n`);
}

interface Answer {
  rows: Value[][];
  stats: { chunks: number; retries: number };
}

describe("GROUP BY: partials combined per worker call and hash-merged on the czar", () => {
  const dir = tempDir();
  const workers: WorkerProcess[] = [];
  let czar: CzarProcess;
  const ref = referenceDb();

  const expected = (sql: string, ordered = false): string[] =>
    rowSet(
      (ref.prepare(sql).raw(true).safeIntegers(true).all() as Value[][]).map((r) => r.map(toJsonValue)),
      ordered,
      12,
    );
  const got = async (query: string): Promise<Answer> => {
    const r = await fetch(`${czar.url}/query`, { method: "POST", body: JSON.stringify({ query, database: "qgb" }) });
    const body = (await r.json()) as Answer;
    assert.equal(r.status, 200, JSON.stringify(body));
    return body;
  };

  /** [query, the same in one SQLite database, whether its rows are ordered]. */
  const cases: Array<[string, string, boolean]> = [
    // NULL groups; integer (DECIMAL) and real sums, AVG of a real, MIN / MAX
    [
      "SELECT flags, COUNT(*), COUNT(mag), SUM(small), SUM(cnt), AVG(mag), MIN(mag), MAX(cnt) FROM Obj GROUP BY flags",
      "SELECT flags, count(*), count(mag), sum(small), mysql_sum(cnt), avg(mag), min(mag), max(cnt) FROM Obj GROUP BY flags",
      false,
    ],
    // text groups by the collation (the first row's spelling), AVG of an integer as DECIMAL
    [
      "SELECT band, COUNT(*), AVG(small), SUM(mag) FROM Obj GROUP BY band",
      "SELECT mysql_pick(band, objectId), count(*), mysql_div(sum(small), count(small), 4), sum(mag) FROM Obj GROUP BY mysql_ci(band)",
      false,
    ],
    // a column not grouped: the group's first row's value
    [
      "SELECT flags, band, COUNT(*) FROM Obj GROUP BY flags",
      "SELECT flags, mysql_pick(band, objectId), count(*) FROM Obj GROUP BY flags",
      false,
    ],
    // COUNT DISTINCT across chunks (text by the collation)
    [
      "SELECT flags, COUNT(DISTINCT band), COUNT(DISTINCT small) FROM Obj GROUP BY flags",
      "SELECT flags, count(DISTINCT mysql_ci(band)), count(DISTINCT small) FROM Obj GROUP BY flags",
      false,
    ],
    // HAVING on an aggregate, ORDER BY aggregates
    [
      "SELECT flags, COUNT(*) AS n, MAX(mag) FROM Obj GROUP BY flags HAVING n > 280 ORDER BY n DESC, flags",
      "SELECT flags, count(*) AS n, max(mag) FROM Obj GROUP BY flags HAVING n > 280 ORDER BY n DESC, flags",
      true,
    ],
    // ORDER BY + LIMIT on an aggregate
    [
      "SELECT band, SUM(small) AS s FROM Obj GROUP BY band ORDER BY s DESC LIMIT 3",
      "SELECT mysql_pick(band, objectId), sum(small) AS s FROM Obj GROUP BY mysql_ci(band) ORDER BY s DESC LIMIT 3",
      true,
    ],
    // GROUP BY an expression
    [
      "SELECT small % 5 AS k, COUNT(*), MIN(small), AVG(mag) FROM Obj GROUP BY small % 5",
      "SELECT small % 5 AS k, count(*), min(small), avg(mag) FROM Obj GROUP BY small % 5",
      false,
    ],
    // full-scan aggregates
    [
      "SELECT COUNT(*), AVG(mag), MAX(small), SUM(cnt), MIN(band) FROM Obj WHERE mag > 18",
      "SELECT count(*), avg(mag), max(small), mysql_sum(cnt), mysql_min_ci(band, objectId) FROM Obj WHERE mag > 18",
      false,
    ],
    // MIN / MAX of text: merged through SQLite as before
    [
      "SELECT flags, MIN(band), MAX(band) FROM Obj GROUP BY flags",
      "SELECT flags, mysql_min_ci(band, objectId), mysql_max_ci(band, objectId) FROM Obj GROUP BY flags",
      false,
    ],
  ];

  const checkAll = async (): Promise<number> => {
    let retries = 0;
    for (const [q, plain, ordered] of cases) {
      const a = await got(q);
      assert.ok(a.rows.length > 0, q);
      assert.ok(a.stats.chunks > 64, `${q}: ${a.stats.chunks} chunks`);
      assert.deepEqual(rowSet(a.rows, ordered, 12), expected(plain, ordered), q);
      retries += a.stats.retries;
    }
    return retries;
  };

  before(async () => {
    for (let i = 1; i <= 3; i++) workers.push(await startWorkerProcess(join(dir, `w${i}`)));
    czar = await startCzarProcess(
      join(dir, "czar"),
      workers.map((w, i) => `w${i + 1}=${w.address}`),
      ["--health-interval", "0", "--replicas", "2", "--ingest-root", dir],
    );
    const data = join(dir, "Obj.tsv");
    writeRows(data);
    // Over HTTP (a file under --ingest-root): no client-side time limit on a loaded machine.
    const r = await fetch(`${czar.url}/ingest`, {
      method: "POST",
      body: JSON.stringify({ database: DATABASE, table: TABLE, files: [data] }),
    });
    assert.equal(r.status, 200, await r.text());
    const cfg = parseTableConfig(TABLE);
    loadReference(ref, data, cfg, tableDialect(cfg, data), { numStripes: 85, numSubStripes: 12 });
  });
  after(async () => {
    await czar?.stop();
    for (const w of workers) await w.stop();
  });

  test("the rows: NULL and text groups spread over many chunks", () => {
    const spread = ref
      .prepare("SELECT count(DISTINCT chunkId) FROM Obj WHERE mysql_ci(band) = mysql_ci('g')")
      .pluck()
      .get() as number;
    assert.ok(spread > 64, `group 'g' in ${spread} chunks`);
    assert.ok((ref.prepare("SELECT count(*) FROM Obj WHERE flags IS NULL").pluck().get() as number) > 0);
  });

  test("a worker combines a batch's partials by group: one row per group, chunks done after the rows", async () => {
    const client = new WorkerClient(workers[0]!.address);
    try {
      const held = (await client.list("qgb")).databases[0]!.chunks.map((c) => c.chunkId).slice(0, 8);
      assert.ok(held.length >= 4, `${held.length} chunks held`);
      const chunks = held.map((id) => ({
        chunkId: id,
        subChunkIds: [],
        sql: `SELECT flags AS c0, count(*) AS c1, sum(mag) AS c2, min(small) AS c3 FROM Obj_${id} GROUP BY flags`,
      }));
      const call = async (combine: boolean) => {
        const events: string[] = [];
        const rows: Value[][] = [];
        const spec = combine ? { combineOps: ["key", "intSum", "sum", "min"], combineOrder: -1 } : {};
        for await (const ev of client.query({ database: "qgb", chunkId: held[0]!, sql: "", chunks, ...spec })) {
          events.push(ev.kind);
          if (ev.kind === "rows") rows.push(...ev.rows);
        }
        return { events, rows };
      };
      const plain = await call(false);
      const combined = await call(true);
      const groups = new Set(plain.rows.map((r) => String(r[0])));
      assert.ok(plain.rows.length > groups.size, "the chunks share groups");
      assert.equal(combined.rows.length, groups.size);
      // Every chunkDone after the last rows: the batch completes as a whole.
      const lastRows = combined.events.lastIndexOf("rows");
      assert.ok(combined.events.indexOf("chunkDone") > lastRows);
      assert.equal(combined.events.filter((e) => e === "chunkDone").length, held.length);
      // The combination is what one database gives over the same chunks.
      const want = ref
        .prepare(
          `SELECT flags, count(*), sum(mag), min(small) FROM Obj WHERE chunkId IN (${held.join(",")}) GROUP BY flags`,
        )
        .raw(true)
        .safeIntegers(true)
        .all() as Value[][];
      assert.deepEqual(rowSet(combined.rows, false, 12), rowSet(want, false, 12));
    } finally {
      client.close();
    }
  });

  test("answers equal one SQLite database's", async () => {
    await checkAll();
  });

  test("a worker killed: its chunks answered by replicas, same answers", async () => {
    await workers[1]!.stop("SIGKILL");
    const retries = await checkAll();
    assert.ok(retries > 0, "some chunks were retried on a replica");
  });
});
