/**
 * Binary row batches (src/common/rowBatch.ts) load exactly what text loads: the same CSV and
 * Parquet files ingested by a czar that uploads row batches (the default) and by one that uploads
 * delimited text (MINI_QSERV_LOAD_FORMAT=text), each over its own worker on loopback; every chunk
 * table of the two workers is compared row by row, with SQLite's storage class of each value and
 * a double's exact bits (ids past 2^53, -0.0, NaN as NULL, empty strings against NULL, non-ASCII
 * text, child rows placed through the director's index), and the czars' answers against one
 * SQLite database holding the rows.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import Database from "better-sqlite3";
import { postNdjson } from "../../src/cli/httpClient.js";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { loadTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { floatValue } from "../../src/partitioner/valueText.js";
import { chunkIdOfFile, databaseDir } from "../../src/worker/layout.js";
import { tempDir } from "../support/fs.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { postQuery } from "../support/smallCluster.js";

const dir = tempDir();
const stripes = { numStripes: 6, numSubStripes: 3 };
const dbFile = join(dir, "database.json");
writeFileSync(dbFile, JSON.stringify({ database: "rb", num_stripes: 6, num_sub_stripes: 3, overlap: 1 }));

const OBJ_SCHEMA = [
  { name: "id", type: "BIGINT NOT NULL" },
  { name: "ra", type: "DOUBLE NOT NULL" },
  { name: "decl", type: "DOUBLE NOT NULL" },
  { name: "x", type: "DOUBLE" },
  { name: "f", type: "FLOAT" },
  { name: "n", type: "INT" },
  { name: "s", type: "VARCHAR(32)" },
  { name: "big", type: "BIGINT" },
];
const SRC_SCHEMA = [
  { name: "srcId", type: "BIGINT NOT NULL" },
  { name: "objectId", type: "BIGINT" },
  { name: "ra", type: "DOUBLE" },
  { name: "decl", type: "DOUBLE" },
  { name: "flux", type: "DOUBLE" },
  { name: "note", type: "TEXT" },
];

function config(table: string, director: boolean): string {
  const path = join(dir, `${table}.json`);
  const base = { database: "rb", table, is_partitioned: 1, longitude_key: "ra", latitude_key: "decl" };
  const cfg = director
    ? { ...base, director_table: "", director_key: "id", schema: OBJ_SCHEMA }
    : { ...base, director_table: table.replace("Src", "Obj"), director_key: "objectId", schema: SRC_SCHEMA };
  writeFileSync(path, JSON.stringify(cfg));
  return path;
}

interface Obj {
  id: bigint;
  ra: number;
  decl: number;
  /** NaN: NULL in CSV, NaN in Parquet (loaded as NULL under --nan-as-null). */
  x: number | null;
  f: number | null;
  n: number | null;
  s: string | null;
  big: bigint | null;
}

const STRINGS = ["", "Véga ß", "日本語", "tab\there", "comma,back\\slash", "plain", "quote'd"];
const DOUBLES = [-0, 0.1 + 0.2, 1e300, -2.5e-300, 5e-324, 2 ** 63 - 1024, 123456789.12345679, Number.NaN];
const FLOATS = [0.1, -0, 3.4028234663852886e38, 1.1754943508222875e-38, 16777217, 1 / 3];

/** A 32-bit float as the double of its shortest digits: what its text in CSV and its value in Parquet both are. */
const shortest = (x: number): number => floatValue(Math.fround(x), "f", false) as number;

