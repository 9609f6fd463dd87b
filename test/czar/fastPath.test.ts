/**
 * The latency floor's paths on a real cluster (2 worker processes, R = 2, a czar process):
 * point lookups (an id that exists, one that does not), IN lists, a light curve, each over HTTP
 * and the MySQL port, answered from the plan cache with other literals every time; a load
 * published meanwhile is seen by the next lookup; an id on a chunk whose worker was just killed
 * is answered by its replica. Every answer is checked against one SQLite database holding the
 * same rows. And, in process, a plan made from a cached template equals a fresh plan.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type Database from "better-sqlite3";
import mysql from "mysql2/promise";
import { generateCatalog } from "../../bench/generate.js";
import { postUpload } from "../../src/cli/httpClient.js";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { loadDatabaseConfig, loadTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { Metadata } from "../../src/czar/metadata.js";
import { PlanCache } from "../../src/czar/plan/planCache.js";
import { planSelect } from "../../src/czar/plan/planner.js";
import type { Select } from "../../src/czar/sql/ast.js";
import { parseStatement } from "../../src/czar/sql/parser.js";
import { tempDir } from "../support/fs.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";

const OBJECTS = 1200;

/**
 * Rows comparable across HTTP (JSON numbers), MySQL (64-bit integers as strings) and SQLite
 * (bigints): integers as their digits, reals to 15 significant digits; sorted unless `ordered`.
 */
function rowSet(rows: readonly unknown[][], ordered = false): string[] {
  const value = (v: unknown): string => {
    if (v === null || v === undefined) return "null";
    if (typeof v === "bigint" || (typeof v === "string" && /^-?\d+$/.test(v))) return `i${v}`;
    if (typeof v === "number") return Number.isInteger(v) ? `i${v}` : `f${v.toPrecision(15)}`;
    return `s${JSON.stringify(v)}`;
  };
  const out = rows.map((r) => r.map(value).join("|"));
  return ordered ? out : out.sort();
}

