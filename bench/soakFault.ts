/**
 * The fault soak (issue 21; `npm run soak:fault -- --seed 1`, not part of `npm test`): three
 * worker processes and a czar (R = 2) on loopback holding the demo catalog (Object whole, Source
 * split into --parts parts, part 0 loaded at the start), and one SQLite database holding the same
 * rows. While --clients clients run the query mix (bench/fault/queries.ts) over HTTP and an
 * ingest loop appends and unloads Source parts, a chaos loop at seeded random moments SIGKILLs a
 * worker (restarted after a while) or SIGSTOPs one (SIGCONTed within --max-stop seconds); some
 * ingests get the czar SIGKILLed during their publish (at a halt point of src/common/haltPoint.ts,
 * or the moment the ingest reports its publish) and restarted. Checked: every answer equals the
 * reference's for a load state the query may have seen (failures must be clear errors, counted by
 * error); after each ingest the table holds exactly the loads that are recorded, a load reported
 * done is in and one reported failed is entirely out (and is retried). Prints a summary table
 * (also DIR/report.json) and exits 1 on a wrong answer, a lost or doubled row, a hang or an
 * unclear error.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { deleteJson, getJson, postJson, postNdjson } from "../src/cli/httpClient.js";
import { cachedCatalog } from "../src/cluster/demo.js";
import { HALT_ENV } from "../src/common/haltPoint.js";
import { loadDatabaseConfig, loadTableConfig } from "../src/common/ingestConfig.js";
import { haltWatch } from "../test/support/crashRig.js";
import { rowSet } from "../test/support/rows.js";
import { FaultCluster } from "./fault/cluster.js";
import { queryMix } from "./fault/queries.js";
import { FaultReference, type StateKey, stateKey } from "./fault/reference.js";
import { prng } from "./generate.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    objects: { type: "string", default: "50000" },
    parts: { type: "string", default: "8" },
    queries: { type: "string", default: "300" },
    ingests: { type: "string", default: "12" },
    clients: { type: "string", default: "4" },
    minutes: { type: "string", default: "10" },
    "max-stop": { type: "string", default: "8" },
    "czar-kills": { type: "string", default: "0.4" },
    "fault-every": { type: "string", default: "8" },
    dir: { type: "string", default: "bench/out/soak-fault" },
  },
});
const seed = Number(values.seed);
const objects = Number(values.objects);
const nParts = Number(values.parts);
const wantQueries = Number(values.queries);
const wantIngests = Number(values.ingests);
const maxStopMs = Number(values["max-stop"]) * 1000;
const czarKillRate = Number(values["czar-kills"]);
/** Mean seconds between worker faults (uniform in 0..2×). */
const faultEveryMs = Number(values["fault-every"]) * 1000;
const dir = resolve(values.dir as string);
/** A query or ingest with no answer this long is a hang. */
const HANG_MS = 120_000;
/** An append or unload still not done after retrying this long fails the soak. */
const RETRY_MS = 600_000;
const APPEND_POINTS = ["publish:locked", "publish:partial", "publish:workers", "publish:recorded", "progress"];
const UNLOAD_POINTS = ["unload:locked", "unload:recorded", "unload:partial"];

const t0 = performance.now();
const say = (m: string) => console.log(`${((performance.now() - t0) / 1000).toFixed(1)}s ${m}`);
process.setMaxListeners(0); // one exit listener per node process started, restarts included
// Interrupted: exit, so that the exit listeners kill the node processes.
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => process.exit(130));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

