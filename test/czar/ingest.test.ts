import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { isQservError } from "../../src/common/errors.js";
import { inputColumns, type TableConfig } from "../../src/common/ingestConfig.js";
import { type IngestResult, ingestTable } from "../../src/czar/ingest.js";
import { Chunker, normalizeRa } from "../../src/sphere/index.js";
import { startCluster, type TestCluster } from "../support/cluster.js";
import { tempDir } from "../support/fs.js";
import { type CaseData, type CaseTable, caseData, countRows } from "../support/itestData.js";
import { SKIP_ITEST } from "../support/paths.js";

const code = (c: string) => (e: unknown) => isQservError(e) && e.code === c;

/** Ingests every table of a case that ships its data file; the results and expected rows by table. */
async function ingestCase(
  cluster: TestCluster,
  c: CaseData,
): Promise<Map<string, { t: CaseTable; result: IngestResult; expected: number }>> {
  const out = new Map<string, { t: CaseTable; result: IngestResult; expected: number }>();
  for (const t of c.tables) {
    if (t.file === null) continue;
    const result = await ingestTable(cluster.ctx, { database: c.database, table: t.config, files: [t.file] });
    out.set(t.config.table, { t, result, expected: await countRows(t.config, t.file) });
  }
  return out;
}

async function count(cluster: TestCluster, worker: string, db: string, chunkId: number, sql: string): Promise<number> {
  const r = await cluster.client(worker).queryAll({ database: db, chunkId, sql });
  return Number(r.rows[0]?.[0]);
}

/**
 * Every chunk of a partitioned table on `replicas` distinct workers, every replica with the same
 * rows, their sum the input's; a replicated table on all workers, whole on each.
 */
async function checkPlacement(cluster: TestCluster, db: string, t: TableConfig, expected: number, replicas: number) {
  const meta = cluster.ctx.meta;
  const all = [...cluster.workers.keys()];
  if (!t.isPartitioned) {
    assert.deepEqual(meta.replicas(db, -1), all);
    for (const w of all) assert.equal(await count(cluster, w, db, -1, `SELECT COUNT(*) FROM ${t.table}`), expected);
    return;
  }
  let total = 0;
  for (const chunkId of meta.tableChunks(db, t.table)) {
    const on = meta.replicas(db, chunkId);
    assert.equal(new Set(on).size, replicas, `${t.table} chunk ${chunkId} on ${on}`);
    const sql = `SELECT COUNT(*) FROM ${t.table}_${chunkId}`;
    const n = await count(cluster, on[0] as string, db, chunkId, sql);
    for (const w of on.slice(1)) assert.equal(await count(cluster, w, db, chunkId, sql), n, `${w} ${chunkId}`);
    total += n;
  }
  assert.equal(total, expected, `${t.table} rows`);
}

