/** The benchmark's report: every figure as JSON, and Markdown tables (systems × queries, ratios to the baselines). */

import type { ConcurrentResult, QueryResult } from "./measure.js";
import { quantile } from "./stats.js";
import type { SuiteQuery } from "./suite.js";
import type { QservConfig } from "./systems/qserv.js";

export interface SystemReport {
  name: string;
  dialect: "qserv" | "sqlite" | "pg";
  ingestSeconds: number;
  detail: string;
  queries: Record<string, QueryResult>;
  concurrent: ConcurrentResult | null;
  /** Every concurrent-cone measurement, one per client count (`concurrent` is the first). */
  concurrentRuns?: ConcurrentResult[];
  /** mini-qserv only: the partitioning and cluster shape (older reports have it only in `name`). */
  config?: QservConfig;
}

export interface Report {
  date: string;
  /** The commit measured (older reports have none). */
  commit?: string;
  objects: number;
  sources: number;
  quick: boolean;
  machine: Record<string, unknown>;
  notes: string[];
  systems: SystemReport[];
}

const ms = (x: number) => (Number.isNaN(x) ? "–" : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const ratio = (x: number) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(1)}×` : "–");

/** Median of a query's runs, by system. */
export const p50 = (s: SystemReport, id: string) => quantile(s.queries[id]?.ms ?? [], 0.5);

interface Metric {
  id: string;
  title: string;
  /** Lower is better; ratios are a system's value over the best baseline's. */
  value: (s: SystemReport) => number;
  unit: string;
}

function metrics(suite: SuiteQuery[]): Metric[] {
  return [
    ...suite.map((q) => ({ id: q.id, title: `${q.title}, p50`, value: (s: SystemReport) => p50(s, q.id), unit: "ms" })),
    {
      id: "concurrent",
      title: "Concurrent cone searches r = 0.1°, seconds per 1000 queries (1000 / QPS)",
      value: (s) => (s.concurrent === null ? Number.NaN : 1000 / s.concurrent.qps),
      unit: "s",
    },
    { id: "ingest", title: "Ingest (load + partition + index)", value: (s) => s.ingestSeconds, unit: "s" },
  ];
}

const baselines = (r: Report) => r.systems.filter((s) => s.dialect !== "qserv");
const best = (r: Report, m: Metric) =>
  Math.min(
    ...baselines(r)
      .map(m.value)
      .filter((x) => !Number.isNaN(x)),
  );

/**
 * The open issues' goals. `ratio`: mini-qserv's figure over PostgreSQL+q3c's, met when at most
 * `goal`; `ms`: a latency quantile, met when at most `goal` ms; `qps`: concurrent QPS over
 * PostgreSQL's with as many clients, met when at least `goal`; `hold`: QPS with the most clients
 * over QPS with the fewest, met when at least `goal` (and the run ended without an error).
 */
type Target =
  | { issue: number; id: string; goal: number; kind: "ratio" }
  | { issue: number; id: string; goal: number; kind: "ms"; q: number }
  | { issue: number; id: string; goal: number; kind: "qps"; clients: number }
  | { issue: number; id: string; goal: number; kind: "hold" };

const TARGETS: Target[] = [
  { issue: 16, id: "point", goal: 1, kind: "ms", q: 0.5 },
  { issue: 16, id: "point", goal: 3, kind: "ms", q: 0.95 },
  { issue: 16, id: "cone01", goal: 1, kind: "ratio" },
  { issue: 16, id: "cone1", goal: 1, kind: "ratio" },
  { issue: 16, id: "lightcurve", goal: 1, kind: "ratio" },
  { issue: 16, id: "in1000", goal: 1, kind: "ratio" },
  { issue: 16, id: "concurrent", goal: 1.5, kind: "qps", clients: 16 },
  { issue: 16, id: "concurrent", goal: 1, kind: "hold" },
  { issue: 19, id: "groupby", goal: 1, kind: "ratio" },
  { issue: 19, id: "scan", goal: 1, kind: "ratio" },
  { issue: 19, id: "nn", goal: 0.5, kind: "ratio" },
  { issue: 19, id: "nnDense", goal: 1, kind: "ratio" },
  { issue: 19, id: "xmatch", goal: 1, kind: "ratio" },
  { issue: 19, id: "ingest", goal: 1, kind: "ratio" },
];

const runWith = (s: SystemReport, clients: number) => s.concurrentRuns?.find((c) => c.clients === clients);

/** One target's cell for system `s`: the figure and met / missed by how much; null when not measured. */
function targetCell(t: Target, ms_: Metric[], s: SystemReport, pg: SystemReport): string | null {
  const verdict = (v: number, met: boolean, by: number, show: string) =>
    Number.isNaN(v) ? null : `${show} ${met ? "met" : `missed by ${ratio(by)}`}`;
  switch (t.kind) {
    case "ratio": {
      const m = ms_.find((x) => x.id === t.id);
      if (m === undefined) return null;
      const v = m.value(s) / m.value(pg);
      return verdict(v, v <= t.goal, v / t.goal, ratio(v));
    }
    case "ms": {
      const v = quantile(s.queries[t.id]?.ms ?? [], t.q);
      return verdict(v, v <= t.goal, v / t.goal, `${ms(v)} ms`);
    }
    case "qps": {
      const mine = runWith(s, t.clients);
      const theirs = runWith(pg, t.clients);
      if (mine === undefined || theirs === undefined) return null;
      const v = mine.qps / theirs.qps;
      return verdict(v, v >= t.goal, t.goal / v, `${ratio(v)} (${mine.qps.toFixed(0)} QPS)`);
    }
    case "hold": {
      const runs = s.concurrentRuns ?? [];
      if (runs.length < 2) return null;
      const few = runs.reduce((a, b) => (b.clients < a.clients ? b : a));
      const many = runs.reduce((a, b) => (b.clients > a.clients ? b : a));
      const v = many.qps / few.qps;
      return verdict(v, v >= t.goal, t.goal / v, `${ratio(v)} (${many.clients} clients: ${many.qps.toFixed(0)} QPS)`);
    }
  }
}

function targetName(t: Target): string {
  switch (t.kind) {
    case "ratio":
      return `${t.id} ÷ PostgreSQL`;
    case "ms":
      return `${t.id} p${Math.round(t.q * 100)}`;
    case "qps":
      return `${t.clients} clients' QPS ÷ PostgreSQL's`;
    case "hold":
      return "most clients' QPS ÷ fewest clients'";
  }
}

function targets(ms_: Metric[], qservs: SystemReport[], pg: SystemReport): string[] {
  const out = [
    "## Targets (issues 16 and 19)",
    "",
    "Ratios are mini-qserv's figure over PostgreSQL+q3c's (latency, ingest time; met when at most the goal); QPS ratios are mini-qserv's over PostgreSQL's (met when at least the goal). Point lookups over the MySQL port: `npm run bench:point`.",
    "",
  ];
  out.push(`| issue | target | goal | ${qservs.map((s) => s.name.replace("mini-qserv ", "")).join(" | ")} |`);
  out.push(`|---|---|---:|${qservs.map(() => "---:").join("|")}|`);
  for (const t of TARGETS) {
    const cells = qservs.map((s) => targetCell(t, ms_, s, pg));
    if (cells.every((c) => c === null)) continue; // left out of the run (--queries)
    const goal = t.kind === "ms" ? `${t.goal} ms` : t.kind === "ratio" ? `≤ ${ratio(t.goal)}` : `≥ ${ratio(t.goal)}`;
    out.push(`| ${t.issue} | ${targetName(t)} | ${goal} | ${cells.map((c) => c ?? "–").join(" | ")} |`);
  }
  out.push("");
  return out;
}

export function markdown(r: Report, suite: SuiteQuery[]): string {
  const qservs = r.systems.filter((s) => s.dialect === "qserv");
  const pg = r.systems.find((s) => s.dialect === "pg");
  const out: string[] = [];
  out.push(
    `# mini-qserv benchmark, ${r.objects.toLocaleString("en")} objects, ${r.date}${r.quick ? " (quick)" : ""}`,
    "",
  );
  if (r.commit !== undefined) out.push(`Commit measured: ${r.commit}.`, "");
  out.push(
    `Machine: ${Object.entries(r.machine)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
    "",
  );
  out.push(
    `Data: \`bench/generate.ts\` — Object ${r.objects.toLocaleString("en")} rows (14 columns, uniform sky plus 20 dense clusters), ` +
      `Source ${r.sources.toLocaleString("en")} rows. mini-qserv configurations are stripes/sub-stripes ×workers, one replica.`,
    "",
  );
  for (const n of r.notes) out.push(`- ${n}`);
  out.push("");
  out.push("## mini-qserv ÷ best baseline", "");
  out.push(
    "Each cell: mini-qserv's figure over the best of SQLite and PostgreSQL+q3c (below 1× mini-qserv is faster)" +
      (pg ? "; in brackets, over PostgreSQL+q3c alone." : "."),
    "",
  );
  const ms_ = metrics(suite);
  out.push(`| query | ${qservs.map((s) => s.name.replace("mini-qserv ", "")).join(" | ")} |`);
  out.push(`|---|${qservs.map(() => "---:").join("|")}|`);
  for (const m of ms_) {
    const b = best(r, m);
    const cells = qservs.map((s) => {
      const v = m.value(s);
      return pg ? `${ratio(v / b)} (${ratio(v / m.value(pg))})` : ratio(v / b);
    });
    out.push(`| ${m.id} | ${cells.join(" | ")} |`);
  }
  out.push("");
  if (pg) out.push(...targets(ms_, qservs, pg));
  out.push(...scanRates(r));
  for (const q of suite) {
    out.push(
      `## ${q.title}`,
      "",
      `${q.runs.length} runs; \`${q.id}\`; rows, chunks: medians of rows returned and chunks queried.`,
      "",
    );
    out.push(
      "| system | p50 ms | p95 ms | rows | chunks | × best baseline | rows check |",
      "|---|---:|---:|---:|---:|---:|---|",
    );
    const b = best(r, ms_.find((m) => m.id === q.id) as Metric);
    for (const s of r.systems) {
      const res = s.queries[q.id];
      if (res === undefined) continue;
      const check = res.mismatches.length === 0 ? "same" : `${res.mismatches.length} differ: ${res.mismatches[0]}`;
      out.push(
        `| ${s.name} | ${ms(quantile(res.ms, 0.5))} | ${ms(quantile(res.ms, 0.95))} | ${quantile(res.rows, 0.5)} | ${res.chunks.length ? quantile(res.chunks, 0.5) : "–"} | ${ratio(quantile(res.ms, 0.5) / b)} | ${check} |`,
      );
    }
    out.push("");
  }
  out.push("## Concurrent cone searches (r = 0.1°) and ingest", "");
  out.push("| system | clients | queries | QPS | ingest s | layout |", "|---|---:|---:|---:|---:|---|");
  for (const s of r.systems) {
    const runs = s.concurrentRuns ?? (s.concurrent === null ? [null] : [s.concurrent]);
    for (const c of runs) {
      out.push(
        `| ${s.name} | ${c?.clients ?? "–"} | ${c?.queries ?? "–"} | ${c ? c.qps.toFixed(1) : "–"} | ${s.ingestSeconds.toFixed(1)} | ${s.detail} |`,
      );
    }
  }
  out.push("");
  return out.join("\n");
}