rmSync(dir, { recursive: true, force: true });
mkdirSync(join(dir, "parts"), { recursive: true });
const catalogDir = `${dir}-catalog`;
const cat = await cachedCatalog(catalogDir, objects, say);
const sourceLines = readFileSync(cat.sourceCsv!, "utf8").split("\n").filter(Boolean);
const partFiles = Array.from({ length: nParts }, (_, p) => {
  const file = join(dir, "parts", `Source.part${p}.csv`);
  writeFileSync(file, `${sourceLines.filter((_, i) => i % nParts === p).join("\n")}\n`);
  return file;
});
const dbJson = JSON.parse(readFileSync(cat.databaseJson, "utf8")) as unknown;
const objectJson = JSON.parse(readFileSync(cat.objectJson, "utf8")) as unknown;
const sourceJson = JSON.parse(readFileSync(cat.sourceJson!, "utf8")) as unknown;
say(`reference: ${objects} objects, ${sourceLines.length} sources in ${nParts} parts`);
const ref = new FaultReference(
  loadDatabaseConfig(cat.databaseJson),
  { cfg: loadTableConfig(cat.objectJson), file: cat.objectCsv },
  { cfg: loadTableConfig(cat.sourceJson!), files: partFiles },
);
const positions = ref.positions();

const cluster = new FaultCluster(dir, [
  ...["--replicas", "2", "--ingest-root", dir, "--ingest-root", resolve(catalogDir)],
  ...["--repair-interval", "10", "--repair-grace", "30"],
]);

/** Load states in the order they held or might have held; `from` is the first that may still hold. */
const possible: StateKey[] = [];
let from = 0;
let loaded = new Set([0]);
const settle = () => {
  possible.push(stateKey(loaded));
  from = possible.length - 1;
};

const stats = {
  queries: 0,
  exact: 0,
  byKind: {} as Record<string, { n: number; exact: number; failed: number }>,
  wrong: [] as Array<{ kind: string; sql: string; states: string[]; got: number; want: number[] }>,
  failed: {} as Record<string, number>,
  unclear: [] as string[],
  /** Query times: undisturbed, beside a kill or restart, beside a stopped worker (`stoppedSole`: one that was some chunks' only whole replica). */
  ms: { calm: [] as number[], fault: [] as number[], stopped: [] as number[], stoppedSole: [] as number[] },
  ingests: {
    appends: 0,
    unloads: 0,
    retries: 0,
    failedClearly: 0,
    /** Appends or unloads still failing (clearly) after RETRY_MS of retries: given up. */
    gaveUp: [] as string[],
    czarKills: {} as Record<string, number>,
  },
  /** Ingests while a worker was stopped. */
  ingestsWithStop: [] as number[],
  counts: { checks: 0, lost: 0, doubled: 0, violations: [] as string[] },
  /** `soleStops`: stops of a worker that was some chunks' only whole replica (their other copy lost to a kill, not yet repaired); `unknownStops`: the czar could not say. */
  chaos: { workerKills: 0, workerStops: 0, soleStops: 0, unknownStops: 0 },
};
/** Fault counters: a query that saw one change spans a fault. */
const epochs = { stop: 0, fault: 0, soleStop: 0 };
/** True while the stopped worker is some chunks' only whole replica. */
let soleStop = false;
let finished = false;
/** When the queries and ingests stop being started (set once the chaos starts). */
let deadline = Number.POSITIVE_INFINITY;
const ingestsDone = () => stats.ingests.appends + stats.ingests.unloads;
const enough = () => (stats.queries >= wantQueries && ingestsDone() >= wantIngests) || Date.now() > deadline;

type Answer = { ok: true; rows: unknown[][] } | { ok: false; code: string; message: string };

async function ask(sql: string): Promise<Answer> {
  try {
    const r = await fetch(`${cluster.url}/query`, {
      method: "POST",
      body: JSON.stringify({ query: sql, database: "demo" }),
      signal: AbortSignal.timeout(HANG_MS),
    });
    const body = (await r.json()) as { rows?: unknown[][]; error?: { code: string; message: string } };
    if (r.status === 200) return { ok: true, rows: body.rows ?? [] };
    return { ok: false, code: body.error?.code ?? `HTTP ${r.status}`, message: body.error?.message ?? "" };
  } catch (e) {
    const err = e as Error & { cause?: Error };
    if (err.name === "TimeoutError") return { ok: false, code: "HANG", message: `no answer in ${HANG_MS / 1000} s` };
    return { ok: false, code: "NO ANSWER", message: `${err.message}: ${err.cause?.message ?? ""}` };
  }
}

