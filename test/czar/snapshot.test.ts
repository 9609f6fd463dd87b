/**
 * Readers never wait on a publish, and a publish never waits on readers (per-query snapshots):
 * a czar halted at points of an append's publish (MINI_QSERV_HALT_AT: before any worker
 * published, after one has, after all have, not yet recorded) still answers every query at once,
 * exactly as the table was before the append; a chunk query held open on a worker (its client
 * not reading) keeps the version it started on while an append publishes into the same file;
 * queries planned after the publish see it all.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { HALT_ENV } from "../../src/common/haltPoint.js";
import type { QueryEvent } from "../../src/worker/client.js";
import { type CrashPoint, CrashRig, FORWARD, haltWatch } from "../support/crashRig.js";
import { tempDir } from "../support/fs.js";

const POINTS: CrashPoint[] = ["publish:locked", "publish:partial", "publish:workers"];

interface Answer {
  columns: string[];
  rows: unknown[][];
}

describe("per-query snapshots (3 workers, R = 2)", () => {
  const dir = tempDir();
  let rig: CrashRig;
  before(async () => {
    rig = await CrashRig.start(dir, 3000, POINTS.length + 3, 6);
  });
  after(() => rig?.stop());

  async function query(sql: string): Promise<Answer> {
    const r = await fetch(`${rig.czar.url}/query`, {
      method: "POST",
      body: JSON.stringify({ query: sql, database: "demo" }),
    });
    const body = (await r.json()) as Answer & { error?: unknown };
    assert.equal(r.status, 200, `${sql}: ${JSON.stringify(body)}`);
    return body;
  }

  /** objectIds of part `p`, read from its file. */
  async function idsOf(p: number): Promise<string[]> {
    const { readFileSync } = await import("node:fs");
    return readFileSync(rig.parts[p]!.file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.slice(0, l.indexOf(",")));
  }

  async function snapshotOf(): Promise<number> {
    const s = (await rig.post("/status")) as { databases: Array<{ database: string; snapshot: number }> };
    return s.databases.find((d) => d.database === "demo")!.snapshot;
  }

  POINTS.forEach((point, i) => {
    const part = i + 1;
    test(`a publish halted at ${point}: every query answers at once, as before the append`, async () => {
      const before = rig.key(part);
      const seq = await snapshotOf();
      const halt = haltWatch(point);
      await rig.czar.stop("SIGTERM");
      await rig.startCzar({ [HALT_ENV]: point }, halt.onLog);
      const pending = rig.ingest(part).catch(() => null);
      await halt.halted;
      // The publish holds its turn; queries run beside it and see the table as it was.
      const s = await rig.sample();
      assert.equal(s.answer, before, `COUNT/SUM during the publish: ${s.answer}`);
      const ids = await idsOf(part);
      const some = ids.slice(0, 50).join(", ");
      const looked = await query(`SELECT objectId FROM Object WHERE objectId IN (${some})`);
      assert.deepEqual(looked.rows, [], "rows of the unrecorded append are invisible");
      const byChunk = await query("SELECT chunkId, COUNT(*) FROM Object GROUP BY chunkId ORDER BY chunkId");
      const total = byChunk.rows.reduce((n, r) => n + Number(r[1]), 0);
      assert.equal(total, rig.content(part).count, "per-chunk counts");
      const composed = await query(
        `SELECT COUNT(*) FROM Object WHERE objectId IN (SELECT objectId FROM Object WHERE objectId IN (${some}))`,
      );
      assert.equal(Number(composed.rows[0]![0]), 0, "a subquery sees the same snapshot");
      assert.equal(await snapshotOf(), seq, "the snapshot moves only when the load is recorded");
      // The czar dies with the publish unrecorded: the restart takes it back (or, once every
      // worker published, finishes it); the retry records it (or finds it recorded).
      await rig.czar.stop("SIGKILL");
      assert.equal(await pending, null, "the halted ingest answered");
      await rig.startCzar();
      await rig.expectExact(FORWARD.has(point) ? part + 1 : part, "after the restart");
      const r = await rig.ingest(part);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await rig.expectExact(part + 1, "after the retry");
      assert.ok((await snapshotOf()) > seq, "the recorded publish moved the snapshot");
      const found = await query(`SELECT COUNT(*) FROM Object WHERE objectId IN (${some})`);
      assert.equal(Number(found.rows[0]![0]), Math.min(50, ids.length), "the append's rows are seen once recorded");
    });
  });

  test("a chunk query held open on a worker keeps its version while an append publishes into the same file", async () => {
    const part = POINTS.length + 1;
    const seq = await snapshotOf();
    // The chunk file of worker 1 with the most rows.
    const list = await rig.clients[0]!.list("demo");
    const chunks = list.databases[0]!.chunks;
    const chunk = chunks.reduce((a, c) => ((c.tables[0]?.rows ?? 0) > (a.tables[0]?.rows ?? 0) ? c : a));
    const sql = `SELECT objectId FROM Object_${chunk.chunkId}`;
    const ask = (snapshotSeq: number, maxBatchRows = 0) =>
      rig.clients[0]!.query({ database: "demo", chunkId: chunk.chunkId, sql, snapshotSeq, maxBatchRows });
    const countOf = async (snapshotSeq: number) => {
      let n = 0;
      for await (const ev of ask(snapshotSeq)) if (ev.kind === "rows") n += ev.rows.length;
      return n;
    };
    const beforeRows = await countOf(seq);
    // One row per batch: the worker's thread waits for credit after each, inside its read
    // transaction, while this client reads nothing.
    const held = ask(seq, 1);
    const first = await held.next();
    assert.equal(first.done, false);
    // The append publishes meanwhile (it does not wait for the open read).
    const r = await rig.ingest(part);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const afterList = await rig.clients[0]!.list("demo");
    const nowRows = afterList.databases[0]!.chunks.find((c) => c.chunkId === chunk.chunkId)!.tables[0]!.rows;
    let rows = 0;
    for (let ev: IteratorResult<QueryEvent> = first; !ev.done; ev = await held.next())
      if (ev.value.kind === "rows") rows += ev.value.rows.length;
    assert.equal(rows, beforeRows, "the held query read the version it started on");
    assert.equal(await countOf(seq), beforeRows, "an old snapshot leaves the new rows out");
    assert.equal(await countOf(await snapshotOf()), nowRows, "the new snapshot sees them");
    assert.equal(await countOf(0), nowRows, "no snapshot: every published row");
    await rig.expectExact(part + 1, "after the append");
  });

  test("a table a publish created is empty to the snapshots before it", async () => {
    const list = await rig.clients[1]!.list("demo");
    const stagesOf = list.databases[0]!.published;
    assert.ok(stagesOf.length > 0, "published stage records are listed");
    const chunk = list.databases[0]!.chunks[0]!;
    let n = 0;
    for await (const ev of rig.clients[1]!.query({
      database: "demo",
      chunkId: chunk.chunkId,
      sql: `SELECT COUNT(*) FROM Object_${chunk.chunkId}`,
      snapshotSeq: 1,
    }))
      if (ev.kind === "rows") n = Number(ev.rows[0]![0]);
    assert.equal(n, 0, "snapshot 1 is before every publish: the chunk's table did not exist yet");
  });
});
