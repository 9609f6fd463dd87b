/**
 * PNG plots of a benchmark report: p50 latency against num_stripes, and speed-up against workers.
 * Charts are Vega-Lite specs, rendered to SVG by Vega (no canvas) and rasterised by resvg with the
 * DejaVu Sans files of the dejavu-fonts-ttf package (system fonts off), so the PNGs do not depend on the
 * machine's fonts. Without a canvas Vega estimates text widths, hence some slack around labels.
 */
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { p50, type Report, type SystemReport } from "./report.js";
import type { QservConfig } from "./systems/qserv.js";

const require = createRequire(import.meta.url);
const FONT = "DejaVu Sans";
const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) => require.resolve(`dejavu-fonts-ttf/ttf/${f}`));

/** A mini-qserv system's configuration: from the report, or parsed back from its name (configLabel's format). */
function configOf(s: SystemReport): QservConfig | null {
  if (s.config) return s.config;
  const m = /^mini-qserv (\d+)\/(\d+) ×(\d+)$/.exec(s.name);
  return m ? { stripes: Number(m[1]), subStripes: Number(m[2]), workers: Number(m[3]) } : null;
}

/** A Vega-Lite chart as PNG bytes. */
export async function png(spec: TopLevelSpec): Promise<Buffer> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  const font = { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: FONT, sansSerifFamily: FONT };
  return new Resvg(svg, { font, background: "white", fitTo: { mode: "zoom", value: 2 } }).render().asPng();
}

const workersLabel = (n: number) => `mini-qserv, ${n} worker${n === 1 ? "" : "s"}`;
export const config = {
  font: FONT,
  legend: { orient: "bottom", labelLimit: 300 },
  header: { labelFontSize: 13 },
} as const;

/** Small multiples, one per query: mini-qserv p50 by num_stripes (a line per worker count), baselines as rules. */
function latencySpec(r: Report, queries: string[], qservs: [SystemReport, QservConfig][]): TopLevelSpec {
  const rows: Record<string, unknown>[] = [];
  const baselines = r.systems.filter((s) => s.dialect !== "qserv");
  for (const q of queries) {
    for (const [s, c] of qservs)
      rows.push({ q, kind: "qserv", series: workersLabel(c.workers), x: c.stripes, ms: p50(s, q) });
    for (const s of baselines) rows.push({ q, kind: "baseline", series: s.name, ms: p50(s, q) });
  }
  const workers = [...new Set(qservs.map(([, c]) => c.workers))].sort((a, b) => a - b);
  const series = [...workers.map(workersLabel), ...baselines.map((s) => s.name)];
  // One legend: colour and dash share the series field (solid: mini-qserv, dashed: baselines).
  const color = {
    field: "series",
    type: "nominal",
    title: null,
    scale: { domain: series },
    legend: { symbolType: "stroke", symbolStrokeWidth: 2 },
  } as const;
  const dash = {
    ...color,
    scale: { domain: series, range: series.map((_, i) => (i < workers.length ? [1, 0] : [6, 4])) },
  } as const;
  const configs = qservs.map(([, c]) => `${c.stripes}/${c.subStripes} ×${c.workers}`).join(", ");
  const stripes = [...new Set(qservs.map(([, c]) => c.stripes))].sort((a, b) => a - b);
  return {
    title: {
      text: "p50 latency vs num_stripes",
      subtitle: [
        `${r.objects.toLocaleString("en")} objects, ${r.date.slice(0, 10)}; dashed: single-node baselines`,
        `mini-qserv stripes/sub-stripes ×workers: ${configs}`,
      ],
    },
    data: { values: rows.filter((d) => Number.isFinite(d.ms)) },
    facet: { field: "q", type: "nominal", sort: queries, title: null },
    columns: 4,
    spec: {
      width: 210,
      height: 150,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'qserv'" }],
          mark: { type: "line", point: true },
          encoding: {
            x: {
              field: "x",
              type: "quantitative",
              title: "num_stripes",
              scale: { zero: false, padding: 12 },
              axis: { values: stripes, format: "d" },
            },
            y: { field: "ms", type: "quantitative", title: "p50 (ms, log scale)", scale: { type: "log" } },
            color,
            strokeDash: dash,
          },
        },
        {
          transform: [{ filter: "datum.kind === 'baseline'" }],
          mark: { type: "rule", strokeWidth: 1.5 },
          encoding: { y: { field: "ms", type: "quantitative" }, color, strokeDash: dash },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
    config,
  };
}

/** Speed-up by workers, one panel per stripes/sub-stripes run with several worker counts; null when there is none. */
function speedupSpec(r: Report, queries: string[], qservs: [SystemReport, QservConfig][]): TopLevelSpec | null {
  const groups = new Map<string, [SystemReport, QservConfig][]>();
  for (const sc of qservs) {
    const k = `${sc[1].stripes}/${sc[1].subStripes}`;
    groups.set(k, [...(groups.get(k) ?? []), sc]);
  }
  const rows: Record<string, unknown>[] = [];
  for (const [g, members] of groups) {
    if (new Set(members.map(([, c]) => c.workers)).size < 2) continue;
    const [base, bc] = members.reduce((a, b) => (b[1].workers < a[1].workers ? b : a));
    for (const [s, c] of members) {
      rows.push({ g, kind: "ideal", x: c.workers, y: c.workers / bc.workers });
      for (const q of queries) rows.push({ g, kind: "query", q, x: c.workers, y: p50(base, q) / p50(s, q) });
    }
  }
  if (rows.length === 0) return null;
  const xs = [...new Set(rows.map((d) => d.x as number))].sort((a, b) => a - b);
  const x = {
    field: "x",
    type: "quantitative",
    title: "workers",
    scale: { zero: false, padding: 12 },
    axis: { values: xs, format: "d" },
  } as const;
  const y = { field: "y", type: "quantitative", title: "speed-up (×)" } as const;
  return {
    title: {
      text: "Speed-up vs workers: p50(fewest workers) / p50(N workers)",
      subtitle: [
        `${r.objects.toLocaleString("en")} objects, ${r.date.slice(0, 10)}; one panel per stripes/sub-stripes`,
        "above 1× is faster; dashed grey: linear speed-up",
      ],
    },
    data: { values: rows.filter((d) => Number.isFinite(d.y)) },
    facet: { field: "g", type: "nominal", title: "stripes/sub-stripes" },
    spec: {
      width: 360,
      height: 260,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'ideal'" }],
          mark: { type: "line", color: "#999", strokeDash: [6, 4] },
          encoding: { x, y },
        },
        {
          transform: [{ filter: "datum.kind === 'query'" }],
          mark: { type: "line", point: true },
          encoding: { x, y, color: { field: "q", type: "nominal", title: "query", sort: queries } },
        },
      ],
    },
    config: { ...config, legend: { orient: "right" } },
  };
}

