import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type Database from "better-sqlite3";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { isQservError } from "../../src/common/errors.js";
import { type DatabaseConfig, loadDatabaseConfig, loadTableConfig } from "../../src/common/ingestConfig.js";
import { dialectFor } from "../../src/partitioner/dialect.js";
import { partition } from "../../src/partitioner/partition.js";
import { WorkerClient } from "../../src/worker/client.js";
import { NO_CHUNK } from "../../src/worker/layout.js";
import type { ListResponse } from "../../src/worker/messages.js";
import { readChunkInfo, uploadPartition, uploadReplicated } from "../../src/worker/upload.js";
import { tempDir } from "../support/fs.js";
import { idXHeader } from "../support/loads.js";
import { ITEST, SKIP_ITEST } from "../support/paths.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { rowSet } from "../support/rows.js";
import * as ref from "../support/sphereRef.js";

interface Case {
  name: string;
  db: DatabaseConfig;
  ref: Database.Database;
  chunks: number[];
}

function refRows(db: Database.Database, sql: string, ...params: unknown[]): unknown[][] {
  return db
    .prepare(sql)
    .raw(true)
    .safeIntegers(true)
    .all(...params) as unknown[][];
}

describe("a worker process holding case01 and case02", { skip: SKIP_ITEST }, () => {
  const dir = tempDir();
  const dataDir = join(dir, "data");
  const cases: Case[] = [];
  let w: WorkerProcess;
  let client: WorkerClient;

  before(async () => {
    w = await startWorkerProcess(dataDir, ["--threads", "2"]);
    client = new WorkerClient(w.address);
    for (const name of ["case01", "case02"]) {
      const data = join(ITEST, name, "data");
      const db = loadDatabaseConfig(join(data, "ingest", "database.json"));
      const ref = referenceDb();
      let chunks: number[] = [];
      for (const t of ["Object", "Source"]) {
        const table = loadTableConfig(join(data, "ingest", `${t}.json`));
        const ext = name === "case01" ? "tsv.gz" : "csv.gz";
        const file = join(data, `${t}.${ext}`);
        const out = join(dir, name, t);
        await partition({ database: db, table, files: [file], outDir: out });
        loadReference(ref, file, table, dialectFor(file), db);
        await uploadPartition(client, out, table, `${name}-${t}`);
        if (t === "Object") chunks = readChunkInfo(out).chunks.map((c) => c.id);
      }
      if (name === "case01") {
        const filter = loadTableConfig(join(data, "ingest", "Filter.json"));
        const file = join(data, "Filter.tsv.gz");
        loadReference(ref, file, filter, dialectFor(file), db);
        await uploadReplicated(client, [file], filter, dialectFor(file), "case01-Filter");
      }
      cases.push({ name, db, ref, chunks });
    }
  });
  after(() => client?.close());

  test("holds every chunk with the reference's row counts", async () => {
    const list = await client.list();
    for (const c of cases) {
      const held = list.databases.find((d) => d.name === c.db.database);
      assert.ok(held, `${c.db.database} listed`);
      const expected = refRows(c.ref, "SELECT chunkId, count(*) FROM Object GROUP BY chunkId ORDER BY chunkId");
      const objects = held.chunks
        .map((ch) => [BigInt(ch.chunkId), BigInt(ch.tables.find((t) => t.table === "Object")?.rows ?? 0)])
        .filter(([, n]) => n !== 0n);
      assert.deepEqual(objects, expected);
      const sources = held.chunks.reduce((n, ch) => n + (ch.tables.find((t) => t.table === "Source")?.rows ?? 0), 0);
      assert.equal(BigInt(sources), refRows(c.ref, "SELECT count(*) FROM Source")[0]?.[0]);
    }
  });

  test("every chunk's Object and Source rows equal the reference's, column for column", async () => {
    for (const c of cases) {
      for (const chunkId of c.chunks) {
        for (const t of ["Object", "Source"]) {
          const got = await client.queryAll({ database: c.db.database, chunkId, sql: `SELECT * FROM ${t}_${chunkId}` });
          const want = refRows(c.ref, `SELECT * FROM ${t} WHERE chunkId = ?`, chunkId);
          assert.deepEqual(rowSet(got.rows), rowSet(want), `${c.name} ${t} chunk ${chunkId}`);
          assert.equal(got.summary.rowCount, want.length);
        }
      }
    }
  });

  test("Object ⋈ Source and aggregates within a chunk", async () => {
    const sql = (o: string, s: string) =>
      `SELECT o.objectId, count(*), sum(s.psfFlux), min(s.psfFlux) FROM ${o} o JOIN ${s} s ON s.objectId = o.objectId GROUP BY o.objectId`;
    for (const c of cases) {
      const got: unknown[][] = [];
      for (const chunkId of c.chunks) {
        const r = await client.queryAll({
          database: c.db.database,
          chunkId,
          sql: sql(`Object_${chunkId}`, `Source_${chunkId}`),
        });
        got.push(...r.rows);
      }
      const want = refRows(c.ref, sql("Object", "Source"));
      assert.ok(want.length > 0);
      assert.deepEqual(rowSet(got), rowSet(want), c.name);
    }
  });

  test("near-neighbour pairs per sub-chunk, with the overlap, equal the reference's self-join", async () => {
    for (const c of cases) {
      const r = c.db.overlap;
      const pairs: unknown[][] = [];
      for (const chunkId of c.chunks) {
        const subChunkIds = refRows(c.ref, "SELECT DISTINCT subChunkId FROM Object WHERE chunkId = ?", chunkId).map(
          (row) => Number(row[0]),
        );
        if (subChunkIds.length === 0) continue; // overlap rows only: no pair starts here
        const o1 = `Object_${chunkId}_{SUBCHUNK}`;
        const o2 = `(SELECT * FROM Object_${chunkId}_{SUBCHUNK} UNION ALL SELECT * FROM ObjectFullOverlap_${chunkId}_{SUBCHUNK})`;
        const got = await client.queryAll({
          database: c.db.database,
          chunkId,
          subChunkIds,
          sql: `SELECT o1.objectId, o2.objectId FROM ${o1} o1, ${o2} o2
                WHERE scisql_angSep(o1.ra_PS, o1.decl_PS, o2.ra_PS, o2.decl_PS) < ${r} AND o1.objectId <> o2.objectId`,
        });
        pairs.push(...got.rows);
      }
      const want = refRows(
        c.ref,
        `SELECT o1.objectId, o2.objectId FROM Object o1, Object o2
         WHERE scisql_angSep(o1.ra_PS, o1.decl_PS, o2.ra_PS, o2.decl_PS) < ? AND o1.objectId <> o2.objectId`,
        r,
      );
      assert.ok(want.length > 0, `${c.name} has near neighbours`);
      assert.deepEqual(rowSet(pairs), rowSet(want), c.name);
    }
  });

  test("a replicated table is joined from any chunk and queried alone", async () => {
    const c = cases[0]!;
    const chunkId = c.chunks[0]!;
    const alone = await client.queryAll({ database: c.db.database, chunkId: NO_CHUNK, sql: "SELECT * FROM Filter" });
    assert.deepEqual(rowSet(alone.rows), rowSet(refRows(c.ref, "SELECT * FROM Filter")));
    const joined = await client.queryAll({
      database: c.db.database,
      chunkId,
      sql: `SELECT s.sourceId, f.filterName FROM Source_${chunkId} s JOIN Filter f ON f.filterId = s.filterId`,
    });
    const want = refRows(
      c.ref,
      "SELECT s.sourceId, f.filterName FROM Source s JOIN Filter f ON f.filterId = s.filterId WHERE s.chunkId = ?",
      chunkId,
    );
    assert.ok(want.length > 0);
    assert.deepEqual(rowSet(joined.rows), rowSet(want));
  });

  test("every scisql function, through the worker, against independently computed values", async () => {
    const c = cases[0]!;
    let checked = 0;
    const inside = [0, 0, 0, 0]; // box, circle, ellipse, polygon
    for (const chunkId of c.chunks) {
      const got = await client.queryAll({
        database: c.db.database,
        chunkId,
        sql: `SELECT ra_PS, decl_PS, uFlux_PS, uFlux_PS_Sigma, scisql_angSep(ra_PS, decl_PS, 1, -5),
                scisql_s2PtInBox(ra_PS, decl_PS, 0.5, -6, 1.5, -5), scisql_s2PtInCircle(ra_PS, decl_PS, 1, -5.5, 0.6),
                scisql_s2PtInEllipse(ra_PS, decl_PS, 1, -5.5, 2400, 1200, 30),
                scisql_s2PtInCPoly(ra_PS, decl_PS, 0.5, -6, 1.7, -6, 1.2, -5.2),
                scisql_fluxToAbMag(uFlux_PS), scisql_fluxToAbMagSigma(uFlux_PS, uFlux_PS_Sigma),
                scisql_abMagToFlux(20 + decl_PS), scisql_abMagToFluxSigma(20 + decl_PS, 0.1),
                scisql_angSep(NULL, 1, 2, 3), scisql_s2PtInCircle(ra_PS, NULL, 1, 1, 1), scisql_fluxToAbMag(NULL)
              FROM Object_${chunkId}`,
      });
      for (const row of got.rows) {
        const [ra, dec, uf, ufs, sep, box, circle, ellipse, poly, mag, magSigma, flux, fluxSigma, ...nulls] =
          row as Array<number | null>;
        const at = `chunk ${chunkId} (${ra}, ${dec})`;
        assert.ok(Math.abs(sep! - ref.angSep(ra!, dec!, 1, -5)) < 1e-9, at);
        assert.equal(box, ra! >= 0.5 && ra! <= 1.5 && dec! >= -6 && dec! <= -5 ? 1 : 0, at);
        assert.equal(circle, ref.angSep(ra!, dec!, 1, -5.5) <= 0.6 ? 1 : 0, at);
        assert.equal(ellipse, ref.inEllipse(ra!, dec!, 1, -5.5, 2400, 1200, 30) ? 1 : 0, at);
        assert.equal(poly, ref.inConvexPolygon(ra!, dec!, [0.5, -6, 1.7, -6, 1.2, -5.2]) ? 1 : 0, at);
        if (uf === null || uf === undefined || uf <= 0) assert.equal(mag, null, at);
        else {
          assert.ok(Math.abs(mag! - (-2.5 * Math.log10(uf) - 48.6)) < 1e-9, at);
          assert.ok(Math.abs(magSigma! - (1.0857362047581294 * ufs!) / uf) < 1e-9 * Math.abs(magSigma!), at);
        }
        const f = 10 ** (-0.4 * (20 + dec! + 48.6));
        assert.ok(Math.abs(flux! - f) <= 1e-12 * f, at);
        assert.ok(Math.abs(fluxSigma! - 0.1 * f * 0.9210340371976184) <= 1e-12 * f, at);
        assert.deepEqual(nulls, [null, null, null], at);
        [box, circle, ellipse, poly].forEach((v, i) => {
          inside[i]! += v as number;
        });
        checked++;
      }
    }
    assert.equal(BigInt(checked), refRows(c.ref, "SELECT count(*) FROM Object")[0]?.[0]);
    // Each region has rows on both sides, so the comparisons above decide something.
    for (const n of inside) assert.ok(n > 0 && n < checked, `rows inside: ${inside.join(", ")} of ${checked}`);
  });

  test("retrying a committed load id changes nothing", async () => {
    const c = cases[1]!;
    const table = loadTableConfig(join(ITEST, c.name, "data", "ingest", "Source.json"));
    const before = await client.list(c.db.database);
    const r = await uploadPartition(client, join(dir, c.name, "Source"), table, `${c.name}-Source`);
    assert.ok(r.rows > 0);
    const after = await client.list(c.db.database);
    assert.deepEqual(
      after.databases[0]?.chunks.map((ch) => ch.tables),
      before.databases[0]?.chunks.map((ch) => ch.tables),
    );
    const chunkId = c.chunks[0]!;
    const got = await client.queryAll({
      database: c.db.database,
      chunkId,
      sql: `SELECT count(*) FROM Source_${chunkId}`,
    });
    assert.deepEqual(got.rows, refRows(c.ref, "SELECT count(*) FROM Source WHERE chunkId = ?", chunkId));
  });

  test("SQL errors come back typed with SQLite's message; the worker carries on", async () => {
    const c = cases[0]!;
    const chunkId = c.chunks[0]!;
    for (const [sql, message] of [
      [`SELECT nope FROM Object_${chunkId}`, /no such column: nope/],
      [`SELECT * FROM Nope_${chunkId}`, /no such table/],
      [`DELETE FROM Object_${chunkId}`, /only SELECT/],
      [`SELECT scisql_s2PtInCircle(ra_PS, decl_PS, 0, 0, 500) FROM Object_${chunkId}`, /radius/],
      ["SELEC 1", /syntax error/],
    ] as const) {
      await assert.rejects(client.queryAll({ database: c.db.database, chunkId, sql }), (e: unknown) => {
        assert.ok(isQservError(e));
        assert.equal(e.code, "SQL_ERROR");
        assert.match(e.message, message);
        return true;
      });
    }
    await assert.rejects(client.queryAll({ database: c.db.database, chunkId: 1, sql: "SELECT 1" }), /holds no chunk 1/);
    await assert.rejects(client.queryAll({ database: "nodb", chunkId, sql: "SELECT 1" }), /NOT_FOUND|holds no/);
    const s = await client.status();
    assert.equal(
      s.chunks,
      cases.reduce((n, k) => n + k.chunks.length, 0),
    );
  });

  test("a load with a bad row fails with its line and leaves nothing", async () => {
    const c = cases[0]!;
    const chunkId = c.chunks[0]!;
    const header = idXHeader("bad-1", c.db.database, "Extra", chunkId);
    const rows = Buffer.from("1,2.5\n2,3.5\n3,abc\n");
    await assert.rejects(
      client.load(header, [{ part: "ROWS", data: rows }]),
      /line 3: column x: "abc" is not a number/,
    );
    const held = (await client.list(c.db.database)).databases[0]?.chunks.find((ch) => ch.chunkId === chunkId);
    assert.deepEqual(held?.tables.map((t) => t.table).sort(), ["Object", "Source"]);
    await assert.rejects(
      client.queryAll({ database: c.db.database, chunkId, sql: `SELECT * FROM Extra_${chunkId}` }),
      /no such table/,
    );
    // The same load id, with good rows, then commits.
    const ok = await client.load(header, [{ part: "ROWS", data: Buffer.from("1,2.5\n2,3.5\n") }]);
    assert.deepEqual([ok.rows, ok.duplicate], [2, false]);
    assert.equal((await client.drop({ database: c.db.database, chunkId, table: "Extra" })).existed, true);
  });

  test("dropping a chunk removes it; restarting on the same data dir brings the rest back", async () => {
    const c = cases[1]!;
    const gone = c.chunks[c.chunks.length - 1]!;
    assert.equal((await client.drop({ database: c.db.database, chunkId: gone, table: "" })).existed, true);
    assert.equal((await client.drop({ database: c.db.database, chunkId: gone, table: "" })).existed, false);
    await assert.rejects(
      client.queryAll({ database: c.db.database, chunkId: gone, sql: `SELECT * FROM Object_${gone}` }),
      /holds no chunk/,
    );
    const before = await client.list();
    client.close();
    assert.equal(await w.stop("SIGTERM"), 0);
    assert.ok(w.logs.some((l) => l.msg === "worker stopped"));
    w = await startWorkerProcess(dataDir);
    client = new WorkerClient(w.address);
    // Same holdings (file sizes change as SQLite checkpoints its log on close).
    const holdings = (l: ListResponse) =>
      l.databases.map((d) => ({ ...d, chunks: d.chunks.map((ch) => ({ ...ch, bytes: 0 })) }));
    assert.deepEqual(holdings(await client.list()), holdings(before));
    const chunkId = c.chunks[0]!;
    const got = await client.queryAll({
      database: c.db.database,
      chunkId,
      sql: `SELECT count(*) FROM Object_${chunkId}`,
    });
    assert.deepEqual(got.rows, refRows(c.ref, "SELECT count(*) FROM Object WHERE chunkId = ?", chunkId));
  });
});
