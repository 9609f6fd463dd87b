import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { isQservError } from "../../src/common/errors.js";
import {
  type DatabaseConfig,
  parseTableConfig,
  type TableConfig,
  tableDialect,
  tableDialectOverrides,
} from "../../src/common/ingestConfig.js";
import { partition } from "../../src/partitioner/partition.js";
import { Chunker } from "../../src/sphere/index.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/fs.js";

const dir = tempDir();
const DB: DatabaseConfig = { database: "t", numStripes: 85, numSubStripes: 12, overlap: 0.01667 };
const chunker = new Chunker({ numStripes: 85, numSubStripesPerStripe: 12, overlap: 0 });

function config(o: Record<string, unknown>, cols: string[]): TableConfig {
  return parseTableConfig({
    database: "t",
    is_partitioned: 1,
    director_table: "",
    director_key: "id",
    longitude_key: "ra",
    latitude_key: "decl",
    schema: [
      ...cols.map((name) => ({ name, type: "bigint" })),
      { name: "chunkId", type: "int" },
      { name: "subChunkId", type: "int" },
    ],
    ...o,
  });
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function rows(out: string): string[] {
  return readdirSync(out)
    .filter((f) => /^chunk_\d+\.txt$/.test(f))
    .flatMap((f) => readFileSync(join(out, f), "latin1").split("\n"))
    .filter((l) => l !== "")
    .sort();
}

const chunkOf = (ra: number, decl: number): number => chunker.locate(ra, decl).chunkId;

describe("table configs: text format, repeated director keys, a second director", () => {
  test("fields_* settings parse as MySQL writes them; explicit overrides win", () => {
    const t = config({ table: "A", fields_terminated_by: "\\t", fields_enclosed_by: '"', fields_escaped_by: "\\\\" }, [
      "id",
      "ra",
      "decl",
    ]);
    assert.deepEqual(tableDialect(t, "a.csv"), { delimiter: "\t", quote: '"', escape: "\\", nullToken: "\\N" });
    assert.equal(tableDialect(t, "a.csv", { delimiter: "," }).delimiter, ",");
    const plain = config({ table: "B" }, ["id", "ra", "decl"]);
    assert.equal(tableDialect(plain, "b.tsv.gz").delimiter, "\t", "no config setting: by extension");
    assert.equal(tableDialect(plain, "b.csv").delimiter, ",");
    const cr = config({ table: "C", lines_terminated_by: "\\r" }, ["id", "ra", "decl"]);
    assert.throws(
      () => tableDialectOverrides(cr),
      (e: unknown) => isQservError(e) && e.code === "BAD_CONFIG",
    );
  });

  test("optional TAP metadata: table description, column unit/ucd/description; absent is fine, wrong types refused", () => {
    const plain = config({ table: "p" }, ["id", "ra", "decl"]);
    assert.equal(plain.description, undefined);
    assert.deepEqual(plain.schema[1], { name: "ra", type: "bigint" });
    const described = config(
      {
        table: "d",
        description: "Objects",
        schema: [
          { name: "id", type: "bigint" },
          { name: "ra", type: "double", unit: "deg", ucd: "pos.eq.ra", description: "Right ascension" },
          { name: "decl", type: "double" },
        ],
      },
      [],
    );
    assert.equal(described.description, "Objects");
    assert.deepEqual(described.schema[1], {
      name: "ra",
      type: "double",
      unit: "deg",
      ucd: "pos.eq.ra",
      description: "Right ascension",
    });
    // Columns are checked one by one, before the keys are.
    assert.throws(
      () => config({ table: "b", schema: [{ name: "ra", type: "double", unit: 1 }] }, []),
      (e) => isQservError(e) && e.code === "BAD_CONFIG" && /schema column 1: "unit" must be a string/.test(e.message),
    );
  });

  test("the partition command reads the format from the config, its flags win", () => {
    const db = file(
      "db.json",
      JSON.stringify({ database: "t", num_stripes: 85, num_sub_stripes: 12, overlap: 0.01667 }),
    );
    const cfg = file(
      "Quoted.json",
      JSON.stringify({
        database: "t",
        table: "Quoted",
        is_partitioned: 1,
        director_key: "id",
        longitude_key: "ra",
        latitude_key: "decl",
        fields_terminated_by: ";",
        fields_enclosed_by: '"',
        schema: ["id", "ra", "decl", "chunkId", "subChunkId"].map((name) => ({ name, type: "double" })),
      }),
    );
    const input = file("quoted.csv", '"1";"10.5";"20.25"\n');
    const ok = runCli(["partition", "--database", db, "--table", cfg, "--out", join(dir, "q1"), "--quiet", input]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(rows(join(dir, "q1")), [
      `"1";"10.5";"20.25";${chunkOf(10.5, 20.25)};${chunker.locate(10.5, 20.25).subChunkId}`,
    ]);
    const flag = runCli([
      "partition",
      "--database",
      db,
      "--table",
      cfg,
      "--out",
      join(dir, "q2"),
      "--delimiter",
      ",",
      input,
    ]);
    assert.equal(flag.status, 2);
    assert.match(flag.stderr, /expected 3 fields, found 1/);
  });

  test("unique_primary_key 0: a director's repeated keys are kept, each in the index", async () => {
    const t = config({ table: "Dup", unique_primary_key: 0 }, ["id", "ra", "decl"]);
    assert.equal(t.uniquePrimaryKey, false);
    const out = join(dir, "dup");
    const input = file("dup.csv", "1,10,20\n1,200,-45\n2,10,20\n");
    const { info } = await partition({ database: DB, table: t, files: [input], outDir: out });
    assert.equal(info.totals.rows, 3);
    assert.equal(info.directorIndex?.unique, false);
    const index = readdirSync(join(out, "director_index"))
      .flatMap((f) => readFileSync(join(out, "director_index", f), "latin1").split("\n"))
      .filter((l) => l !== "")
      .map((l) => l.split("\t").slice(0, 2).join(":"))
      .sort();
    assert.deepEqual(index, [`1:${chunkOf(10, 20)}`, `1:${chunkOf(200, -45)}`, `2:${chunkOf(10, 20)}`].sort());
    const unique = config({ table: "Uniq" }, ["id", "ra", "decl"]);
    await assert.rejects(
      partition({ database: DB, table: unique, files: [input], outDir: join(dir, "uniq") }),
      /dup\.csv:2: duplicate director key id=1/,
    );
  });

  test("a match table: rows placed by the first director, or by the second where its key is NULL", async () => {
    const a = config({ table: "A" }, ["id", "ra", "decl"]);
    const b = config({ table: "B" }, ["id", "ra", "decl"]);
    await partition({ database: DB, table: a, files: [file("a.csv", "1,10,20\n")], outDir: join(dir, "A") });
    await partition({ database: DB, table: b, files: [file("b.csv", "7,200,-45\n")], outDir: join(dir, "B") });
    const m = parseTableConfig({
      database: "t",
      table: "M",
      is_partitioned: 1,
      director_table: "A",
      director_key: "aId",
      director_table2: "B",
      director_key2: "bId",
      schema: ["aId", "bId", "chunkId", "subChunkId"].map((name) => ({ name, type: "bigint" })),
    });
    const input = file("m.csv", "1,7\n\\N,7\n1,\\N\n");
    const out = join(dir, "M");
    await partition({
      database: DB,
      table: m,
      files: [input],
      outDir: out,
      directorDir: join(dir, "A"),
      director2Dir: join(dir, "B"),
    });
    const ca = chunker.locate(10, 20);
    const cb = chunker.locate(200, -45);
    assert.deepEqual(
      rows(out),
      [
        `1,7,${ca.chunkId},${ca.subChunkId}`,
        `1,\\N,${ca.chunkId},${ca.subChunkId}`,
        `\\N,7,${cb.chunkId},${cb.subChunkId}`,
      ].sort(),
    );
    await assert.rejects(
      partition({ database: DB, table: m, files: [input], outDir: join(dir, "M2"), directorDir: join(dir, "A") }),
      /m\.csv:2: row has no position and no index of B was given/,
    );
  });
});
