import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/fs.js";
import { ITEST, SKIP_ITEST } from "../support/paths.js";
import { referenceLocate } from "../support/referenceChunker.js";

const DATA = join(ITEST, "case01", "data");

interface Info {
  chunks: Array<{ id: number; nrec: [number, number] }>;
  totals: { chunks: number; rows: number; overlapRows: number; rejected: number };
  directorIndex: { dir: string; buckets: number } | null;
}

function readInfo(dir: string): Info {
  return JSON.parse(readFileSync(join(dir, "chunk_info.json"), "utf8")) as Info;
}

/** Input rows as byte strings (latin1), one per physical line; case01 has no escaped newlines. */
function inputLines(file: string): string[] {
  return gunzipSync(readFileSync(file))
    .toString("latin1")
    .split("\n")
    .filter((l) => l !== "");
}

describe("partition Qserv's case01", { skip: SKIP_ITEST }, () => {
  const out = tempDir();
  const objectDir = join(out, "Object");
  const sourceDir = join(out, "Source");
  const db = join(DATA, "ingest", "database.json");

  test("Object: 88 rows in Qserv's 13 chunks with 24 overlap records", () => {
    const r = runCli([
      "partition",
      "--database",
      db,
      "--table",
      join(DATA, "ingest", "Object.json"),
      "--out",
      objectDir,
      join(DATA, "Object.tsv.gz"),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const info = readInfo(objectDir);
    assert.equal(info.totals.rows, 88);
    assert.equal(info.totals.chunks, 13);
    assert.equal(info.totals.overlapRows, 24);
    const ids = info.chunks.filter((c) => c.nrec[0] > 0).map((c) => c.id);
    assert.equal(ids[0], 6630);
    assert.equal(ids[ids.length - 1], 7648);
    assert.match(r.stdout, /88 rows in 13 chunks/);
  });

  test("Object: per-chunk counts and sub-chunks match the chunker formulas, rows pass through byte for byte", () => {
    const lines = inputLines(join(DATA, "Object.tsv.gz"));
    const expected = new Map<number, number>();
    const expectedRows = new Set<string>();
    for (const l of lines) {
      const f = l.split("\t");
      const loc = referenceLocate(85, 12, Number(f[2]), Number(f[4]));
      expected.set(loc.chunkId, (expected.get(loc.chunkId) ?? 0) + 1);
      expectedRows.add(`${l}\t${loc.chunkId}\t${loc.subChunkId}`);
    }
    const info = readInfo(objectDir);
    assert.deepEqual(new Map(info.chunks.filter((c) => c.nrec[0] > 0).map((c) => [c.id, c.nrec[0]])), expected);
    const written = readdirSync(objectDir)
      .filter((f) => /^chunk_\d+\.txt$/.test(f))
      .flatMap((f) =>
        readFileSync(join(objectDir, f), "latin1")
          .split("\n")
          .filter((l) => l !== ""),
      );
    assert.equal(written.length, 88);
    assert.deepEqual(new Set(written), expectedRows);
  });

  test("Object: the director index maps every objectId to its chunk", () => {
    const info = readInfo(objectDir);
    assert.ok(info.directorIndex);
    const entries = readdirSync(join(objectDir, info.directorIndex.dir)).flatMap((f) =>
      readFileSync(join(objectDir, info.directorIndex!.dir, f), "utf8")
        .split("\n")
        .filter((l) => l !== ""),
    );
    assert.equal(entries.length, 88);
    for (const l of inputLines(join(DATA, "Object.tsv.gz"))) {
      const f = l.split("\t");
      const loc = referenceLocate(85, 12, Number(f[2]), Number(f[4]));
      assert.ok(entries.includes(`${f[0]}\t${loc.chunkId}\t${loc.subChunkId}`), `index entry for ${f[0]}`);
    }
  });

  test("Source (placed by raObject/declObject): the same 13 chunks, 3339 rows", () => {
    const r = runCli([
      "partition",
      "--database",
      db,
      "--table",
      join(DATA, "ingest", "Source.json"),
      "--out",
      sourceDir,
      join(DATA, "Source.tsv.gz"),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const info = readInfo(sourceDir);
    assert.equal(info.totals.rows, 3339);
    assert.equal(info.totals.overlapRows, 0);
    assert.equal(info.directorIndex, null);
    assert.deepEqual(
      info.chunks.map((c) => c.id),
      readInfo(objectDir)
        .chunks.filter((c) => c.nrec[0] > 0)
        .map((c) => c.id),
    );
  });
});