const shape = (m: string) => m.replace(/\d+(\.\d+)?/g, "N").slice(0, 90);

async function client(c: number): Promise<void> {
  const next = queryMix(prng(seed * 1000 + c), objects, positions);
  while (!enough()) {
    const q = next();
    const [i0, stop0, fault0, stopped0, disturbed0, sole0, soleStop0] = [
      from,
      epochs.stop,
      epochs.fault,
      cluster.stopped.size > 0,
      cluster.disturbed,
      epochs.soleStop,
      soleStop,
    ];
    const start = performance.now();
    const a = await ask(q.sql);
    const ms = performance.now() - start;
    stats.byKind[q.kind] ??= { n: 0, exact: 0, failed: 0 };
    const kind = stats.byKind[q.kind]!;
    stats.queries++;
    kind.n++;
    const sawStop = stopped0 || cluster.stopped.size > 0 || epochs.stop !== stop0;
    const sawFault = disturbed0 || cluster.disturbed || epochs.fault !== fault0;
    if (!a.ok) {
      kind.failed++;
      const k = `${a.code}: ${shape(a.message)}`;
      stats.failed[k] = (stats.failed[k] ?? 0) + 1;
      // Clear: a coded error other than INTERNAL; no answer only while the czar was down.
      const clear =
        a.code === "NO ANSWER" ? sawFault : !["HANG", "INTERNAL"].includes(a.code) && !a.code.startsWith("HTTP");
      if (!clear) stats.unclear.push(`${q.sql}: ${a.code} ${a.message}`);
      // No czar to ask: wait for its restart rather than count refused connections.
      while (a.code === "NO ANSWER" && cluster.czarDown && !finished) await sleep(50);
      continue;
    }
    const sawSole = soleStop0 || soleStop || epochs.soleStop !== sole0;
    (sawStop ? (sawSole ? stats.ms.stoppedSole : stats.ms.stopped) : sawFault ? stats.ms.fault : stats.ms.calm).push(
      ms,
    );
    const states = [...new Set(possible.slice(i0))];
    const got = rowSet(a.rows, false, 9);
    const same = (want: string[]) => want.length === got.length && want.every((w, j) => w === got[j]);
    if (states.some((s) => same(ref.expected(q.reference, s)))) {
      stats.exact++;
      kind.exact++;
    } else {
      const want = states.map((s) => ref.expected(q.reference, s).length);
      stats.wrong.push({ kind: q.kind, sql: q.sql, states, got: got.length, want });
      say(`WRONG ${q.kind}: ${q.sql} (${got.length} rows; states ${states.join(" | ")}: ${want.join("/")} rows)`);
    }
  }
}

async function chaos(): Promise<void> {
  const rand = prng(seed * 7 + 1);
  while (!finished) {
    await sleep(rand() * faultEveryMs * 2);
    if (finished) break;
    const i = Math.floor(rand() * cluster.workers.length);
    epochs.fault++;
    if (rand() < 0.5) {
      stats.chaos.workerKills++;
      await cluster.killWorker(i);
      await sleep(rand() * 4000);
      await cluster.restartWorker(i);
    } else {
      stats.chaos.workerStops++;
      const sole = await soleReplicaChunks(i);
      if (sole === null) stats.chaos.unknownStops++;
      else if (sole > 0) {
        stats.chaos.soleStops++;
        epochs.soleStop++;
        soleStop = true;
      }
      epochs.stop++;
      cluster.pause(i);
      await sleep(2000 + rand() * (maxStopMs - 2000));
      cluster.resume(i);
      soleStop = false;
    }
    epochs.fault++;
  }
}

/** How many chunks worker `i` is the only whole replica of (GET /chunks; null: the czar did not say within 10 s). */
async function soleReplicaChunks(i: number): Promise<number | null> {
  try {
    const m = (await persist("chunks", () => getJson(`${cluster.url}/chunks?database=demo`), 10_000)) as {
      chunks: Array<{ live: string[] }>;
    };
    return m.chunks.filter((c) => c.live.length === 1 && c.live[0] === `w${i + 1}`).length;
  } catch {
    return null;
  }
}