const objs: Obj[] = Array.from({ length: 1200 }, (_, i) => ({
  id: (1n << 53n) + BigInt(i) * 3n + 1n,
  ra: i % 97 === 0 ? 0 : Math.round(((i * 137.508) % 360) * 1e6) / 1e6,
  decl: i % 101 === 0 ? 89.99 : Math.round((((i * 61.803) % 170) - 85) * 1e6) / 1e6,
  x: i % 11 === 0 ? null : i % 2 === 0 ? (DOUBLES[i % DOUBLES.length] as number) : Math.sin(i) * 10 ** (i % 30),
  f: i % 13 === 0 ? null : shortest(i % 3 === 0 ? (FLOATS[i % FLOATS.length] as number) : i / 7),
  n: i % 5 === 0 ? null : ((i * 7919) % 2000000) - 1000000,
  s: i % 17 === 0 ? null : `${STRINGS[i % STRINGS.length]}`,
  big: i % 19 === 0 ? null : i % 2 ? (1n << 62n) + BigInt(i) : -(1n << 63n) + BigInt(i),
}));
// Children: most at a position, some placed only through their object (no position).
const srcs = Array.from({ length: 900 }, (_, i) => {
  const o = objs[(i * 7) % objs.length] as Obj;
  const placed = i % 4 !== 0;
  return {
    srcId: BigInt(i) + (1n << 60n),
    objectId: o.id,
    ra: placed ? o.ra : null,
    decl: placed ? o.decl : null,
    flux: i % 6 === 0 ? null : i % 2 ? -0 : i * 0.001,
    note: i % 5 === 0 ? "" : i % 5 === 1 ? null : `ñote ${i}`,
  };
});

const esc = (v: unknown): string => {
  if (v === null) return "\\N";
  if (typeof v === "number") return Number.isNaN(v) ? "\\N" : Object.is(v, -0) ? "-0.0" : String(v);
  return String(v).replace(/[\\,\n\t]/g, (c) => (c === "\n" ? "\\n" : c === "\t" ? "\\t" : `\\${c}`));
};
function writeCsv(rows: ReadonlyArray<Record<string, unknown>>, path: string): void {
  writeFileSync(path, rows.map((r) => `${Object.values(r).map(esc).join(",")}\n`).join(""));
}

async function writeParquet(rows: ReadonlyArray<Record<string, unknown>>, ddl: string, path: string): Promise<void> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    await c.run(`CREATE TABLE t (${ddl})`);
    const a = await c.createAppender("t");
    const types = ddl.split(",").map((d) => d.trim().split(/\s+/)[1] as string);
    for (const r of rows) {
      Object.values(r).forEach((v, k) => {
        if (v === null) a.appendNull();
        else if (types[k] === "BIGINT") a.appendBigInt(v as bigint);
        else if (types[k] === "INTEGER") a.appendInteger(v as number);
        else if (types[k] === "FLOAT") a.appendFloat(v as number);
        else if (types[k] === "DOUBLE") a.appendDouble(v as number);
        else a.appendVarchar(v as string);
      });
      a.endRow();
    }
    a.closeSync();
    await c.run(`COPY t TO '${path}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 500)`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const files = {
  objCsv: join(dir, "obj.csv"),
  objPq: join(dir, "obj.parquet"),
  srcCsv: join(dir, "src.csv"),
  srcPq: join(dir, "src.parquet"),
};
/** Which czar: "batch" uploads row batches, "text" delimited text. */
const clusters: Record<"batch" | "text", { worker?: WorkerProcess; czar?: CzarProcess; data: string }> = {
  batch: { data: join(dir, "wb") },
  text: { data: join(dir, "wt") },
};
const ref = referenceDb();

before(async () => {
  writeCsv(objs as unknown as Record<string, unknown>[], files.objCsv);
  writeCsv(srcs, files.srcCsv);
  await writeParquet(
    objs as unknown as Record<string, unknown>[],
    "id BIGINT, ra DOUBLE, decl DOUBLE, x DOUBLE, f FLOAT, n INTEGER, s VARCHAR, big BIGINT",
    files.objPq,
  );
  await writeParquet(
    srcs,
    "srcId BIGINT, objectId BIGINT, ra DOUBLE, decl DOUBLE, flux DOUBLE, note VARCHAR",
    files.srcPq,
  );
  const refCfg = loadTableConfig(config("Ref", true));
  loadReference(ref, files.objCsv, refCfg, tableDialect(refCfg, files.objCsv), stripes);
  await Promise.all(
    (["batch", "text"] as const).map(async (k) => {
      const c = clusters[k];
      c.worker = await startWorkerProcess(c.data);
      c.czar = await startCzarProcess(
        join(dir, `czar-${k}`),
        [`w1=${c.worker.address}`],
        ["--health-interval", "0", "--ingest-root", dir],
        k === "text" ? { env: { MINI_QSERV_LOAD_FORMAT: "text" } } : {},
      );
    }),
  );
});

after(async () => {
  for (const c of Object.values(clusters)) {
    await c.czar?.stop();
    await c.worker?.stop();
  }
  ref.close();
});

/** POST /ingest of one file (NaN as NULL); the load's row count. */
async function ingest(k: "batch" | "text", table: string, director: boolean, file: string): Promise<number> {
  const r = await postNdjson(
    `${(clusters[k].czar as CzarProcess).url}/ingest`,
    {
      database: JSON.parse(readFileSync(dbFile, "utf8")),
      table: JSON.parse(readFileSync(config(table, director), "utf8")),
      files: [file],
      nanAsNull: true,
    },
    () => {},
  );
  return Number(r.rows);
}

/** A value with its storage class, a double by its bits: "real:-0" and "real:0" differ, 1 and 1.0 too. */
function cell(type: string, v: unknown): string {
  if (typeof v === "number") {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return `${type}:${b.toString("hex")}`;
  }
  if (Buffer.isBuffer(v)) return `${type}:${v.toString("hex")}`;
  return `${type}:${String(v)}`;
}

/** Every table of database rb in a worker's chunk files: "chunk/table" → its rows in rowid order. */
function chunkTables(dataDir: string): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  const root = databaseDir(dataDir, "rb");
  for (const f of readdirSync(root).sort()) {
    const chunk = chunkIdOfFile(f);
    if (chunk === null) continue;
    const db = new Database(join(root, f), { readonly: true });
    try {
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_mq%' ESCAPE '\\'")
        .pluck()
        .all() as string[];
      for (const t of tables) {
        const cols = db.prepare(`SELECT name FROM pragma_table_info('${t}')`).pluck().all() as string[];
        const sql = `SELECT ${cols.map((c) => `typeof("${c}"), "${c}"`).join(", ")} FROM "${t}" ORDER BY rowid`;
        const rows = db.prepare(sql).raw().safeIntegers(true).all() as unknown[][];
        out.set(
          `${chunk}/${t}`,
          rows.map((r) => cols.map((_, i) => cell(r[2 * i] as string, r[2 * i + 1]))),
        );
      }
    } finally {
      db.close();
    }
  }
  return out;
}

