import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { postJson } from "../src/cli/httpClient.js";
import { loadDemo } from "../src/cluster/demo.js";
import { up } from "../src/cluster/up.js";
import { quantile } from "./stats.js";

/**
 * What TAP costs over the JSON API: one cone search through `/tap/sync` (ADQL, VOTable BINARY2
 * and TABLEDATA) and through `POST /query` (SQL, JSON), alternated --runs times on one cluster
 * with the demo catalog; medians side by side.
 * `npm run bench:tap -- --objects 50000 --runs 20 --radius 10`
 */
const { values } = parseArgs({
  options: {
    objects: { type: "string", default: "50000" },
    runs: { type: "string", default: "20" },
    radius: { type: "string", default: "10" },
    dir: { type: "string", default: "bench/out/tap" },
  },
});
const dir = values.dir as string;
const r = Number(values.radius);
rmSync(dir, { recursive: true, force: true });
const cluster = await up({ dataDir: dir, workers: 2, replicas: 1, httpPort: 0, write: () => {} });
const cols = "objectId, ra, decl, uFlux, gFlux, rFlux, flags";
const sql = `SELECT ${cols} FROM Object WHERE qserv_areaspec_circle(30, 10, ${r})`;
const adql = `SELECT ${cols} FROM demo.Object WHERE CONTAINS(POINT('ICRS', ra, decl), CIRCLE('ICRS', 30, 10, ${r})) = 1`;
const paths: Record<string, () => Promise<number>> = {
  "POST /query (JSON)": async () =>
    ((await postJson(`${cluster.url}/query`, { query: sql, database: "demo" })).rows as unknown[]).length,
  "/tap/sync BINARY2": async () => tap("votable"),
  "/tap/sync TABLEDATA": async () => tap("votable/td"),
};
async function tap(format: string): Promise<number> {
  const body = new URLSearchParams({ LANG: "ADQL", QUERY: adql, RESPONSEFORMAT: format });
  const res = await fetch(`${cluster.url}/tap/sync`, { method: "POST", body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(text);
  return text.length;
}
try {
  await loadDemo({ czarUrl: cluster.url, dataDir: join(dir, "demo"), objects: Number(values.objects) });
  const times = new Map<string, number[]>(Object.keys(paths).map((k) => [k, []]));
  for (const f of Object.values(paths)) await f(); // warm-up
  for (let i = 0; i < Number(values.runs); i++) {
    for (const [name, f] of Object.entries(paths)) {
      const t0 = performance.now();
      await f();
      times.get(name)!.push(performance.now() - t0);
    }
  }
  const rows = await paths["POST /query (JSON)"]!();
  const base = quantile(times.get("POST /query (JSON)")!, 0.5);
  console.log(
    `cone search radius ${r}°, ${rows} rows, ${values.objects} objects, ${values.runs} runs each (median ms):`,
  );
  for (const [name, ts] of times) {
    const m = quantile(ts, 0.5);
    console.log(`  ${name.padEnd(22)} ${m.toFixed(1).padStart(8)} ms  ${(m / base).toFixed(2)}×`);
  }
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
