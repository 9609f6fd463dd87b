/**
 * The partitioner's binary row batch output (PartitionOptions.batch, src/common/rowBatch.ts)
 * holds the rows of its text output, value for value, in the same files and order: with duplicate
 * director keys dropped (and rejected alike), and child rows placed through the director's index.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadDatabaseConfig, loadTableConfig } from "../../src/common/ingestConfig.js";
import { type BatchValue, decodeRecord, RecordReader } from "../../src/common/rowBatch.js";
import { fieldValue } from "../../src/partitioner/dialect.js";
import { partition } from "../../src/partitioner/partition.js";
import { RowScanner } from "../../src/partitioner/rowScanner.js";
import { tempDir } from "../support/fs.js";

const dir = tempDir();
writeFileSync(
  join(dir, "db.json"),
  JSON.stringify({ database: "rbo", num_stripes: 6, num_sub_stripes: 3, overlap: 1 }),
);
const database = loadDatabaseConfig(join(dir, "db.json"));
const base = { database: "rbo", is_partitioned: 1, longitude_key: "ra", latitude_key: "decl" };
writeFileSync(
  join(dir, "obj.json"),
  JSON.stringify({
    ...base,
    table: "Obj",
    director_table: "",
    director_key: "id",
    schema: [
      { name: "id", type: "BIGINT NOT NULL" },
      { name: "ra", type: "DOUBLE NOT NULL" },
      { name: "decl", type: "DOUBLE NOT NULL" },
      { name: "s", type: "TEXT" },
    ],
  }),
);
writeFileSync(
  join(dir, "src.json"),
  JSON.stringify({
    ...base,
    table: "Src",
    director_table: "Obj",
    director_key: "objectId",
    schema: [
      { name: "srcId", type: "BIGINT NOT NULL" },
      { name: "objectId", type: "BIGINT" },
      { name: "ra", type: "DOUBLE" },
      { name: "decl", type: "DOUBLE" },
      { name: "note", type: "TEXT" },
    ],
  }),
);
const obj = loadTableConfig(join(dir, "obj.json"));
const src = loadTableConfig(join(dir, "src.json"));

// Objects, every 50th id given twice (a duplicate: dropped with its overlap rows, and rejected).
const objLines: string[] = [];
for (let i = 0; i < 600; i++) {
  const id = 9007199254740993n + BigInt(i % 50 === 49 ? i - 1 : i);
  const s = i % 7 === 0 ? "\\N" : i % 7 === 1 ? "" : `Véga\\,${i}\\\\x`;
  objLines.push(`${id},${((i * 137.508) % 360).toFixed(6)},${(((i * 61.803) % 170) - 85).toFixed(6)},${s}`);
}
writeFileSync(join(dir, "obj.csv"), `${objLines.join("\n")}\n`);
// Sources: every third one without a position, placed through its object.
const srcLines: string[] = [];
for (let i = 0; i < 400; i++) {
  const o = objLines[(i * 3) % 48] as string;
  const [id, ra, decl] = o.split(",");
  const pos = i % 3 === 0 ? "\\N,\\N" : `${ra},${decl}`;
  srcLines.push(`${i},${id},${pos},${i % 2 ? "\\N" : `n${i}`}`);
}
writeFileSync(join(dir, "src.csv"), `${srcLines.join("\n")}\n`);

/** A text output file's rows as the worker's text load reads them: each field's value, NULL as null. */
function textRows(path: string): BatchValue[][] {
  const info = JSON.parse(readFileSync(join(path, "..", "chunk_info.json"), "utf8"));
  const sc = new RowScanner(info.dialect);
  const rows: BatchValue[][] = [];
  sc.feed(readFileSync(path), true, (buf) => {
    rows.push(Array.from({ length: sc.fieldCount }, (_, i) => fieldValue(sc.field(buf, i), info.dialect)));
  });
  return rows;
}

/** A batch output file's records, their values as text (INT64 and DOUBLE as their digits). */
function batchRows(path: string): BatchValue[][] {
  const rows: BatchValue[][] = [];
  new RecordReader().feed(readFileSync(path), true, (buf, start, end) => {
    const v: BatchValue[] = [];
    const n = decodeRecord(buf, start, end, v);
    rows.push(v.slice(0, n).map((x) => (x === null || typeof x === "string" ? x : String(x))));
  });
  return rows;
}

async function both(table: typeof obj, file: string, directors: { text?: string; batch?: string } = {}) {
  const out: Record<string, string> = {};
  for (const mode of ["text", "batch"] as const) {
    out[mode] = join(dir, `${table.table}-${mode}`);
    const director = directors[mode];
    await partition({
      database,
      table,
      files: [join(dir, file)],
      outDir: out[mode] as string,
      rejectsFile: join(dir, `${table.table}-${mode}.rejects`),
      batch: mode === "batch",
      ...(director === undefined ? {} : { directorDir: director }),
    });
  }
  return out as { text: string; batch: string };
}

describe("partition output as binary row batches", () => {
  test("holds the text output's rows, value for value; duplicates and positionless rows alike", async () => {
    const o = await both(obj, "obj.csv");
    const s = await both(src, "src.csv", { text: o.text, batch: o.batch });
    for (const out of [o, s]) {
      const textInfo = JSON.parse(readFileSync(join(out.text, "chunk_info.json"), "utf8"));
      const batchInfo = JSON.parse(readFileSync(join(out.batch, "chunk_info.json"), "utf8"));
      assert.equal(batchInfo.rowFormat, "batch");
      assert.equal(textInfo.rowFormat, undefined);
      assert.deepEqual(batchInfo.chunks, textInfo.chunks);
      assert.deepEqual(batchInfo.totals, textInfo.totals);
      const files = readdirSync(out.text).filter((f) => f.startsWith("chunk_") && f.endsWith(".txt"));
      assert.ok(files.length > 1);
      assert.deepEqual(readdirSync(out.batch).sort(), readdirSync(out.text).sort());
      for (const f of files) assert.deepEqual(batchRows(join(out.batch, f)), textRows(join(out.text, f)), f);
    }
    // Duplicates were found and dropped (12 of them), rejected with the same reasons.
    assert.equal(JSON.parse(readFileSync(join(o.batch, "chunk_info.json"), "utf8")).totals.rejected, 12);
    const reasons = (m: string) =>
      readFileSync(join(dir, `Obj-${m}.rejects`), "latin1")
        .split("\n")
        .map((l) => l.split("\t")[0]);
    assert.deepEqual(reasons("batch"), reasons("text"));
    assert.ok(existsSync(join(dir, "Src-batch.rejects")));
  });
});
