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
  /** mini-qserv only: the partitioning and cluster shape (older reports have it only in `name`). */
  config?: QservConfig;
}

export interface Report {
  date: string;
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

/** Issue 7's goals, as mini-qserv's figure over PostgreSQL+q3c's (point lookup: milliseconds). */
const TARGETS: Array<{ id: string; goal: number }> = [
  { id: "scan", goal: 1 },
  { id: "groupby", goal: 1 },
  { id: "cone01", goal: 1 },
  { id: "concurrent", goal: 1 },
  { id: "nn", goal: 0.2 },
  { id: "ingest", goal: 0.5 },
];

function targets(ms_: Metric[], qservs: SystemReport[], pg: SystemReport): string[] {
  const out = ["## Targets (issue 7: ratios to PostgreSQL+q3c; met when at most the goal)", ""];
  out.push(`| target | goal | ${qservs.map((s) => s.name.replace("mini-qserv ", "")).join(" | ")} |`);
  out.push(`|---|---:|${qservs.map(() => "---:").join("|")}|`);
  for (const t of TARGETS) {
    const m = ms_.find((x) => x.id === t.id);
    if (m === undefined || Number.isNaN(m.value(pg))) continue; // a query left out of the run (--queries)
    const cells = qservs.map((s) => {
      const v = m.value(s) / m.value(pg);
      return `${ratio(v)} ${v <= t.goal ? "met" : `missed by ${ratio(v / t.goal)}`}`;
    });
    out.push(`| ${t.id} | ${ratio(t.goal)} | ${cells.join(" | ")} |`);
  }
  const point = qservs.map((s) => {
    const v = p50(s, "point");
    return `${ms(v)} ms ${v <= 2 ? "met" : `missed by ${ratio(v / 2)}`}`;
  });
  if (!Number.isNaN(p50(pg, "point"))) out.push(`| point p50 | 2 ms | ${point.join(" | ")} |`);
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
    const c = s.concurrent;
    out.push(
      `| ${s.name} | ${c?.clients ?? "–"} | ${c?.queries ?? "–"} | ${c ? c.qps.toFixed(1) : "–"} | ${s.ingestSeconds.toFixed(1)} | ${s.detail} |`,
    );
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
