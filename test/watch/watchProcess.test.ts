/**
 * `mini-qserv ingest --watch` against a czar over two worker processes (one replica per chunk, so
 * a chunk of a worker that is down cannot be loaded): 20 files dropped in, one of them bad, while
 * the watcher is SIGKILLed twice mid-load (before it sent a file; after the czar published it but
 * before the watcher recorded that) and once idle, a worker is killed and restarted, and the czar
 * is stopped and restarted. Every
 * good row is in the table exactly once (checked against one SQLite database of the same files),
 * the bad file is in rejected/ with its reason, and the same content under another name (a copy,
 * a rename) is not loaded again. Every wait is on a state (the czar's answers, the watcher's log).
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { type NodeProcess, startNodeProcess } from "../../src/cluster/nodeProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { HALT_ENV } from "../../src/common/haltPoint.js";
import type { WatchedFile, WatchSnapshot } from "../../src/watch/snapshot.js";
import { runCli } from "../support/cli.js";
import { haltWatch } from "../support/crashRig.js";
import { makeTempDir } from "../support/fs.js";
import { SYN_DATABASE_JSON, SYN_TABLE_JSON, writeObjects } from "../support/synthetic.js";
import { waitFor } from "../support/waitFor.js";

const FILES = 20;
const BAD = 13;
const ROWS = 250;

const dir = makeTempDir();
const inbox = join(dir, "inbox");
const rulesFile = join(dir, "rules.json");
const workers: WorkerProcess[] = [];
let czar: CzarProcess;
let watcher: NodeProcess | null = null;
/** Called with each log line of the watcher. */
let onWatcherLog: (l: Record<string, unknown> | string) => void = () => {};

const name = (k: number) => `obj_${k}.csv`;

/** File k: ROWS objects from id k * 1000; the bad one ends with a line that is no row of the table. */
function drop(k: number): void {
  const staging = join(dir, `staging-${k}.csv`);
  // A 3° × 3° corner: a few chunks per file, on both workers.
  writeObjects(staging, k * 1000, ROWS, k === BAD ? "12x,not,a,row\n" : "", 3);
  if (k % 2 === 0) {
    // Complete by a marker beside it.
    copyFileSync(staging, join(inbox, name(k)));
    writeFileSync(join(inbox, `${name(k)}.done`), "");
  } else {
    // Complete by its size staying the same across two scans.
    renameSync(staging, join(inbox, name(k)));
  }
}

async function getJson(path: string): Promise<Record<string, unknown>> {
  const r = await fetch(`${czar.url}${path}`);
  const v = (await r.json()) as Record<string, unknown>;
  assert.equal(r.status, 200, `${path}: ${JSON.stringify(v)}`);
  return v;
}

async function watched(): Promise<WatchSnapshot | undefined> {
  return ((await getJson("/watch")) as { watchers: WatchSnapshot[] }).watchers[0];
}

async function file(n: string): Promise<WatchedFile | undefined> {
  return (await watched())?.files.find((f) => f.name === n);
}

async function loads(): Promise<Array<{ loadId: string; rows: number }>> {
  return (await getJson("/loads?database=qsyn&table=Obj")).loads as Array<{ loadId: string; rows: number }>;
}

/** Starts the watcher; with `haltAt`, resolves once it halts at that test point. */
async function startWatcher(haltAt?: string): Promise<() => Promise<void>> {
  const halt = haltWatch(haltAt ?? "");

  watcher = await startNodeProcess(
    [
      ...["ingest", "--watch", inbox, "--rules", rulesFile, "--czar", czar.url],
      ...["--scan-interval", "0.05", "--retry-base", "0.2", "--retry-max", "1"],
    ],
    "watching",
    {
      env: haltAt === undefined ? {} : { [HALT_ENV]: haltAt },
      onLog: (l) => {
        if (process.env.WATCH_TEST_LOG) console.log(l);
        halt.onLog(l);
        onWatcherLog(l);
      },
    },
  );
  return async () => {
    // The children are unref'd: an idle timer keeps this event loop alive while the halt is awaited.
    const alive = setInterval(() => {}, 60_000);
    await halt.halted.finally(() => clearInterval(alive));
  };
}

