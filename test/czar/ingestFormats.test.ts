/**
 * The same rows ingested from CSV, Parquet (DuckDB's writer) and FITS (astropy's) into a real
 * cluster with `mini-qserv ingest` answer identically, each checked against one SQLite database
 * holding the rows.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { loadTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import {
  CATALOG_SCHEMA,
  catalogRows,
  ensureAstropy,
  writeCsv,
  writeFits,
  writeParquet,
} from "../support/catalogWriters.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/fs.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { postQuery } from "../support/smallCluster.js";

const dir = tempDir();
// Few stripes: few chunks, a fast load (the partitioner tests cover many).
const stripes = { numStripes: 4, numSubStripes: 4 };
const db = join(dir, "database.json");
writeFileSync(db, JSON.stringify({ database: "fmt", num_stripes: 4, num_sub_stripes: 4, overlap: 0.5 }));

function tableConfig(table: string): string {
  const path = join(dir, `${table}.json`);
  const cfg = { database: "fmt", table, is_partitioned: 1, director_table: "", director_key: "id" };
  writeFileSync(path, JSON.stringify({ ...cfg, longitude_key: "ra", latitude_key: "decl", schema: CATALOG_SCHEMA }));
  return path;
}

const noAstropy = ensureAstropy();
const rows = catalogRows(1500);
const files: Record<string, string> = { ObjCsv: join(dir, "obj.csv"), ObjPq: join(dir, "obj.parquet") };
let workers: WorkerProcess[] = [];
let czar: CzarProcess | undefined;
const ref = referenceDb();

before(async () => {
  writeCsv(rows, files.ObjCsv as string);
  await writeParquet(rows, files.ObjPq as string, "zstd", 2048);
  if (noAstropy === null) {
    files.ObjFits = join(dir, "obj.fits");
    writeFits(rows, files.ObjFits);
  }
  const refCfg = loadTableConfig(tableConfig("Ref"));
  loadReference(ref, files.ObjCsv as string, refCfg, tableDialect(refCfg, files.ObjCsv as string), stripes);
  workers = await Promise.all([1, 2].map((i) => startWorkerProcess(join(dir, `w${i}`))));
  czar = await startCzarProcess(
    join(dir, "czar"),
    workers.map((w, i) => `w${i + 1}=${w.address}`),
    ["--health-interval", "0"],
  );
});

after(async () => {
  await czar?.stop();
  for (const w of workers) await w.stop();
  ref.close();
});

/** Every cell as text: ids past 2^53 come as decimal strings over HTTP, bigints from SQLite. */
const text = (rs: unknown[][]): string[][] => rs.map((r) => r.map((v) => (v === null ? "NULL" : String(v))));

async function ask(sql: string): Promise<string[][]> {
  const r = await postQuery((czar as CzarProcess).url, sql, "fmt");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return text(r.body.rows as unknown[][]);
}

const reference = (sql: string): string[][] => text(ref.prepare(sql).raw().safeIntegers(true).all() as unknown[][]);

describe("one catalog from CSV, Parquet and FITS", () => {
  for (const table of ["ObjCsv", "ObjPq", "ObjFits"]) {
    test(`${table}: ingested with mini-qserv ingest, it answers as SQLite does`, {
      skip: table === "ObjFits" && noAstropy !== null ? (noAstropy as string) : false,
    }, async () => {
      const r = runCli([
        "ingest",
        "--czar",
        (czar as CzarProcess).url,
        "--database",
        db,
        "--table",
        tableConfig(table),
        files[table] as string,
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`${table}: ${rows.length} rows loaded`));
      const cols = "id, ra, decl, mag, band, name, flag, nobs";
      assert.deepEqual(
        await ask(`SELECT ${cols} FROM ${table} ORDER BY id`),
        reference(`SELECT ${cols} FROM Ref ORDER BY id`),
      );
      const agg = "COUNT(*), MIN(id), MAX(id), COUNT(mag), SUM(nobs), COUNT(DISTINCT band)";
      assert.deepEqual(
        await ask(`SELECT ${agg} FROM ${table} WHERE qserv_areaspec_box(0, -40, 180, 40)`),
        reference(`SELECT ${agg} FROM Ref WHERE scisql_s2PtInBox(ra, decl, 0, -40, 180, 40) = 1`),
      );
      // Groups compared as sets: MySQL's collation orders names otherwise than SQLite's.
      assert.deepEqual(
        (await ask(`SELECT name, COUNT(*) FROM ${table} WHERE flag = 1 AND mag IS NULL GROUP BY name`)).sort(),
        reference("SELECT name, COUNT(*) FROM Ref WHERE flag = 1 AND mag IS NULL GROUP BY name").sort(),
      );
    });
  }
});
