/**
 * The thread for the steps of copying a chunk file, so that SQLite work never blocks the
 * worker's event loop: take a snapshot of a file (VACUUM INTO), check a received file, or write a
 * received file over a file that is held (SQLite backup: one transaction, readers keep theirs).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import { parentPort } from "node:worker_threads";
import Database from "better-sqlite3";
import { quoteIdent } from "../sqlite/types.js";
import type { CopyResult, CopyTask } from "./chunkCopy.js";
import { type StageRecord, type TableRecord, tableNames } from "./layout.js";

function sha256Of(file: string): { size: number; sha256: string } {
  const hash = createHash("sha256");
  const fd = fs.openSync(file, "r");
  const buf = Buffer.allocUnsafe(1 << 20);
  let size = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { size, sha256: hash.digest("hex") };
}

/** A consistent copy of `src` (committed rows only) in `tmp`. */
function snapshot(src: string, tmp: string): CopyResult {
  const db = new Database(src, { fileMustExist: true });
  try {
    db.prepare("VACUUM INTO ?").run(tmp);
  } finally {
    db.close();
  }
  return { t: "snapshot", ...sha256Of(tmp) };
}

/**
 * The _mq_tables rows of a received file, once it is known to open, to pass a quick check and to
 * hold exactly the rows its bookkeeping claims; the file is left in WAL mode as loads leave it.
 */
function verify(tmp: string, chunkId: number): CopyResult {
  const db = new Database(tmp, { fileMustExist: true });
  try {
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new Error(`the file fails SQLite's quick_check: ${String(check)}`);
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE name = '_mq_tables'").get();
    if (has === undefined) throw new Error("the file has no _mq_tables: not a chunk file");
    const records = db.prepare("SELECT * FROM _mq_tables ORDER BY name").all() as TableRecord[];
    if (records.length === 0) throw new Error("the file holds no tables");
    const count = (t: string) =>
      db
        .prepare(`SELECT count(*) FROM ${quoteIdent(t)}`)
        .pluck()
        .get() as number;
    for (const r of records) {
      const names = tableNames(r.name, chunkId);
      if (count(names.rows) !== r.rows || (names.overlap !== null && count(names.overlap) !== r.overlap_rows)) {
        throw new Error(`table ${r.name}: row counts differ from _mq_tables`);
      }
    }
    const stages = db.prepare("SELECT 1 FROM sqlite_master WHERE name = '_mq_stages'").get() !== undefined;
    const published = stages ? (db.prepare("SELECT * FROM _mq_stages WHERE published = 1").all() as StageRecord[]) : [];
    db.pragma("journal_mode = WAL");
    return { t: "verified", records, published };
  } finally {
    db.close();
  }
}

/** Writes `tmp` over `dest` in one SQLite transaction (WAL: running readers keep their snapshot). */
async function replace(tmp: string, dest: string): Promise<CopyResult> {
  const db = new Database(tmp, { fileMustExist: true, readonly: true });
  try {
    await db.backup(dest);
  } finally {
    db.close();
  }
  return { t: "replaced" };
}

async function run(task: CopyTask): Promise<CopyResult> {
  switch (task.t) {
    case "snapshot":
      return snapshot(task.src, task.tmp);
    case "verify":
      return verify(task.tmp, task.chunkId);
    case "replace":
      return replace(task.tmp, task.dest);
  }
}

parentPort!.on("message", ({ id, task }: { id: number; task: CopyTask }) => {
  run(task).then(
    (result) => parentPort!.postMessage({ id, ok: true, result }),
    (e: unknown) => parentPort!.postMessage({ id, ok: false, message: e instanceof Error ? e.message : String(e) }),
  );
});
