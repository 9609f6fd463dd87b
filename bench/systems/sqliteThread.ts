/** A read-only connection to the benchmark's SQLite file, answering queries posted by its pool. */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { registerMysqlCompat } from "../../src/sqlite/mysqlCompat.js";
import { registerScisql } from "../../src/sqlite/scisql.js";

const db = new Database(workerData.file as string, { readonly: true });
registerScisql(db);
registerMysqlCompat(db);
db.pragma("cache_size = -262144"); // 256 MiB of page cache per connection

parentPort?.on("message", (m: { id: number; sql: string }) => {
  try {
    const rows = db.prepare(m.sql).raw(true).all() as unknown[][];
    parentPort?.postMessage({ id: m.id, rows });
  } catch (e) {
    parentPort?.postMessage({ id: m.id, error: (e as Error).message });
  }
});