/** Retries `f` (the czar may be restarting, a worker down) until it answers, within a bound. */
async function persist<T>(what: string, f: () => Promise<T>, boundMs = HANG_MS): Promise<T> {
  const end = Date.now() + boundMs;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() > end) throw new Error(`${what}: no answer in ${boundMs / 1000} s: ${(e as Error).message}`);
      await sleep(200);
    }
  }
}

/** The recorded load of a Source part, if any. */
async function loadOf(part: number): Promise<string | undefined> {
  const r = await persist("loads", () => getJson(`${cluster.url}/loads?database=demo&table=Source`));
  const loads = r.loads as Array<{ loadId: string; files: string[] }>;
  return loads.find((l) => l.files.includes(partFiles[part]!))?.loadId;
}

const ingestCall = (part: number, onPublish?: () => void) =>
  postNdjson(`${cluster.url}/ingest`, { database: dbJson, table: sourceJson, files: [partFiles[part]] }, (p) => {
    if (p.phase === "publish") onPublish?.();
  });

/**
 * Runs `call` on a czar to be SIGKILLed at `point` of its publish (or unload): restarted with the
 * halt point set, killed once it halts there (or at the publish progress line for "progress"),
 * restarted plain. Resolves once the czar is back; a call that ended before the kill ran whole.
 */
async function killedDuring(point: string, call: (onPublish?: () => void) => Promise<unknown>): Promise<void> {
  const count = (k: string) => {
    stats.ingests.czarKills[k] = (stats.ingests.czarKills[k] ?? 0) + 1;
  };
  epochs.fault++;
  if (point === "progress") {
    let kill: Promise<void> | null = null;
    await call(() => {
      kill ??= cluster.stopCzar("SIGKILL");
    }).catch(() => {});
    if (kill === null) {
      count("progress: ended before its publish"); // failed earlier (a worker killed): nothing to kill
      epochs.fault++;
      return;
    }
    await kill;
    count(point);
  } else {
    const halt = haltWatch(point);
    await cluster.stopCzar("SIGTERM");
    await cluster.startCzar({ [HALT_ENV]: point }, halt.onLog);
    const pending = call().catch(() => {});
    const halted = await Promise.race([halt.halted.then(() => true), pending.then(() => false)]);
    count(halted ? point : `${point}: ended before it`);
    await cluster.stopCzar("SIGKILL");
    await pending;
  }
  await cluster.startCzar();
  epochs.fault++;
}

/** The table must hold exactly the parts of `loaded` (rows and sum of sourceId). */
async function checkCounts(what: string): Promise<void> {
  const want = ref.content(stateKey(loaded));
  const a = await persist("count", async () => {
    const r = await postJson(`${cluster.url}/query`, {
      query: "SELECT COUNT(*), SUM(sourceId) FROM Source",
      database: "demo",
    });
    return (r.rows as unknown[][])[0]!;
  });
  stats.counts.checks++;
  const [rows, sum] = [Number(a[0]), BigInt(a[1] as number)];
  if (rows !== want.rows || sum !== want.sum) {
    if (rows < want.rows) stats.counts.lost += want.rows - rows;
    else stats.counts.doubled += rows - want.rows;
    stats.counts.violations.push(
      `${what}: ${rows} rows (sum ${sum}), loads recorded hold ${want.rows} (sum ${want.sum})`,
    );
    say(`COUNT VIOLATION ${what}: ${rows} rows, want ${want.rows}`);
  }
}

