/**
 * The worker's inline path (src/worker/inlineQuery.ts) on a real chunk-shaped SQLite file: what
 * SQLite's plan shows as equality seeks on the director key (a point lookup, an IN list, a child
 * table's rows of one object, sorted) runs on the calling thread with the same rows as a direct
 * read; a scan, a range or a sub-chunk seek is refused (left to the pool), with nothing sent.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import type { Value } from "../../src/common/rowCodec.js";
import { decodeRows } from "../../src/common/rowCodec.js";
import { InlineQueries } from "../../src/worker/inlineQuery.js";
import type { JobSink } from "../../src/worker/queryPool.js";
import { tempDir } from "../support/fs.js";

test("index seeks on the director key run inline with the rows of a direct read; other plans are refused", () => {
  const file = join(tempDir(), "chunk_7.db");
  const db = new Database(file);
  db.exec(`CREATE TABLE Object_7 (objectId INTEGER, ra REAL, decl REAL, subChunkId INTEGER);
    CREATE INDEX Object_7_objectId ON Object_7 (objectId);
    CREATE INDEX Object_7_subChunkId ON Object_7 (subChunkId, decl, ra);
    CREATE TABLE Source_7 (sourceId INTEGER, objectId INTEGER, t REAL, subChunkId INTEGER);
    CREATE INDEX Source_7_objectId ON Source_7 (objectId);`);
  const obj = db.prepare("INSERT INTO Object_7 VALUES (?, ?, ?, ?)");
  const src = db.prepare("INSERT INTO Source_7 VALUES (?, ?, ?, ?)");
  db.transaction(() => {
    for (let i = 1; i <= 500; i++) {
      obj.run(i, i * 0.5, -10 + i * 0.01, i % 7);
      for (let k = 0; k < 4; k++) src.run(i * 10 + k, i, 1000 - k * 3.5 + i, i % 7);
    }
  })();
  const inline = new InlineQueries();
  const run = (sql: string) => {
    const got: { rows: Value[][]; cols: number; done: boolean; error: string | null } = {
      rows: [],
      cols: 0,
      done: false,
      error: null,
    };
    const sink: JobSink = {
      header: (c) => {
        got.cols = c.length;
      },
      batch: (n, data, taken) => {
        got.rows.push(...decodeRows(data, got.cols, n));
        taken();
      },
      done: () => {
        got.done = true;
      },
      error: (e) => {
        got.error = e.message;
      },
    };
    const spec = {
      file,
      attach: null,
      chunkId: 7,
      subChunkIds: [],
      sql,
      tables: [],
      snapshotSeq: 0,
      maxRows: 64,
      maxBytes: 1 << 16,
    };
    const ran = inline.tryRun(spec, ["objectId"], sink);
    return { ran, ...got };
  };
  const direct = (sql: string) => db.prepare(sql).raw(true).safeIntegers(true).all() as Value[][];
  const seeks = [
    "SELECT objectId, ra, decl FROM Object_7 AS o WHERE objectId = 42",
    "SELECT objectId, ra FROM Object_7 AS o WHERE objectId = 100000",
    `SELECT objectId, decl FROM Object_7 AS o WHERE objectId IN (${Array.from({ length: 200 }, (_, i) => i * 3).join(", ")})`,
    "SELECT sourceId, t FROM Source_7 AS s WHERE objectId = 77 ORDER BY t",
  ];
  for (const sql of seeks) {
    const r = run(sql);
    assert.equal(r.ran, true, `runs inline: ${sql}`);
    assert.equal(r.error, null);
    assert.equal(r.done, true);
    assert.deepEqual(r.rows, direct(sql), sql);
  }
  assert.ok(run(seeks[2]!).rows.length > 64, "an IN list's rows come in more than one batch");
  const refused = [
    "SELECT COUNT(*) FROM Object_7 AS o",
    "SELECT objectId FROM Object_7 AS o WHERE objectId > 10",
    "SELECT objectId FROM Object_7 AS o WHERE subChunkId = 3",
    "SELECT objectId FROM Object_7 AS o WHERE ra = 5",
    "SELECT o.objectId, s.sourceId FROM Object_7 AS o JOIN Source_7 AS s ON s.objectId = o.objectId",
    "SELECT nosuch FROM Object_7 AS o WHERE objectId = 1",
  ];
  for (const sql of refused) {
    const r = run(sql);
    assert.equal(r.ran, false, `left to the pool: ${sql}`);
    assert.equal(r.cols + r.rows.length + Number(r.done) + Number(r.error !== null), 0, "nothing sent");
  }
  inline.closeFile(file);
  db.close();
});