describe("ingest into worker processes", { skip: SKIP_ITEST }, () => {
  const dir = tempDir();
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster(dir, 3, 2);
  });
  after(() => cluster?.stop());

  describe("case01", () => {
    let c: CaseData;
    let loaded: Map<string, { t: CaseTable; result: IngestResult; expected: number }>;
    before(async () => {
      c = caseData("case01");
      loaded = await ingestCase(cluster, c);
    });

    test("every table loads with its data file's row count", () => {
      assert.equal(loaded.size, 9);
      for (const [name, l] of loaded) {
        assert.equal(l.result.rows, l.expected, name);
        assert.equal(cluster.ctx.meta.table("qcase01", name)?.rows, l.expected);
      }
      // Rows are lines, except where binary columns hold escaped newlines.
      assert.equal(loaded.get("Object")?.expected, 88);
      assert.equal(loaded.get("Source")?.expected, 3339);
      assert.equal(loaded.get("Science_Ccd_Exposure")?.expected, 3304);
      assert.equal(loaded.get("Object")?.result.chunks, 13);
    });

    test("chunks on 2 distinct workers, replicated tables on all, rows counted on the workers", async () => {
      for (const l of loaded.values()) await checkPlacement(cluster, "qcase01", l.t.config, l.expected, 2);
      const meta = cluster.ctx.meta;
      assert.deepEqual(meta.tableChunks("qcase01", "Source"), meta.tableChunks("qcase01", "Object"));
      assert.equal(meta.chunks("qcase01").length, 13);
      const load = new Map<string, number>();
      for (const ch of meta.chunks("qcase01"))
        for (const w of meta.replicas("qcase01", ch)) load.set(w, (load.get(w) ?? 0) + 1);
      const counts = [...load.values()];
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `balanced: ${counts}`);
    });

    test("director index: keys find their rows' chunks, ranges too, after a reopen", () => {
      cluster.reopen();
      const meta = cluster.ctx.meta;
      assert.deepEqual(
        meta.tables("qcase01").map((t) => t.name),
        loaded.size === 0 ? [] : [...loaded.keys()].sort(),
      );
      const object = loaded.get("Object") as { t: CaseTable };
      const cols = inputColumns(object.t.config).map((col) => col.name);
      const [key, ra, decl] = ["objectId", "ra_PS", "decl_PS"].map((n) => cols.indexOf(n)) as [number, number, number];
      const chunker = new Chunker({ numStripes: 85, numSubStripesPerStripe: 12, overlap: 0.01667 });
      const rows = gunzipSync(readFileSync(object.t.file as string))
        .toString("latin1")
        .split("\n")
        .filter((s) => s !== "")
        .map((line) => {
          const f = line.split("\t");
          return {
            key: BigInt(f[key] as string),
            chunk: chunker.locate(normalizeRa(Number(f[ra])), Number(f[decl])).chunkId,
          };
        })
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const r of [rows[0], rows[40], rows[87]]) {
        assert.ok(r);
        assert.deepEqual(meta.lookupKeys("qcase01", "Object", [r.key]), [r.chunk]);
        assert.deepEqual(meta.lookupKeys("qcase01", "Object", [String(r.key)]), [r.chunk]);
      }
      const lo = rows[10]?.key as bigint;
      const hi = rows[30]?.key as bigint;
      const want = [...new Set(rows.filter((r) => r.key >= lo && r.key <= hi).map((r) => r.chunk))].sort(
        (a, b) => a - b,
      );
      assert.deepEqual(meta.lookupRange("qcase01", "Object", lo, true, hi, true), want);
      const open = [...new Set(rows.slice(11).map((r) => r.chunk))].sort((a, b) => a - b);
      assert.deepEqual(meta.lookupRange("qcase01", "Object", lo, false, null, false), open);
      assert.deepEqual(meta.lookupKeys("qcase01", "Object", [(rows[87]?.key as bigint) + 1n]), []);
    });

    test("the same input again is a no-op; a load with keys already loaded, or another partitioning, is refused", async () => {
      const object = loaded.get("Object") as { t: CaseTable; expected: number };
      const again = await ingestTable(cluster.ctx, {
        database: c.database,
        table: object.t.config,
        files: [object.t.file as string],
      });
      assert.equal(again.rows, object.expected);
      assert.equal(again.duplicate, true);
      await checkPlacement(cluster, "qcase01", object.t.config, object.expected, 2);
      await assert.rejects(
        ingestTable(cluster.ctx, {
          database: c.database,
          table: object.t.config,
          files: [object.t.file as string, object.t.file as string],
        }),
        code("BAD_INPUT"),
      );
      await assert.rejects(
        ingestTable(cluster.ctx, {
          database: { ...c.database, numStripes: 60 },
          table: object.t.config,
          files: [object.t.file as string],
        }),
        code("CONFLICT"),
      );
      await checkPlacement(cluster, "qcase01", object.t.config, object.expected, 2);
    });

    test("a failed load leaves no table in metadata and no rows on the workers", async () => {
      const object = loaded.get("Object") as { t: CaseTable };
      const bad = join(cluster.dir, "bad.tsv");
      const good = gunzipSync(readFileSync(object.t.file as string)).toString("latin1");
      writeFileSync(bad, `${good}1\t2\n`, "latin1");
      const config = { ...object.t.config, database: "qbad", table: "Broken" };
      const database = { ...c.database, database: "qbad" };
      await assert.rejects(ingestTable(cluster.ctx, { database, table: config, files: [bad] }), (e: unknown) => {
        assert.ok(isQservError(e) && e.code === "BAD_INPUT", String(e));
        assert.match(e.message, /partitioning qbad\.Broken: bad\.tsv:89: expected \d+ fields, found 2/);
        return true;
      });
      assert.equal(cluster.ctx.meta.table("qbad", "Broken"), null);
      const child = { ...object.t.config, database: "qbad", table: "Orphan", directorTable: "Nope" };
      await assert.rejects(
        ingestTable(cluster.ctx, { database, table: child, files: [object.t.file as string] }),
        code("NOT_FOUND"),
      );
      assert.equal(cluster.ctx.meta.table("qbad", "Orphan"), null);
      for (const w of cluster.clients.values()) {
        const held = (await w.list("qbad")).databases[0];
        assert.ok(held === undefined || held.chunks.every((ch) => ch.tables.length === 0));
        assert.deepEqual(held?.staged ?? [], []);
      }
    });
  });

  describe("case03 (comma-separated; a match table placed through two directors)", () => {
    let loaded: Map<string, { t: CaseTable; result: IngestResult; expected: number }>;
    before(async () => {
      loaded = await ingestCase(cluster, caseData("case03"));
    });

    test("every shipped table loads with its row count", async () => {
      assert.ok(loaded.has("RefDeepSrcMatch") && loaded.has("Science_Ccd_Exposure_Metadata"));
      assert.ok(!loaded.has("RunDeepForcedSource"), "no data file: skipped");
      for (const [name, l] of loaded) {
        assert.equal(l.result.rows, l.expected, name);
        await checkPlacement(cluster, "qcase03", l.t.config, l.expected, 2);
      }
      assert.equal(loaded.get("RefDeepSrcMatch")?.expected, 1001);
    });

    test("BIT columns, dumped as raw bytes, load as integers", async () => {
      const meta = cluster.ctx.meta;
      const values = new Map<string, number>();
      for (const chunkId of meta.tableChunks("qcase03", "RunDeepSource")) {
        const r = await cluster.client(meta.replicas("qcase03", chunkId)[0] as string).queryAll({
          database: "qcase03",
          chunkId,
          sql: `SELECT typeof(calib_detected) || ':' || calib_detected, COUNT(*) FROM RunDeepSource_${chunkId} GROUP BY 1`,
        });
        for (const [v, n] of r.rows) values.set(String(v), (values.get(String(v)) ?? 0) + Number(n));
      }
      assert.deepEqual([...values.keys()].sort(), ["integer:0", "integer:1"]);
      assert.equal(
        [...values.values()].reduce((a, b) => a + b, 0),
        1000,
      );
    });

    test("each RefDeepSrcMatch row sits in the chunk of its RefObject, or else of its RunDeepSource", async () => {
      const meta = cluster.ctx.meta;
      for (const chunkId of meta.tableChunks("qcase03", "RefDeepSrcMatch")) {
        const w = meta.replicas("qcase03", chunkId)[0] as string;
        const orphans = await count(
          cluster,
          w,
          "qcase03",
          chunkId,
          `SELECT COUNT(*) FROM RefDeepSrcMatch_${chunkId} m
           WHERE CASE WHEN m.refObjectId IS NOT NULL
             THEN NOT EXISTS (SELECT 1 FROM RefObject_${chunkId} o WHERE o.refObjectId = m.refObjectId)
             ELSE NOT EXISTS (SELECT 1 FROM RunDeepSource_${chunkId} s WHERE s.id = m.deepSourceId) END`,
        );
        assert.equal(orphans, 0, `chunk ${chunkId}`);
      }
    });
  });

  describe("case04 (quoted fields; a director with repeated keys)", () => {
    let loaded: Map<string, { t: CaseTable; result: IngestResult; expected: number }>;
    before(async () => {
      loaded = await ingestCase(cluster, caseData("case04"));
    });

    test("every shipped table loads with its row count", async () => {
      assert.deepEqual([...loaded.keys()].sort(), ["DeepCoadd", "DeepSource", "DeepSourceDupKeys"]);
      for (const [name, l] of loaded) {
        assert.equal(l.result.rows, l.expected, name);
        await checkPlacement(cluster, "qcase04", l.t.config, l.expected, 2);
      }
      assert.equal(loaded.get("DeepCoadd")?.expected, 48);
      const r = await cluster.client("w1").queryAll({
        database: "qcase04",
        chunkId: -1,
        sql: "SELECT patch FROM DeepCoadd WHERE deepCoaddId = 26607706",
      });
      assert.deepEqual(r.rows, [["406,11"]], "enclosing quotes removed, the comma inside kept");
    });

    test("the index of a director with repeated keys holds every row", () => {
      const meta = cluster.ctx.meta;
      const entries = [...meta.directorEntries("qcase04", "DeepSourceDupKeys")];
      assert.equal(entries.length, 1000);
      const byKey = new Map<bigint | string, Set<number>>();
      for (const e of entries) byKey.set(e.key, (byKey.get(e.key) ?? new Set()).add(e.chunkId));
      assert.equal(byKey.size, 500);
      for (const [key, chunks] of [...byKey].slice(0, 20)) {
        assert.deepEqual(
          meta.lookupKeys("qcase04", "DeepSourceDupKeys", [key]),
          [...chunks].sort((a, b) => a - b),
        );
      }
    });
  });
  describe("two nights (case01's Object and Source, each split in two, loaded in turn)", () => {
    const db = "qnights";
    let c: CaseData;
    const t = (name: string) => {
      const found = c.tables.find((x) => x.config.table === name) as CaseTable;
      return { ...found, config: { ...found.config, database: db } };
    };
    const lines = (file: string) =>
      gunzipSync(readFileSync(file))
        .toString("latin1")
        .split("\n")
        .filter((l) => l !== "");
    const write = (name: string, rows: string[]) => {
      const f = join(cluster.dir, name);
      writeFileSync(f, rows.map((r) => `${r}\n`).join(""), "latin1");
      return f;
    };
    before(() => {
      c = caseData("case01");
    });

    test("the second night appends to both tables; each chunk ends up as from one load", async () => {
      const object = t("Object");
      const source = t("Source");
      const database = { ...c.database, database: db };
      const objects = lines(object.file as string);
      const night1 = new Set(objects.slice(0, 44).map((l) => l.split("\t")[0]));
      const sources = lines(source.file as string);
      const srcCols = inputColumns(source.config).map((col) => col.name);
      const key = srcCols.indexOf("objectId");
      const first = sources.filter((l) => night1.has(l.split("\t")[key] as string));
      const second = sources.filter((l) => !night1.has(l.split("\t")[key] as string));
      assert.ok(first.length > 100 && second.length > 100, `${first.length} + ${second.length}`);
      const load = (tc: CaseTable, f: string) => ingestTable(cluster.ctx, { database, table: tc.config, files: [f] });
      await load(object, write("obj1.tsv", objects.slice(0, 44)));
      await load(source, write("src1.tsv", first));
      await load(object, write("obj2.tsv", objects.slice(44)));
      const r = await load(source, write("src2.tsv", second));
      assert.deepEqual([r.rows, r.tableRows], [second.length, 3339]);
      await checkPlacement(cluster, db, object.config, 88, 2);
      await checkPlacement(cluster, db, source.config, 3339, 2);
      // Chunk by chunk, the rows of a single load of the same files (qcase01, loaded above).
      const meta = cluster.ctx.meta;
      for (const table of ["Object", "Source"]) {
        assert.deepEqual(meta.tableChunks(db, table), meta.tableChunks("qcase01", table));
        for (const chunkId of meta.tableChunks(db, table)) {
          const sql = `SELECT COUNT(*), SUM(objectId % 1000) FROM ${table}_${chunkId}`;
          const at = async (d: string) =>
            (await cluster.client(meta.replicas(d, chunkId)[0] as string).queryAll({ database: d, chunkId, sql })).rows;
          assert.deepEqual(await at(db), await at("qcase01"), `${table} ${chunkId}`);
        }
      }
    });
  });
});
