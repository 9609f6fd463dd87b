/**
 * `npm run bench -- [--size N] [--configs 18/6/2,85/12/2] [--quick] [--runs R] [--clients 16,64] [--no-pg]
 * [--queries groupby,scan,nn,nnDense,xmatch,concurrent]`:
 * the query suite on a single SQLite file, PostgreSQL+q3c and mini-qserv under each configuration
 * (stripes/sub-stripes/workers), same rows everywhere, in one run; writes
 * bench/results/<date>-<size>.md and .json, and the PNG plots the .md links (bench/plot.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { MultiBar, Presets } from "cli-progress";
import { cachedCatalog } from "../src/cluster/demo.js";
import { prng } from "./generate.js";
import { measureConcurrent, measureQuery, type Progress, type Reference } from "./measure.js";
import { withPlots, writePlots } from "./plot.js";
import { markdown, type Report, type SystemReport } from "./report.js";
import { buildSuite, concurrentCones, densest, type Position, type SuiteOptions } from "./suite.js";
import { startPg } from "./systems/pg.js";
import { configLabel, parseConfig, type QservConfig, startQserv } from "./systems/qserv.js";
import { buildSqlite, startSqlite } from "./systems/sqlite.js";
import type { System } from "./systems/system.js";

/** The Hsc table (the cross-match's second catalog) holds this fraction of the objects. */
const HSC_FRACTION = 0.1;
/** Point lookups per table before mini-qserv is timed: they open every chunk file on the workers' service threads. */
const WARM_LOOKUPS = 3000;

const { values } = parseArgs({
  options: {
    size: { type: "string" },
    configs: { type: "string" },
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    /** Concurrent cone clients: one measurement per count (the first is the suite's `concurrent`). */
    clients: { type: "string", default: "16,64" },
    "no-pg": { type: "boolean", default: false },
    /** Only these queries of the suite (ids, and `concurrent` for the concurrent cones); default all. */
    queries: { type: "string" },
    "pg-port": { type: "string", default: "54329" },
    out: { type: "string", default: "bench/out" },
    results: { type: "string", default: "bench/results" },
  },
});
const quick = values.quick as boolean;
const size = Number(values.size ?? (quick ? 20_000 : 1_000_000));
const configs = (values.configs ?? (quick ? "18/6/1,42/8/2" : "18/6/2,42/8/2,85/12/2,42/8/1"))
  .split(",")
  .map(parseConfig);
const runs = Number(values.runs ?? (quick ? 5 : 30));
const clientCounts = (values.clients as string).split(",").map(Number);
if (clientCounts.some((n) => !Number.isInteger(n) || n < 1)) {
  process.stderr.write(`--clients takes positive integers separated by commas, got ${values.clients}\n`);
  process.exit(2);
}
const outDir = values.out as string;
mkdirSync(outDir, { recursive: true });

// Progress: a bar on a terminal, plain lines otherwise.
const tty = process.stderr.isTTY === true;
const bars = tty
  ? new MultiBar({ format: "{bar} {value}/{total} {step}", hideCursor: true }, Presets.shades_grey)
  : null;
const bar = bars?.create(1, 0, { step: "" });
const say = (line: string) => (bars ? bars.log(`${line}\n`) : process.stdout.write(`${line}\n`));

// Read at the start: the build measured is the one checked out now.
const commit = commitMeasured();
const catalog = await cachedCatalog(join(outDir, `catalog-${size}`), size, say, "bench", HSC_FRACTION);
say(`catalog: ${catalog.objects} objects, ${catalog.sources} sources`);

const sqliteFile = join(outDir, `bench-${size}.sqlite`);
const sqliteIngest = buildSqlite(catalog, sqliteFile, say);
say(`SQLite: loaded and indexed in ${sqliteIngest.toFixed(1)} s`);

// Search centres: positions of random objects, away from ra 0/360 and the poles.
const probe = new Database(sqliteFile, { readonly: true });
const at = probe.prepare("SELECT ra, decl FROM Object WHERE objectId = ?").raw(true);
const positions = (n: number, seed: number): Position[] => {
  const rnd = prng(seed);
  const out: Position[] = [];
  while (out.length < n) {
    const p = at.get(1 + Math.floor(rnd() * size)) as Position;
    if (Math.abs(p[1]) <= 60 && p[0] >= 10 && p[0] <= 350) out.push(p);
  }
  return out;
};
const suiteOptions: SuiteOptions = {
  runs,
  scanRuns: Math.max(3, Math.ceil(runs / 6)),
  objects: size,
  positions,
  dense: densest(probe, positions(400, 17)),
  hsc: (catalog.hscCsv ?? null) !== null,
};
const only = values.queries === undefined ? null : new Set((values.queries as string).split(","));
const suite = buildSuite(suiteOptions).filter((q) => only === null || only.has(q.id));
const cones =
  only === null || only.has("concurrent")
    ? clientCounts.map((n) => ({
        clients: n,
        texts: concurrentCones(suiteOptions, n * Math.max(4, Math.ceil(runs / 2))),
      }))
    : [];
const sqliteVersion = (probe.prepare("SELECT sqlite_version()").pluck().get() as string) ?? "?";
probe.close();

const perSystem = suite.reduce((n, q) => n + q.runs.length, 0) + cones.reduce((n, c) => n + c.texts.length, 0);
let systemsLeft = 1 + (values["no-pg"] ? 0 : 1) + configs.length;
bar?.setTotal(perSystem * systemsLeft);
const progress: Progress = {
  tick: (step) => bar?.increment(1, { step }),
};