/**
 * Rows a full scan (`scan`, `groupby`) reads per second per core, against one SQLite file's
 * single-thread rate on the same query (the one-file baseline runs each query on one thread): the
 * physical limit of this machine's cores. Cores: the machine's.
 */
function scanRates(r: Report): string[] {
  const sqlite = r.systems.find((s) => s.dialect === "sqlite");
  const cores = Number.parseInt(String(r.machine.cpus), 10);
  const ids = ["scan", "groupby"].filter((id) => sqlite !== undefined && !Number.isNaN(p50(sqlite, id)));
  if (sqlite === undefined || ids.length === 0 || !(cores > 0)) return [];
  const rate = (s: SystemReport, id: string) => r.objects / (p50(s, id) / 1000);
  const m = (x: number) => `${(x / 1e6).toFixed(2)}M`;
  const out = [
    "## Full-scan rate per core",
    "",
    `Object rows read per second (p50), over ${cores} cores for mini-qserv, against one SQLite file on one thread.`,
    "",
    "| query | SQLite 1 thread, rows/s | system | rows/s | rows/s per core | per core ÷ SQLite 1 thread |",
    "|---|---:|---|---:|---:|---:|",
  ];
  for (const id of ids) {
    const one = rate(sqlite, id);
    for (const s of r.systems.filter((x) => x.dialect === "qserv")) {
      const v = rate(s, id);
      out.push(`| ${id} | ${m(one)} | ${s.name} | ${m(v)} | ${m(v / cores)} | ${ratio(v / cores / one)} |`);
    }
  }
  out.push("");
  return out;
}