describe("point lookups, IN lists and light curves (2 workers, R = 2)", () => {
  const dir = tempDir();
  let workers: WorkerProcess[] = [];
  let czar: CzarProcess;
  let ref: Database.Database;
  let conn: mysql.Connection;
  /** Object.csv split in two: part 0 loaded first, part 1 appended by a test. */
  let parts: string[] = [];
  let catalog: Awaited<ReturnType<typeof generateCatalog>>;

  const load = async (table: "Object" | "Source", file: string) => {
    const json = table === "Object" ? catalog.objectJson : (catalog.sourceJson as string);
    const database = JSON.parse(readFileSync(catalog.databaseJson, "utf8")) as unknown;
    const config = JSON.parse(readFileSync(json, "utf8")) as unknown;
    await postUpload(`${czar.url}/ingest`, { database, table: config }, [file], () => {});
    const cfg = loadTableConfig(json);
    const appended = table === "Object" && file === parts[1];
    if (appended) {
      // The reference table exists: the part's rows go into a copy loaded beside it.
      loadReference(ref, file, { ...cfg, table: "ObjectPart" }, tableDialect(cfg, file), stripes());
      ref.exec("INSERT INTO Object SELECT * FROM ObjectPart; DROP TABLE ObjectPart");
    } else loadReference(ref, file, cfg, tableDialect(cfg, file), stripes());
  };
  const stripes = () => loadDatabaseConfig(catalog.databaseJson);

  before(async () => {
    catalog = await generateCatalog({
      outDir: join(dir, "catalog"),
      objects: OBJECTS,
      sourcesPerObject: 8,
      database: "fast",
      numStripes: 18,
      numSubStripes: 6,
      overlap: 0.01667,
    });
    const lines = readFileSync(catalog.objectCsv, "utf8").split("\n").filter(Boolean);
    // Part 1: the objects with the highest ids (their Sources stay out: loaded with part 0 only).
    const cut = Math.floor(lines.length * 0.9);
    parts = [lines.slice(0, cut), lines.slice(cut)].map((mine, p) => {
      const file = join(dir, "catalog", `Object.part${p}.csv`);
      writeFileSync(file, `${mine.join("\n")}\n`);
      return file;
    });
    const held = new Set(lines.slice(0, cut).map((l) => l.slice(0, l.indexOf(","))));
    const sources = readFileSync(catalog.sourceCsv as string, "utf8")
      .split("\n")
      .filter((l) => l !== "" && held.has(l.split(",")[1] as string));
    const sourceFile = join(dir, "catalog", "Source.part0.csv");
    writeFileSync(sourceFile, `${sources.join("\n")}\n`);
    workers = await Promise.all([1, 2].map((i) => startWorkerProcess(join(dir, `w${i}`), ["--threads", "1"])));
    czar = await startCzarProcess(
      join(dir, "czar"),
      workers.map((w, i) => `w${i + 1}=${w.address}`),
      ["--health-interval", "0", "--repair-interval", "0", "--replicas", "2"],
    );
    ref = referenceDb();
    await load("Object", parts[0]!);
    await load("Source", sourceFile);
    conn = await mysql.createConnection({ host: "127.0.0.1", port: czar.mysqlPort, user: "qsmaster" });
    await conn.query("USE fast");
  });
  after(async () => {
    await conn?.end().catch(() => {});
    await czar?.stop();
    for (const w of workers) await w.stop();
    ref?.close();
  });

  const http = async (sql: string): Promise<unknown[][]> => {
    const r = await fetch(`${czar.url}/query`, {
      method: "POST",
      body: JSON.stringify({ query: sql, database: "fast" }),
    });
    const body = (await r.json()) as { rows: unknown[][] };
    assert.equal(r.status, 200, `${sql}: ${JSON.stringify(body)}`);
    return body.rows;
  };
  const overMysql = async (sql: string): Promise<unknown[][]> => {
    const [rows] = await conn.query({ sql, rowsAsArray: true, supportBigNumbers: true, bigNumberStrings: true });
    return rows as unknown[][];
  };
  /** The same rows over HTTP and MySQL as in the reference (`ordered`: in the same order). */
  const check = async (sql: string, ordered = false): Promise<number> => {
    const want = rowSet(ref.prepare(sql).raw(true).safeIntegers(true).all() as unknown[][], ordered);
    assert.deepEqual(rowSet(await http(sql), ordered), want, `HTTP: ${sql}`);
    assert.deepEqual(rowSet(await overMysql(sql), ordered), want, `MySQL: ${sql}`);
    return want.length;
  };
  const ids = (from: number, n: number, step: number) => Array.from({ length: n }, (_, i) => from + i * step);
  const point = (id: number) => `SELECT objectId, ra, decl, gFlux, rFlux, flags FROM Object WHERE objectId = ${id}`;

  test("point lookups, the same text with other ids: rows that exist and none for ids that do not", async () => {
    let found = 0;
    for (const id of [...ids(1, 12, 83), 0, -3, OBJECTS * 10, 9_000_000_000_000]) found += await check(point(id));
    assert.ok(found >= 10, `most ids exist (${found} rows)`);
  });

  test("IN lists, short and long (cut per chunk), ids that exist and ids that do not", async () => {
    const inList = (list: number[]) => `SELECT objectId, ra, decl FROM Object WHERE objectId IN (${list.join(", ")})`;
    assert.equal(await check(inList([3, 5, OBJECTS * 3])), 2);
    assert.equal(await check(inList([7, 11, OBJECTS * 4])), 2);
    assert.ok((await check(inList(ids(2, 300, 3)))) >= 250);
    assert.ok((await check(inList(ids(1, 300, 3)))) >= 250);
    await check(`SELECT COUNT(*), SUM(objectId) FROM Object WHERE objectId IN (${ids(5, 80, 7).join(", ")})`);
  });

  test("light curves: one object's Sources by objectId, in time order", async () => {
    let rows = 0;
    for (const id of ids(3, 6, 131)) {
      rows += await check(
        `SELECT sourceId, taiMidPoint, filterId, psfFlux FROM Source WHERE objectId = ${id} ORDER BY taiMidPoint, sourceId`,
        true,
      );
    }
    assert.ok(rows >= 20, `light curves have rows (${rows})`);
  });

  test("a load published after a plan was cached: the next lookups see its rows", async () => {
    const newIds = readFileSync(parts[1]!, "utf8")
      .split("\n")
      .filter(Boolean)
      .slice(0, 5)
      .map((l) => Number(l.slice(0, l.indexOf(","))));
    // Before the append: cached plans for these texts find nothing.
    for (const id of newIds) assert.deepEqual(await http(point(id)), [], `objectId ${id} not loaded yet`);
    await load("Object", parts[1]!);
    let seen = 0;
    for (const id of newIds) seen += await check(point(id));
    assert.equal(seen, newIds.length, "every appended object is found");
    await check(`SELECT objectId, ra FROM Object WHERE objectId IN (${newIds.join(", ")}, 1, 2)`);
  });

  test("in process: a plan made from a cached template equals a fresh plan of the text", () => {
    const meta = Metadata.openReader(join(dir, "czar", "czar.sqlite"));
    try {
      const cache = new PlanCache(meta);
      const texts = [
        ...ids(1, 12, 53).map(point),
        ...ids(2, 6, 31).map((id) => `SELECT objectId FROM Object WHERE objectId IN (${id}, ${id + 1}, 99999999)`),
        ...[0.5, 10.25, 200.125].map(
          (ra) => `SELECT objectId, ra, decl FROM Object WHERE qserv_areaspec_circle(${ra}, 1.5, 0.2) LIMIT 5`,
        ),
      ];
      const plain = (s: { kind: string }) => s.kind === "select";
      for (const sql of texts) {
        const fresh = planSelect(parseStatement(sql) as Select, "fast", meta);
        const { stmt } = cache.statement(sql, "fast", () => parseStatement(sql), plain);
        assert.deepEqual(planSelect(stmt as Select, "fast", meta), fresh, sql);
      }
      assert.equal(
        cache.stats().templateHits,
        texts.length - 3,
        "all but the first of each shape came from a template",
      );
    } finally {
      meta.close();
    }
  });

  test("an id on a chunk whose worker was just killed: the replica answers", async () => {
    await workers[0]!.stop("SIGKILL");
    let found = 0;
    for (const id of ids(4, 10, 113)) found += await check(point(id));
    assert.ok(found >= 8, `found ${found}`);
    await check(`SELECT objectId, ra, decl FROM Object WHERE objectId IN (${ids(9, 120, 9).join(", ")})`);
  });
});
