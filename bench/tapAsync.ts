/**
 * An async TAP job's result streamed to disk while the czar's memory stays flat: a czar and 2
 * workers (`up()`), the demo catalog of --objects objects (4 sources each: 1M Source rows for
 * 250,000), then one async job per --rows size (`SELECT ... FROM demo.Source` with MAXREC), run
 * to COMPLETED and its result downloaded. Per job: seconds to run, result bytes, the czar's RSS
 * before, its peak (VmHWM, reset before the job; also sampled) and after.
 * `npm run bench:tap-async -- --objects 250000 --rows 10000,100000,1000000,1000000` (1M twice:
 * the second shows whether the first left the czar bigger); `--heap-mb 64` starts the nodes with
 * that V8 heap limit.
 */
import { appendFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadDemo } from "../src/cluster/demo.js";
import { up } from "../src/cluster/up.js";
import { procStatus, resetPeak } from "../test/support/procStatus.js";

const { values } = parseArgs({
  options: {
    objects: { type: "string", default: "250000" },
    rows: { type: "string", default: "10000,100000,1000000,1000000" },
    format: { type: "string", default: "votable" },
    /** Each node's V8 old-space limit (MiB; 0: Node's default): a job that completes under a small one holds no result in memory. */
    "heap-mb": { type: "string", default: "0" },
    dir: { type: "string", default: "bench/out/tap-async" },
  },
});
const dir = values.dir as string;
rmSync(join(dir, "data"), { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

if (values["heap-mb"] !== "0") process.env.NODE_OPTIONS = `--max-old-space-size=${values["heap-mb"]}`;
const cluster = await up({
  dataDir: join(dir, "data"),
  workers: 2,
  replicas: 1,
  httpPort: 0,
  write: (text) => appendFileSync(join(dir, "cluster.log"), text),
});
const czar = cluster.node("czar").proc.pid as number;
const tap = `${cluster.url}/tap`;

/** The job's phase once it left QUEUED/EXECUTING (WAIT blocks while it is in them). */
async function finished(job: string): Promise<string> {
  for (;;) {
    const phase = (await (await fetch(`${job}/phase`)).text()).trim();
    if (phase !== "QUEUED" && phase !== "EXECUTING" && phase !== "PENDING") return phase;
    await (await fetch(`${job}?WAIT=60`)).text();
  }
}

try {
  const t0 = performance.now();
  await loadDemo({ czarUrl: cluster.url, dataDir: join(dir, "demo"), objects: Number(values.objects) });
  console.log(`demo catalog of ${values.objects} objects loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  console.log("rows       run s   fetch s  result     czar RSS before  peak (HWM)  peak (sampled)  after");
  for (const n of (values.rows as string).split(",").map(Number)) {
    const before = procStatus(czar, "VmRSS");
    resetPeak(czar);
    let sampled = before;
    const sampler = setInterval(() => {
      sampled = Math.max(sampled, procStatus(czar, "VmRSS"));
    }, 100);
    const start = performance.now();
    const body = new URLSearchParams({
      LANG: "ADQL",
      QUERY: "SELECT sourceId, objectId, ra, decl, psfFlux, psfFluxErr FROM demo.Source",
      MAXREC: String(n),
      RESPONSEFORMAT: values.format as string,
      PHASE: "RUN",
    });
    const created = await fetch(`${tap}/async`, { method: "POST", body, redirect: "manual" });
    const job = new URL(created.headers.get("location") ?? "", tap).href;
    const phase = await finished(job);
    const ran = performance.now();
    if (phase !== "COMPLETED") throw new Error(`job ${job}: ${phase}: ${await (await fetch(`${job}/error`)).text()}`);
    // Downloaded as a stream, counted, not kept.
    const res = await fetch(`${job}/results/result`);
    let bytes = 0;
    for await (const chunk of res.body ?? []) bytes += (chunk as Uint8Array).length;
    clearInterval(sampler);
    const peak = procStatus(czar, "VmHWM");
    const after = procStatus(czar, "VmRSS");
    const secs = (a: number, b: number) => ((b - a) / 1000).toFixed(1).padStart(7);
    console.log(
      `${String(n).padEnd(10)} ${secs(start, ran)} ${secs(ran, performance.now())}  ${mib(bytes).padEnd(10)} ${mib(before).padStart(15)}  ${mib(peak).padStart(10)}  ${mib(sampled).padStart(14)}  ${mib(after)}`,
    );
    await fetch(job, { method: "DELETE", redirect: "manual" });
  }
} finally {
  await cluster.stop();
}
