/**
 * Parquet (written by DuckDB) and FITS (written by astropy) partition into the very chunk files
 * the same rows give as CSV; their errors name the file, the row (Parquet: row group and row)
 * and the column; `describe` says what astropy reads.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { asyncBufferFromFile, parquetMetadataAsync } from "hyparquet";
import { QservError } from "../../src/common/errors.js";
import { loadDatabaseConfig, loadTableConfig } from "../../src/common/ingestConfig.js";
import { type PartitionOptions, partition } from "../../src/partitioner/partition.js";
import {
  CATALOG_SCHEMA,
  catalogRows,
  ensureAstropy,
  python,
  writeCsv,
  writeFits,
  writeParquet,
} from "../support/catalogWriters.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/fs.js";

const dir = tempDir();
const db = join(dir, "database.json");
// Few stripes: few chunk files to write (the partitioner's own tests cover the chunking).
writeFileSync(db, JSON.stringify({ database: "fmt", num_stripes: 6, num_sub_stripes: 3, overlap: 0.5 }));

function tableConfig(name: string, schema: { name: string; type: string }[] = CATALOG_SCHEMA): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      database: "fmt",
      table: "Obj",
      is_partitioned: 1,
      director_table: "",
      director_key: "id",
      longitude_key: "ra",
      latitude_key: "decl",
      schema,
    }),
  );
  return path;
}
const obj = tableConfig("Obj");

type Reading = Partial<PartitionOptions>;

/** Partitions `file` (in this process); the chunk files' lines, sorted, by file name. */
async function chunks(file: string, table = obj, o: Reading = {}): Promise<Map<string, string[]>> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  await partition({
    database: loadDatabaseConfig(db),
    table: loadTableConfig(table),
    files: [file],
    outDir: out,
    ...o,
  });
  const m = new Map<string, string[]>();
  for (const f of readdirSync(out).filter((f) => f.endsWith(".txt"))) {
    m.set(
      f,
      readFileSync(join(out, f), "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .sort(),
    );
  }
  return new Map([...m].sort((x, y) => (x[0] < y[0] ? -1 : 1)));
}

/** The message the partition of `file` fails with. */
async function partitionError(file: string, table = obj, o: Reading = {}): Promise<string> {
  const e = await chunks(file, table, o).then(
    () => assert.fail(`partition of ${file} should fail`),
    (e: unknown) => e,
  );
  assert.ok(e instanceof QservError, String(e));
  return e.message;
}

// DuckDB cuts row groups of 2048 rows at least: 6000 rows make three.
const rows = catalogRows(6000);
const csv = join(dir, "obj.csv");
writeCsv(rows, csv);
const expected = await chunks(csv);