/** One append or unload of `part` (czar killed at `point` when given), retried until it is done. */
async function change(part: number, unload: boolean, point: string | null): Promise<void> {
  const target = new Set(loaded);
  if (unload) target.delete(part);
  else target.add(part);
  possible.push(stateKey(target));
  const call = async (onPublish?: () => void) => {
    if (!unload) return ingestCall(part, onPublish);
    const id = await loadOf(part);
    return id === undefined ? null : deleteJson(`${cluster.url}/ingest/${encodeURIComponent(id)}`);
  };
  const start = performance.now();
  const stop0 = epochs.stop;
  const stopped0 = cluster.stopped.size > 0;
  for (let attempt = 0; ; attempt++) {
    let reported: "done" | "failed" | "killed" = "killed";
    if (attempt === 0 && point !== null) await killedDuring(point, call);
    else {
      try {
        await call();
        reported = "done";
      } catch (e) {
        reported = "failed";
        stats.ingests.failedClearly++;
        say(`${unload ? "unload" : "append"} of part ${part} failed: ${(e as Error).message}`);
      }
    }
    const isIn = (await loadOf(part)) !== undefined;
    const done = isIn !== unload;
    const what = `${unload ? "unload" : "append"} of part ${part} (${reported}${attempt === 0 && point !== null ? ` at ${point}` : ""})`;
    if (reported === "done" && !done)
      stats.counts.violations.push(`${what}: reported done, yet the load is ${isIn ? "in" : "out"}`);
    if (reported === "failed" && done) stats.counts.violations.push(`${what}: reported failed, yet it took effect`);
    if (done) loaded = target;
    settle();
    await checkCounts(what);
    if (done) break;
    // A load fails (clearly, entirely out) when every replica of a chunk went away during it: retried, within a bound.
    if (performance.now() - start > RETRY_MS) {
      stats.ingests.gaveUp.push(`${what}: not done after ${attempt + 1} attempts in ${RETRY_MS / 1000} s`);
      return;
    }
    stats.ingests.retries++;
    possible.push(stateKey(target));
  }
  const ms = performance.now() - start;
  if (stopped0 || cluster.stopped.size > 0 || epochs.stop !== stop0) stats.ingestsWithStop.push(ms);
  if (unload) stats.ingests.unloads++;
  else stats.ingests.appends++;
  say(
    `${unload ? "unloaded" : "appended"} part ${part} in ${(ms / 1000).toFixed(1)} s${point ? ` (czar killed at ${point})` : ""}: Source = parts ${stateKey(loaded)}`,
  );
}

async function ingests(): Promise<void> {
  const rand = prng(seed * 7 + 2);
  while (!enough()) {
    await sleep(500 + rand() * 2500);
    const extra = [...loaded].filter((p) => p !== 0);
    const out = partFiles.map((_, p) => p).filter((p) => !loaded.has(p));
    const unload = out.length === 0 || (extra.length > 0 && rand() < 0.4);
    const part = unload ? extra[Math.floor(rand() * extra.length)]! : out[Math.floor(rand() * out.length)]!;
    const points = unload ? UNLOAD_POINTS : APPEND_POINTS;
    const point = rand() < czarKillRate ? points[Math.floor(rand() * points.length)]! : null;
    await change(part, unload, point);
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!);
};