async function killWatcher(): Promise<void> {
  await watcher?.stop("SIGKILL");
  watcher = null;
}

/** The czar over both workers, on `port` (0: any; the watcher keeps its URL across a restart). */
async function startCzar(port: string): Promise<void> {
  czar = await startCzarProcess(
    join(dir, "czar"),
    workers.map((w, i) => `w${i + 1}=${w.address}`),
    ["--replicas", "1", "--repair-interval", "0", "--http-port", port],
    { onLog: (l) => process.env.WATCH_TEST_LOG && console.log(l) },
  );
}

async function startWorker(i: number, port = "0"): Promise<void> {
  workers[i] = await startWorkerProcess(join(dir, `w${i + 1}`), ["--threads", "1", "--port", port]);
}

before(async () => {
  mkdirSync(inbox);
  await startWorker(0);
  await startWorker(1);
  await startCzar("0");
  writeFileSync(join(dir, "database.json"), JSON.stringify(SYN_DATABASE_JSON));
  writeFileSync(join(dir, "Obj.json"), JSON.stringify(SYN_TABLE_JSON));
  writeFileSync(
    rulesFile,
    JSON.stringify({ rules: [{ pattern: "obj_*.csv", database: "database.json", table: "Obj.json" }] }),
  );
});

after(async () => {
  await killWatcher();
  await czar?.stop();
  for (const w of workers) await w?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("20 files, one bad, through watcher kills, a worker and a czar restart: every row once", async () => {
  // Killed after recording the file as loading, before sending it: nothing reached the czar.
  let halted = await startWatcher("watch:loading");
  drop(1);
  await halted();
  await killWatcher();
  assert.deepEqual(await loads(), [], "a load the watcher never sent");

  // Killed after the czar published the file, before the watcher recorded it loaded.
  halted = await startWatcher("watch:loaded");
  await halted();
  await killWatcher();
  const [first] = await loads();
  assert.ok(first !== undefined, "the czar lists the load the watcher was killed after");

  // Restarted: the load id it recorded before the publish is listed, so the file is loaded.
  await startWatcher();
  const one = await waitFor("obj_1 recovered as loaded", async () => {
    const f = await file(name(1));
    return f?.state === "loaded" ? f : undefined;
  });
  assert.equal(one.loadId, first.loadId);
  assert.equal(one.attempts, 2, "sent twice (the first attempt never reached the czar), loaded once");

  for (let k = 2; k <= 8; k++) drop(k);
  await waitFor("8 files loaded", async () => ((await watched())?.counts.loaded === 8 ? true : undefined));

  // A worker down: files with rows for its chunks fail and are retried; the bad one is rejected meanwhile.
  await workers[1]!.stop("SIGKILL");
  for (let k = 9; k <= 14; k++) drop(k);
  const retried = await waitFor("a file retried while the worker is down", async () => {
    const w = await watched();
    const f = w?.files.find((x) => x.state === "pending" && (x.attempts ?? 0) >= 2);
    return f !== undefined && w?.files.find((x) => x.name === name(BAD))?.state === "rejected" ? f : undefined;
  });
  assert.match(retried.error ?? "", /up|unavailable|reach/i, "why it is retried");
  await startWorker(1, workers[1]!.address.split(":")[1]);
  for (let k = 15; k < FILES; k++) drop(k);
  await waitFor("18 files loaded", async () => ((await watched())?.counts.loaded === FILES - 2 ? true : undefined));

  // The czar down: the last file waits for it, retried; loaded once it is back (on the same port).
  const port = new URL(czar.url).port;
  await czar.stop();
  const unreachable = new Promise<void>((resolve) => {
    onWatcherLog = (l) => {
      const line = l as Record<string, unknown>;
      if (
        line.msg === "load failed: retried later" &&
        line.file === name(FILES) &&
        /reach the czar/.test(String(line.err))
      )
        resolve();
    };
  });
  drop(FILES);
  const alive = setInterval(() => {}, 60_000); // the children are unref'd: keeps this event loop alive
  await unreachable.finally(() => clearInterval(alive));
  await startCzar(port);
  await waitFor("19 files loaded", async () => ((await watched())?.counts.loaded === FILES - 1 ? true : undefined));

  // The same content again: a copy under a new name, and a file renamed.
  copyFileSync(join(inbox, name(3)), join(inbox, "obj_3_again.csv"));
  renameSync(join(inbox, name(5)), join(inbox, "obj_5_renamed.csv"));
  await waitFor("the copy and the rename seen as duplicates", async () => {
    const w = await watched();
    const dups = w?.files.filter((f) => f.state === "duplicate").map((f) => `${f.name}<${f.duplicateOf}`);
    return dups?.length === 2 ? dups.sort() : undefined;
  }).then((d) => assert.deepEqual(d, ["obj_3_again.csv<obj_3.csv", "obj_5_renamed.csv<obj_5.csv"]));

  // Killed idle and restarted: it goes over the same directory and loads nothing again.
  await killWatcher();
  const restartedAt = new Date().toISOString();
  await startWatcher();
  const again = await waitFor("the restarted watcher's report", async () => {
    const w = await watched();
    return w !== undefined && w.updatedAt > restartedAt ? w : undefined;
  });
  assert.deepEqual(
    { loaded: again.counts.loaded, rejected: again.counts.rejected, duplicate: again.counts.duplicate },
    { loaded: FILES - 1, rejected: 1, duplicate: 2 },
  );

  // Each good file is one load; the table holds each of their rows exactly once.
  const listed = await loads();
  assert.equal(listed.length, FILES - 1);
  assert.equal(new Set(listed.map((l) => l.loadId)).size, FILES - 1);
  assert.ok(listed.every((l) => l.rows === ROWS));
  const ref = new Database(":memory:");
  ref.exec("CREATE TABLE Obj (objectId INTEGER, ra REAL, decl REAL, flux REAL)");
  const insert = ref.prepare("INSERT INTO Obj VALUES (?, ?, ?, ?)");
  for (let k = 1; k <= FILES; k++) {
    if (k === BAD) continue;
    const path = join(inbox, k === 5 ? "obj_5_renamed.csv" : name(k));
    for (const line of readFileSync(path, "utf8").split("\n").filter(Boolean)) {
      insert.run(...line.split(",").map(Number));
    }
  }
  const sql = "SELECT objectId, ra, decl, flux FROM Obj ORDER BY objectId";
  const r = await fetch(`${czar.url}/query`, {
    method: "POST",
    body: JSON.stringify({ query: sql, database: "qsyn" }),
  });
  const got = ((await r.json()) as { rows: unknown[][] }).rows;
  const want = ref.prepare(sql).raw().all();
  assert.equal(got.length, (FILES - 1) * ROWS);
  assert.deepEqual(got, want);
  ref.close();

  // The bad file is parked with its reason; the others went on.
  assert.equal(existsSync(join(inbox, name(BAD))), false);
  assert.equal(existsSync(join(inbox, `${name(BAD)}.done`)), false);
  const reason = readFileSync(join(inbox, "rejected", `${name(BAD)}.reason`), "utf8");
  assert.match(reason, /obj_13\.csv/);
  assert.match(reason, /obj_13\.csv:251/);
  assert.equal(readFileSync(join(inbox, "rejected", name(BAD)), "utf8").split("\n").length, ROWS + 2);

  // The same in `mini-qserv status`.
  const status = runCli(["status", "--czar", czar.url]);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`${inbox}: 19 loaded, 1 rejected, 2 duplicate`));
});