describe("Parquet input (DuckDB's writer)", () => {
  test("snappy and zstd, several row groups, dictionary strings: the chunk files of the CSV, byte for byte", async () => {
    for (const [codec, groupRows] of [
      ["snappy", 2048],
      ["zstd", 2048],
    ] as const) {
      const pq = join(dir, `obj-${codec}.parquet`);
      await writeParquet(rows, pq, codec, groupRows);
      const meta = await parquetMetadataAsync(await asyncBufferFromFile(pq));
      assert.ok(meta.row_groups.length >= 3, `${codec}: ${meta.row_groups.length} row groups`);
      const band = meta.row_groups[0]?.columns[4]?.meta_data;
      assert.equal(band?.codec, codec.toUpperCase());
      assert.ok(
        band?.encodings.some((e) => e.includes("DICTIONARY")),
        `band encodings ${band?.encodings}`,
      );
      assert.deepEqual(await chunks(pq), expected, codec);
    }
  });

  test("non-ASCII text and ids up to 2^63-1 stay exact", async () => {
    const some = catalogRows(50, true);
    some[3] = { ...(some[3] as (typeof some)[number]), id: (1n << 63n) - 1n };
    const [c, p] = [join(dir, "na.csv"), join(dir, "na.parquet")];
    writeCsv(some, c);
    await writeParquet(some, p, "zstd", 20);
    const got = await chunks(p);
    assert.deepEqual(got, await chunks(c));
    assert.ok([...got.values()].flat().some((l) => l.startsWith("9223372036854775807,")));
    assert.ok([...got.values()].flat().some((l) => l.includes("Véga ß")));
  });

  test("timestamps, dates and booleans as MySQL text; the format chosen by the bytes or --format", async () => {
    const p = join(dir, "times.parquet");
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const inst = await DuckDBInstance.create(":memory:");
    const c = await inst.connect();
    await c.run(
      `COPY (SELECT 1::BIGINT AS id, 10.5::DOUBLE AS ra, -3.25::DOUBLE AS decl, TIMESTAMP '2024-02-29 12:34:56.789012' AS t,
         TIMESTAMP '1969-12-31 23:59:59.5' AS t0, DATE '1999-12-31' AS d, true AS b) TO '${p}' (FORMAT parquet)`,
    );
    c.closeSync();
    inst.closeSync();
    const t = tableConfig("Times", [
      { name: "id", type: "BIGINT NOT NULL" },
      { name: "ra", type: "DOUBLE NOT NULL" },
      { name: "decl", type: "DOUBLE NOT NULL" },
      { name: "t", type: "DATETIME(6)" },
      { name: "t0", type: "DATETIME(6)" },
      { name: "d", type: "DATE" },
      { name: "b", type: "BOOLEAN" },
    ]);
    const homes = [...(await chunks(p, t)).entries()].filter(([f]) => !f.includes("overlap"));
    const lines = homes.flatMap(([, l]) => l);
    assert.deepEqual(
      lines.map((l) => l.split(",").slice(0, 7).join(",")),
      ["1,10.5,-3.25,2024-02-29 12:34:56.789012,1969-12-31 23:59:59.5,1999-12-31,1"],
    );
    // No extension: the magic bytes decide; --format says it outright.
    const bare = join(dir, "times-data");
    writeFileSync(bare, readFileSync(p));
    assert.deepEqual(await chunks(bare, t), await chunks(p, t));
    assert.match(await partitionError(csv, t, { format: "parquet" }), /obj\.csv: not a readable Parquet file/);
  });

  test("columns matched by name: extra ones named (or dropped), missing ones NULL only where allowed", async () => {
    const p = join(dir, "extra.parquet");
    await writeParquet(rows.slice(0, 200), p, "snappy", 100, ", 42 AS exposure, 'x' AS visit");
    assert.match(
      await partitionError(p),
      /extra\.parquet: the file's columns do not match the table's \(not columns of the table: exposure, visit \(give --drop-extra-columns/,
    );
    const some = join(dir, "some.csv");
    writeCsv(rows.slice(0, 200), some);
    assert.deepEqual(await chunks(p, obj, { dropExtraColumns: true }), await chunks(some));

    const more = tableConfig("More", [...CATALOG_SCHEMA, { name: "seeing", type: "FLOAT" }]);
    const lines = [...(await chunks(p, more, { dropExtraColumns: true })).values()].flat();
    assert.ok(
      lines.every((l) => l.split(",").at(-3) === "\\N"),
      "a column the file lacks is NULL",
    );
    const strict = tableConfig("Strict", [...CATALOG_SCHEMA, { name: "seeing", type: "FLOAT NOT NULL" }]);
    assert.match(
      await partitionError(p, strict, { dropExtraColumns: true }),
      /missing from the file and declared NOT NULL: seeing/,
    );
  });

  test("NaN is not NULL: its row is refused with the row group and row, or loads as NULL with --nan-as-null", async () => {
    const p = join(dir, "nan.parquet");
    const nanId = rows[2500]?.id;
    await writeParquet(rows, p, "zstd", 2048);
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const inst = await DuckDBInstance.create(":memory:");
    const c = await inst.connect();
    const q = join(dir, "nan2.parquet");
    await c.run(
      `COPY (SELECT * REPLACE (CASE WHEN id = ${nanId} THEN 'NaN'::FLOAT ELSE mag END AS mag) FROM '${p}') TO '${q}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`,
    );
    c.closeSync();
    inst.closeSync();
    assert.match(
      await partitionError(q),
      /nan2\.parquet: row group 2, row 453 \(row 2501 of the file\): column mag: NaN \(MySQL has no NaN/,
    );
    const got = [...(await chunks(q, obj, { nanAsNull: true })).values()].flat();
    const row = got.find((l) => l.startsWith(`${nanId},`)) as string;
    assert.equal(row.split(",")[3], "\\N");
    const rejects = join(dir, "nan.rejects");
    await chunks(q, obj, { rejectsFile: rejects });
    assert.match(
      readFileSync(rejects, "utf8"),
      /^nan2\.parquet: row group 2, row 453 \(row 2501 of the file\): column mag: NaN/,
    );
  });

  test("a file that is not Parquet is named", async () => {
    const p = join(dir, "broken.parquet");
    writeFileSync(p, "PAR1 this is not a parquet file PAR1");
    assert.match(await partitionError(p), /broken\.parquet: not a readable Parquet file/);
  });
});

const noAstropy = ensureAstropy();

describe("FITS input (astropy's writer)", { skip: noAstropy ?? false }, () => {
  const fits = join(dir, "obj.fits");

  test("a BINTABLE, plain and gzipped: the chunk files of the CSV, byte for byte", async () => {
    writeFits(rows, fits);
    writeFileSync(`${fits}.gz`, gzipSync(readFileSync(fits)));
    assert.deepEqual(await chunks(fits), expected);
    assert.deepEqual(await chunks(`${fits}.gz`), expected);
  });

  test("errors name the file, the row and the column", async () => {
    const strict = tableConfig(
      "NobsNotNull",
      CATALOG_SCHEMA.map((c) => (c.name === "nobs" ? { ...c, type: "INT NOT NULL" } : c)),
    );
    assert.match(
      await partitionError(fits, strict),
      /obj\.fits: row 1: column nobs cannot be NULL \(declared NOT NULL\)/,
    );
  });

  test("unsigned integers (TZERO) exact; vector and variable-length columns refused by name", async () => {
    const f = join(dir, "kinds.fits");
    python(`
import numpy as np
from astropy.table import Table
from astropy.io import fits
t = Table()
t['id'] = np.array([1, 2], dtype=np.int64)
t['ra'] = [1.0, 2.0]
t['decl'] = [3.0, 4.0]
t['u16'] = np.array([65535, 7], dtype=np.uint16)
t['u32'] = np.array([4294967295, 8], dtype=np.uint32)
t['u64'] = np.array([9223372036854775807, 9], dtype=np.uint64)
t['u8'] = np.array([255, 0], dtype=np.uint8)
t['vec'] = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
t.write(${JSON.stringify(f)}, overwrite=True)
vla = fits.Column(name='vla', format='PJ()', array=np.array([np.array([1, 2]), np.array([3])], dtype=object))
cols = [fits.Column(name='id', format='K', array=np.array([1, 2])), fits.Column(name='ra', format='D', array=[1.0, 2.0]),
        fits.Column(name='decl', format='D', array=[3.0, 4.0]), vla]
fits.BinTableHDU.from_columns(cols).writeto(${JSON.stringify(f.replace("kinds", "vla"))}, overwrite=True)
`);
    const base = CATALOG_SCHEMA.slice(0, 3);
    const ints = tableConfig("Ints", [
      ...base,
      { name: "u16", type: "SMALLINT UNSIGNED" },
      { name: "u32", type: "INT UNSIGNED" },
      { name: "u64", type: "BIGINT UNSIGNED" },
      { name: "u8", type: "TINYINT UNSIGNED" },
    ]);
    const lines = [...(await chunks(f, ints, { dropExtraColumns: true })).values()]
      .flat()
      .map((l) => l.split(",").slice(0, 7).join(","));
    assert.deepEqual([...new Set(lines)].sort(), ["1,1,3,65535,4294967295,9223372036854775807,255", "2,2,4,7,8,9,0"]);
    assert.match(
      await partitionError(f, tableConfig("Vec", [...base, { name: "vec", type: "DOUBLE" }]), {
        dropExtraColumns: true,
      }),
      /kinds\.fits: column vec: not supported: a vector column \(3 values a row\)/,
    );
    assert.match(
      await partitionError(f.replace("kinds", "vla"), tableConfig("Vla", [...base, { name: "vla", type: "INT" }])),
      /vla\.fits: column vla: not supported: a variable-length array column/,
    );
  });

  test("describe says what astropy reads: names, units, descriptions, types; its config loads the file", async () => {
    const r = runCli([
      "describe",
      fits,
      "--database",
      "fmt",
      "--table",
      "Obj",
      "--director-key",
      "id",
      "--ra",
      "ra",
      "--dec",
      "decl",
    ]);
    assert.equal(r.status, 0, r.stderr);
    const cfg = JSON.parse(r.stdout) as {
      schema: { name: string; type: string; unit?: string; description?: string }[];
    };
    const seen = JSON.parse(
      python(`
import json
from astropy.table import Table
t = Table.read(${JSON.stringify(fits)})
print(json.dumps([{"name": c.name, "unit": str(c.unit) if c.unit else None, "description": c.description,
                   "kind": c.dtype.kind, "size": c.dtype.itemsize} for c in t.columns.values()]))
`),
    ) as { name: string; unit: string | null; description: string | null; kind: string; size: number }[];
    const described = cfg.schema.filter((c) => c.name !== "chunkId" && c.name !== "subChunkId");
    assert.deepEqual(
      described.map((c) => [c.name, c.unit ?? null, c.description ?? null]),
      seen.map((c) => [c.name, c.unit, c.description]),
    );
    const mysqlKind = (t: string) =>
      /^BIGINT/.test(t)
        ? "i8"
        : /^INT/.test(t)
          ? "i4"
          : /^DOUBLE/.test(t)
            ? "f8"
            : /^FLOAT/.test(t)
              ? "f4"
              : /^BOOLEAN/.test(t)
                ? "b1"
                : /^VARCHAR/.test(t)
                  ? "U"
                  : t;
    assert.deepEqual(
      described.map((c) => mysqlKind(c.type)),
      seen.map((c) => ("SU".includes(c.kind) ? "U" : `${c.kind}${c.size}`)),
    );
    const path = join(dir, "described.json");
    writeFileSync(path, r.stdout);
    assert.deepEqual(await chunks(fits, path), expected);
  });
});