let failedRun: unknown = null;
try {
  await cluster.start(3);
  say(`cluster up: czar ${cluster.url}, workers ${cluster.workers.map((w) => w.address).join(" ")}`);
  await postJson(`${cluster.url}/ingest`, { database: dbJson, table: objectJson, files: [cat.objectCsv] });
  await ingestCall(0);
  settle();
  await checkCounts("initial load");
  say("loaded Object and Source part 0; chaos starts");
  deadline = Date.now() + Number(values.minutes) * 60_000;
  const chaosLoop = chaos();
  const ingestLoop = ingests();
  await Promise.all([...Array.from({ length: Number(values.clients) }, (_, c) => client(c)), ingestLoop]);
  finished = true;
  await chaosLoop;
  // Every node back: the table exact, repair leaves every chunk on 2 replicas.
  await persist("all workers up", async () => {
    const s = (await getJson(`${cluster.url}/status`)) as { workers: Array<{ up: boolean }> };
    if (!s.workers.every((w) => w.up)) throw new Error("a worker is down");
  });
  await checkCounts("at the end");
  await postJson(`${cluster.url}/replicate`, {});
  const status = (await getJson(`${cluster.url}/status`)) as {
    databases: Array<{ database: string; chunks: number; replicas: { histogram: Record<string, number> } }>;
  };
  const demo = status.databases.find((d) => d.database === "demo")!;
  if (JSON.stringify(demo.replicas.histogram) !== JSON.stringify({ 2: demo.chunks }))
    stats.counts.violations.push(`after repair: chunks by replicas ${JSON.stringify(demo.replicas.histogram)}`);
  const rss = cluster.rss();
  const lat = (xs: number[]) => `${xs.length} q, p50 ${pct(xs, 50)} ms, p99 ${pct(xs, 99)} ms, max ${pct(xs, 100)} ms`;
  const withoutStop = [...stats.ms.calm, ...stats.ms.fault];
  const failedTotal = Object.values(stats.failed).reduce((a, b) => a + b, 0);
  const report = {
    seed,
    objects,
    seconds: Math.round((performance.now() - t0) / 1000),
    ...stats,
    ms: undefined,
    latency: {
      undisturbed: lat(stats.ms.calm),
      withoutStoppedWorker: lat(withoutStop),
      withStoppedWorker: lat(stats.ms.stopped),
      withStoppedSoleReplica: lat(stats.ms.stoppedSole),
    },
    rssMb: rss,
  };
  writeFileSync(join(dir, "report.json"), JSON.stringify(report, null, 2));
  const rows: Array<[string, string]> = [
    ["seed", String(seed)],
    [
      "queries",
      `${stats.queries} (${stats.exact} exact, ${stats.wrong.length} wrong, ${failedTotal} failed, ${stats.unclear.length} unclear)`,
    ],
    ...Object.entries(stats.byKind).map(([k, v]): [string, string] => [
      `  ${k}`,
      `${v.n} (${v.exact} exact, ${v.failed} failed)`,
    ]),
    ...Object.entries(stats.failed).map(([k, v]): [string, string] => [`  failed ${v}×`, k]),
    [
      "ingests",
      `${stats.ingests.appends} appends, ${stats.ingests.unloads} unloads, ${stats.ingests.retries} retried, ${stats.ingests.failedClearly} failed with an error, ${stats.ingests.gaveUp.length} given up`,
    ],
    ["czar kills", JSON.stringify(stats.ingests.czarKills)],
    [
      "worker faults",
      `${stats.chaos.workerKills} SIGKILL+restart, ${stats.chaos.workerStops} SIGSTOP+SIGCONT (${stats.chaos.soleStops} of a chunk's only replica, ${stats.chaos.unknownStops} unknown)`,
    ],
    [
      "ingests beside a stop",
      `${stats.ingestsWithStop.length} (longest ${(pct(stats.ingestsWithStop, 100) / 1000).toFixed(1)} s)`,
    ],
    [
      "count checks",
      `${stats.counts.checks}: ${stats.counts.lost} rows lost, ${stats.counts.doubled} doubled, ${stats.counts.violations.length} violations`,
    ],
    ["latency undisturbed", lat(stats.ms.calm)],
    ["latency no worker stopped", lat(withoutStop)],
    ["latency a worker stopped", lat(stats.ms.stopped)],
    ["  … the only replica", lat(stats.ms.stoppedSole)],
    [
      "RSS at end (MB)",
      Object.entries(rss)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
    ],
    ["seconds", String(report.seconds)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n"));
  for (const v of [...stats.counts.violations, ...stats.ingests.gaveUp, ...stats.unclear.slice(0, 10)])
    console.log(`  ${v}`);
  if (stats.wrong.length + stats.counts.violations.length + stats.unclear.length > 0) process.exitCode = 1;
} catch (e) {
  failedRun = e;
  console.error(e);
  process.exitCode = 1;
} finally {
  finished = true;
  await cluster.stop().catch(() => {});
  ref.close();
}
if (failedRun === null) say("soak done");