const ref: Reference = new Map();
const reports: SystemReport[] = [];
const notes: string[] = [
  "SQLite: one file, objectId/sourceId as rowids, an index on Object(decl, ra) for cone and box searches (decl range searched, ra tested on the index entries, exact scisql test on what is left), Source(objectId), an R*Tree of positions for near-neighbour pairs (each o1's 1′ neighbourhood, then o2 by rowid); queried by one read-only connection per core in worker threads.",
  "PostgreSQL: COPY, a q3c_ang2ipix(ra, decl) index, CLUSTER on it, primary key objectId, Source(objectId) index, ANALYZE; boxes as q3c_radial_query on the circle around the box AND the ra/decl ranges; near-neighbours with q3c_join, the pairs fenced by OFFSET 0 before the box test on o2; jit=off (q3c's cost estimates make it JIT-compile index lookups); psql sessions on a Unix socket.",
  `mini-qserv: a supervised cluster (up()) on loopback, ingest through POST /ingest (partition + load + director index), queries through POST /query; times are wall-clock at the client, HTTP and JSON included. Before timing, ${WARM_LOOKUPS.toLocaleString("en")} point lookups on Object and on Source open every chunk file on the workers' service threads, where key lookups run (as on a server that has been up: a chunk's first query there opens its file); the executor threads, which run everything else, open theirs as the timed queries come.`,
  "mini-qserv: as in Qserv, qserv_areaspec_* restricts every partitioned table of FROM (both sides of the near-neighbour self-join); the baselines' SQL does the same.",
];

async function measure(sys: System, config?: QservConfig): Promise<void> {
  const r: SystemReport = {
    name: sys.name,
    dialect: sys.dialect,
    ingestSeconds: sys.ingestSeconds,
    detail: sys.detail,
    queries: {},
    concurrent: null,
    ...(config && { config }),
  };
  try {
    for (const q of suite) {
      r.queries[q.id] = await measureQuery(sys, q, ref, progress);
      const res = r.queries[q.id];
      if (!tty && res)
        say(
          `${sys.name}: ${q.id} ${res.ms.length} runs${res.mismatches.length ? `, ${res.mismatches.length} differ` : ""}`,
        );
    }
    for (const c of cones) {
      const m = await measureConcurrent(sys, c.texts, c.clients, progress);
      r.concurrent ??= m;
      r.concurrentRuns = [...(r.concurrentRuns ?? []), m];
      say(`${sys.name}: ${m.qps.toFixed(1)} concurrent cone QPS with ${c.clients} clients`);
    }
  } finally {
    reports.push(r);
    systemsLeft--;
    await sys.close();
  }
}

try {
  await measure(startSqlite(sqliteFile, os.availableParallelism(), sqliteIngest));
  if (!values["no-pg"]) {
    const pg = await startPg(catalog, { dir: join(outDir, "pg"), port: Number(values["pg-port"]) }, say);
    if (pg) await measure(pg);
    else bar?.setTotal(perSystem * (reports.length + systemsLeft - 1));
  }
  for (const c of configs) {
    const sys = await startQserv(catalog, c, join(outDir, "qserv"), say);
    say(`mini-qserv ${configLabel(c)}: ingested in ${sys.ingestSeconds.toFixed(1)} s`);
    await warmChunks(sys);
    await measure(sys, c);
  }
} finally {
  bars?.stop();
}

const cpus = os.cpus();
const report: Report = {
  date: new Date().toISOString(),
  commit,
  objects: catalog.objects,
  sources: catalog.sources,
  quick,
  machine: {
    os: `${os.type()} ${os.release()}`,
    cpus: `${cpus.length} × ${cpus[0]?.model ?? "?"}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    sqlite: sqliteVersion,
  },
  notes,
  systems: reports,
};
const results = values.results as string;
mkdirSync(results, { recursive: true });
const base = join(results, `${report.date.slice(0, 10)}-${size}${quick ? "-quick" : ""}`);
writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
// Plots are extras: a failure to draw them is noted in the report, the figures are kept.
const plots = await writePlots(report, base).catch((e: Error) => ({
  files: [],
  notes: [`Plots not drawn: ${e.message}`],
}));
const md = withPlots(markdown(report, suite), plots);
writeFileSync(`${base}.md`, md);
process.stdout.write(`${md}\nwrote ${[`${base}.md`, `${base}.json`, ...plots.files].join(", ")}\n`);

/**
 * Point lookups by random key on Object and Source: each chunk file's first key lookup opens it on
 * its worker's service thread (connection, pragmas, functions), which a server that has been up has
 * done long before. Executor threads keep connections of their own, opened as queries come.
 */
async function warmChunks(sys: System): Promise<void> {
  const rnd = prng(23);
  for (const table of ["Object", "Source"]) {
    for (let i = 0; i < WARM_LOOKUPS; i++) {
      const id = 1 + Math.floor(rnd() * size);
      await sys.query(`SELECT objectId FROM ${table} WHERE objectId = ${id}`);
    }
  }
}

/** The commit this run measured (with "+changes" when the work tree differed from it). */
function commitMeasured(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim();
    return dirty === "" ? head : `${head}+changes`;
  } catch {
    return "unknown";
  }
}
