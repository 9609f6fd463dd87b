/** A merge thread (see Scratch.read): runs one SELECT over a scratch file and posts its rows in batches. */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import type { Value } from "../../common/rowCodec.js";
import { type FromReadThread, scratchPragmas, withFunctions } from "./scratch.js";

const { file, sql, batchRows } = workerData as { file: string; sql: string; batchRows: number };
const post = (m: FromReadThread) => parentPort?.postMessage(m);
try {
  const db = withFunctions(new Database(file, { fileMustExist: true }));
  scratchPragmas(db);
  let rows: Value[][] = [];
  for (const r of db.prepare(sql).raw(true).safeIntegers(true).iterate() as IterableIterator<Value[]>) {
    rows.push(r);
    if (rows.length >= batchRows) {
      post({ t: "rows", rows });
      rows = [];
    }
  }
  post({ t: "rows", rows });
  db.close();
  post({ t: "done" });
} catch (e) {
  const code = (e as { code?: unknown }).code;
  post({ t: "error", message: (e as Error).message, ...(typeof code === "string" ? { code } : {}) });
}