const text = (rs: unknown[][]): string[][] => rs.map((r) => r.map((v) => (v === null ? "NULL" : String(v))));

describe("binary row batches load what text loads", () => {
  test("CSV and Parquet, director and child tables: every chunk table alike, row by row", async () => {
    await Promise.all(
      (["batch", "text"] as const).map(async (k) => {
        assert.equal(await ingest(k, "ObjCsv", true, files.objCsv), objs.length);
        assert.equal(await ingest(k, "ObjPq", true, files.objPq), objs.length);
        assert.equal(await ingest(k, "SrcCsv", false, files.srcCsv), srcs.length);
        assert.equal(await ingest(k, "SrcPq", false, files.srcPq), srcs.length);
      }),
    );
    const batch = chunkTables(clusters.batch.data);
    const textLoaded = chunkTables(clusters.text.data);
    assert.deepEqual([...batch.keys()].sort(), [...textLoaded.keys()].sort());
    let rows = 0;
    for (const [key, want] of textLoaded) {
      assert.deepEqual(batch.get(key), want, key);
      rows += want.length;
    }
    // Every row is there (and the overlap): 4 tables, each table's rows at least once.
    assert.ok(rows >= 2 * (objs.length + srcs.length), `${rows} rows`);
    // The special values did reach the tables (not all NULL): an id past 2^53 and non-ASCII text.
    const all = [...batch.values()].flat().flat();
    assert.ok(all.includes(`integer:${objs[1]?.id}`));
    assert.ok(all.includes("text:日本語"));
    assert.ok(all.includes("text:"));
  });

  test("both czars answer as one SQLite database holding the rows", async () => {
    const cols = "id, ra, decl, x, f, n, s, big";
    const want = text(ref.prepare(`SELECT ${cols} FROM Ref ORDER BY id`).raw().safeIntegers(true).all() as unknown[][]);
    for (const k of ["batch", "text"] as const) {
      for (const table of ["ObjCsv", "ObjPq"]) {
        const r = await postQuery(
          (clusters[k].czar as CzarProcess).url,
          `SELECT ${cols} FROM ${table} ORDER BY id`,
          "rb",
        );
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.deepEqual(text(r.body.rows as unknown[][]), want, `${k} ${table}`);
      }
    }
  });
});