/** Writes `<outPrefix>-latency.png` and (when the report allows) `<outPrefix>-speedup.png`; notes say what was left out. */
export async function writePlots(r: Report, outPrefix: string): Promise<{ files: string[]; notes: string[] }> {
  const qservs = r.systems.flatMap((s): [SystemReport, QservConfig][] => {
    const c = s.dialect === "qserv" ? configOf(s) : null;
    return c ? [[s, c]] : [];
  });
  const queries = [...new Set(r.systems.flatMap((s) => Object.keys(s.queries)))];
  const files: string[] = [];
  const notes: string[] = [];
  if (qservs.length === 0) return { files, notes: ["No plots: the report has no mini-qserv configuration."] };
  const out = async (kind: string, spec: TopLevelSpec) => {
    writeFileSync(`${outPrefix}-${kind}.png`, await png(spec));
    files.push(`${outPrefix}-${kind}.png`);
  };
  await out("latency", latencySpec(r, queries, qservs));
  const speedup = speedupSpec(r, queries, qservs);
  if (speedup) await out("speedup", speedup);
  else
    notes.push("Speed-up vs workers not drawn: no stripes/sub-stripes configuration was run with two worker counts.");
  return { files, notes };
}

const HEADING = "## Plots";

/** The report's Markdown with a Plots section (images by relative path) at the end, replacing any earlier one. */
export function withPlots(md: string, plots: { files: string[]; notes: string[] }): string {
  const i = md.indexOf(`\n${HEADING}\n`);
  const body = (i < 0 ? md : md.slice(0, i + 1)).trimEnd();
  const images = plots.files.map((f) => `![${basename(f, ".png").replace(/.*-/, "")}](${basename(f)})`);
  return [body, "", HEADING, "", ...images.flatMap((m) => [m, ""]), ...plots.notes.map((n) => `- ${n}`), ""].join("\n");
}
