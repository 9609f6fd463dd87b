/**
 * The single-file baseline: the catalog in one SQLite file with the scisql functions, queried by
 * a pool of read-only connections in worker threads (one per core, as a server would).
 * Indexes: objectId and sourceId are the rowids; Object(decl, ra) serves cone and box searches
 * (the decl range is searched, ra is tested on the index entry, the exact test runs on the few
 * rows left); Source(objectId) serves the join; an R*Tree of (ra, decl) serves near-neighbour pairs
 * and the cross-match of Hsc (each Hsc row's neighbourhood in Object).
 */
import { closeSync, openSync, readSync, rmSync } from "node:fs";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { QservError } from "../../src/common/errors.js";
import { inputColumns, loadTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { RowInserter } from "../../src/sqlite/rowInserter.js";
import { quoteIdent, sqliteType } from "../../src/sqlite/types.js";
import type { GeneratedCatalog } from "../generate.js";
import type { Answer, System } from "./system.js";

/** Loads `csv` into a new table described by the ingest config `json`; its first column is the rowid. */
function loadTable(db: Database.Database, json: string, csv: string): void {
  const t = loadTableConfig(json);
  const cols = inputColumns(t);
  const defs = cols.map((c, i) => `${quoteIdent(c.name)} ${i === 0 ? "INTEGER PRIMARY KEY" : sqliteType(c.type)}`);
  db.exec(`CREATE TABLE ${quoteIdent(t.table)} (${defs.join(", ")})`);
  const ins = new RowInserter(
    db,
    t.table,
    cols.map((c) => ({ name: c.name, mysqlType: c.type })),
    tableDialect(t, csv),
    csv,
  );
  const buf = Buffer.alloc(4 << 20);
  const fd = openSync(csv, "r");
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      db.transaction(() => ins.feed(buf.subarray(0, n), n === 0))();
      if (n === 0) break;
    }
  } finally {
    closeSync(fd);
  }
}

/** Builds the SQLite file from the catalog; returns the seconds it took. */
export function buildSqlite(cat: GeneratedCatalog, file: string, say: (line: string) => void): number {
  rmSync(file, { force: true });
  const t0 = performance.now();
  const db = new Database(file);
  try {
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    db.pragma("cache_size = -1048576");
    say("SQLite: loading Object");
    loadTable(db, cat.objectJson, cat.objectCsv);
    if (cat.sourceJson !== null && cat.sourceCsv !== null) {
      say("SQLite: loading Source");
      loadTable(db, cat.sourceJson, cat.sourceCsv);
    }
    if ((cat.hscJson ?? null) !== null && (cat.hscCsv ?? null) !== null) {
      say("SQLite: loading Hsc");
      loadTable(db, cat.hscJson as string, cat.hscCsv as string);
    }
    say("SQLite: indexing");
    db.exec("CREATE INDEX Object_decl_ra ON Object (decl, ra)");
    // An R*Tree of positions for the near-neighbour self-join (a decl band alone spans all ra).
    db.exec("CREATE VIRTUAL TABLE Object_rtree USING rtree(id, minRa, maxRa, minDec, maxDec)");
    db.exec("INSERT INTO Object_rtree SELECT objectId, ra, ra, decl, decl FROM Object");
    if (cat.sourceJson !== null) db.exec("CREATE INDEX Source_objectId ON Source (objectId)");
    if ((cat.hscCsv ?? null) !== null) db.exec("CREATE INDEX Hsc_decl_ra ON Hsc (decl, ra)");
    db.exec("ANALYZE");
  } finally {
    db.close();
  }
  return (performance.now() - t0) / 1000;
}

/** A pool of `threads` read-only connections to `file`. */
export function startSqlite(file: string, threads: number, ingestSeconds: number): System {
  const pending = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  const idle: Worker[] = [];
  const queue: Array<{ id: number; sql: string }> = [];
  let nextId = 0;
  const dispatch = () => {
    while (idle.length > 0 && queue.length > 0) idle.pop()?.postMessage(queue.shift());
  };
  const workers = Array.from({ length: threads }, () => {
    const w = new Worker(new URL("./sqliteThread.js", import.meta.url), { workerData: { file } });
    w.on("message", (m: { id: number; rows?: unknown[][]; error?: string }) => {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new QservError("SQL_ERROR", m.error));
      else p?.resolve({ rows: m.rows ?? [] });
      idle.push(w);
      dispatch();
    });
    idle.push(w);
    return w;
  });
  const query = (sql: string) =>
    new Promise<Answer>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      queue.push({ id, sql });
      dispatch();
    });
  return {
    name: "SQLite (one file)",
    dialect: "sqlite",
    ingestSeconds,
    detail: `${threads} read-only connections`,
    query,
    clients: async (n) => Array.from({ length: n }, () => query),
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
