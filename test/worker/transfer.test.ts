/**
 * ChunkTransfer between two worker processes: a chunk file exported by one and imported by the
 * other answers the same; a file whose checksum, size or content is wrong is rejected and leaves
 * nothing behind; a held chunk is replaced in one step while a query runs on it.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { isQservError } from "../../src/common/errors.js";
import { loadDatabaseConfig, loadTableConfig } from "../../src/common/ingestConfig.js";
import { dialectFor } from "../../src/partitioner/dialect.js";
import { partition } from "../../src/partitioner/partition.js";
import { WorkerClient } from "../../src/worker/client.js";
import { NO_CHUNK } from "../../src/worker/layout.js";
import type { ExportResponse, FileHeader } from "../../src/worker/messages.js";
import { copyChunk, TransferClient } from "../../src/worker/transferClient.js";
import { readChunkInfo, uploadPartition, uploadReplicated } from "../../src/worker/upload.js";
import { tempDir } from "../support/fs.js";
import { ITEST, SKIP_ITEST } from "../support/paths.js";
import { rowSet } from "../support/rows.js";
import { waitFor } from "../support/waitFor.js";

const DATA = join(ITEST, "case01", "data");
const DB = "qcase01";

async function exported(t: TransferClient, chunkId: number): Promise<{ header: FileHeader; bytes: Buffer }> {
  let header: FileHeader | null = null;
  const parts: Buffer[] = [];
  for await (const m of t.exportChunk(DB, chunkId) as AsyncIterable<ExportResponse>) {
    if (m.part === "header") header = m.header;
    else parts.push(m.data);
  }
  assert.ok(header);
  return { header, bytes: Buffer.concat(parts) };
}

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => isQservError(e) && e.code === code && message.test(e.message));
}

describe("chunk transfer between worker processes (case01)", { skip: SKIP_ITEST }, () => {
  const dir = tempDir();
  let w1: WorkerProcess;
  let w2: WorkerProcess;
  let c1: WorkerClient;
  let c2: WorkerClient;
  let t1: TransferClient;
  let t2: TransferClient;
  let chunks: number[] = [];
  const objectOut = join(dir, "Object");
  const sourceOut = join(dir, "Source");

  before(async () => {
    [w1, w2] = await Promise.all([
      startWorkerProcess(join(dir, "w1"), ["--threads", "2"]),
      startWorkerProcess(join(dir, "w2"), ["--threads", "2"]),
    ]);
    c1 = new WorkerClient(w1.address);
    c2 = new WorkerClient(w2.address);
    t1 = new TransferClient(w1.address);
    t2 = new TransferClient(w2.address);
    const db = loadDatabaseConfig(join(DATA, "ingest", "database.json"));
    for (const [t, out] of [
      ["Object", objectOut],
      ["Source", sourceOut],
    ] as const) {
      const table = loadTableConfig(join(DATA, "ingest", `${t}.json`));
      await partition({ database: db, table, files: [join(DATA, `${t}.tsv.gz`)], outDir: out });
    }
    await uploadPartition(c1, objectOut, loadTableConfig(join(DATA, "ingest", "Object.json")), "Object");
    const filter = join(DATA, "Filter.tsv.gz");
    await uploadReplicated(c1, [filter], loadTableConfig(join(DATA, "ingest", "Filter.json")), dialectFor(filter), "F");
    chunks = readChunkInfo(objectOut).chunks.map((c) => c.id);
  });
  after(async () => {
    for (const c of [c1, c2, t1, t2]) c?.close();
    await Promise.all([w1?.stop(), w2?.stop()]);
  });

  test("a copied chunk and the replicated tables answer as the original", async () => {
    const chunkId = chunks[0]!;
    const r = await copyChunk(t1, t2, DB, chunkId);
    assert.equal(r.replaced, false);
    assert.ok(r.bytes > 0);
    assert.deepEqual(
      r.tables.map((t) => t.table),
      ["Object"],
    );
    const sql = `SELECT * FROM Object_${chunkId}`;
    const [a, b] = await Promise.all([
      c1.queryAll({ database: DB, chunkId, sql }),
      c2.queryAll({ database: DB, chunkId, sql }),
    ]);
    assert.ok(a.rows.length > 0);
    assert.deepEqual(rowSet(b.rows), rowSet(a.rows));
    await copyChunk(t1, t2, DB, NO_CHUNK);
    const f = await c2.queryAll({ database: DB, chunkId: NO_CHUNK, sql: "SELECT count(*) FROM Filter" });
    assert.deepEqual(f.rows, [
      [BigInt((await c1.list(DB)).databases[0]!.tables.find((t) => t.name === "Filter")!.rows)],
    ]);
    const listed = (await c2.list(DB)).databases[0]!;
    assert.deepEqual(
      listed.chunks.map((c) => c.chunkId),
      [chunkId],
    );
  });

  test("a copied chunk lists the published stages of its loads, as the original does", async () => {
    // A chunk the other tests leave alone, with Source rows.
    const withSource = new Set(readChunkInfo(sourceOut).chunks.map((c) => c.id));
    const chunkId = chunks.slice(2).find((c) => withSource.has(c))!;
    const source = loadTableConfig(join(DATA, "ingest", "Source.json"));
    await uploadPartition(c1, sourceOut, source, "S", { stage: "Ls1", chunks: new Set([chunkId]) });
    await c1.publish({ database: DB, table: "Source", stage: "Ls1", chunkIds: [chunkId] });
    await copyChunk(t1, t2, DB, chunkId);
    const published = async (c: WorkerClient) =>
      (await c.list(DB)).databases[0]!.published.filter((p) => p.chunkId === chunkId).map(
        (p) => `${p.table} ${p.stage} ${p.rows}`,
      );
    const want = await published(c1);
    assert.ok(
      want.some((p) => p.startsWith("Source Ls1 ")),
      "the publish is listed on the original",
    );
    // The czar tells a whole replica by these (src/czar/chunkContents.ts): the copy must list them.
    assert.deepEqual(await published(c2), want);
  });

  test("a wrong checksum, a short file or a file that is not a chunk is rejected, leaving nothing", async () => {
    const chunkId = chunks[1]!;
    const { header, bytes } = await exported(t1, chunkId);
    await rejects(t2.importChunk({ ...header, sha256: "0".repeat(64) }, [bytes]), "BAD_INPUT", /checksum mismatch/);
    await rejects(t2.importChunk(header, [bytes.subarray(0, bytes.length - 1)]), "BAD_INPUT", /received \d+ bytes/);
    const junk = Buffer.from("not a SQLite file at all");
    const { createHash } = await import("node:crypto");
    const sha256 = createHash("sha256").update(junk).digest("hex");
    await rejects(t2.importChunk({ ...header, size: junk.length, sha256 }, [junk]), "BAD_INPUT", /./);
    await rejects(exported(t2, chunkId), "NOT_FOUND", /holds no chunk/);
    const listed = (await c2.list(DB)).databases[0]!;
    assert.ok(!listed.chunks.some((c) => c.chunkId === chunkId));
    assert.ok(!existsSync(join(dir, "w2", DB, `chunk_${chunkId}.sqlite`)));
    assert.deepEqual(readdirSync(join(dir, "w2", ".mq-tmp")), []);
  });

  test("a held chunk is replaced in one step; a query running on it finishes on the old contents", async () => {
    const chunkId = chunks[0]!;
    // w1's copy of the chunk gains Source rows: the new version w2 receives.
    await uploadPartition(c1, sourceOut, loadTableConfig(join(DATA, "ingest", "Source.json")), "Source", {
      chunks: new Set([chunkId]),
    });
    const objects = (await c2.queryAll({ database: DB, chunkId, sql: `SELECT count(*) FROM Object_${chunkId}` }))
      .rows[0]![0] as bigint;
    const n = 3_000_000; // about half a second of SQLite work
    const slow = c2.queryAll({
      database: DB,
      chunkId,
      sql: `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${n}) SELECT count(*) FROM k, Object_${chunkId}`,
    });
    let slowDone = false;
    void slow.then(() => {
      slowDone = true;
    });
    await waitFor("the slow query to run", async () => ((await c2.status()).queriesRunning > 0 ? true : undefined));
    const r = await copyChunk(t1, t2, DB, chunkId);
    assert.equal(r.replaced, true);
    assert.deepEqual(r.tables.map((t) => t.table).sort(), ["Object", "Source"]);
    assert.equal(slowDone, false, "the import did not wait for the running query");
    assert.deepEqual((await slow).rows, [[objects * BigInt(n)]]);
    const sources = await c2.queryAll({ database: DB, chunkId, sql: `SELECT count(*) FROM Source_${chunkId}` });
    const want = r.tables.find((t) => t.table === "Source")!.rows;
    assert.ok(want > 0);
    assert.deepEqual(sources.rows, [[BigInt(want)]]);
  });
});
