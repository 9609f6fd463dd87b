/**
 * The web console's weight and first render: headless Chromium loads the page from a czar with
 * the demo catalog (two workers) --runs times, each in a fresh browser context (cold cache).
 * Weight: bytes of the page's own files (HTML, script, style) and of the API answers it asks for
 * at start (/history, /chunks, the first status event not counted). First render: from navigation
 * start to the sky map drawing every chunk, median and worst.
 * `npm run bench:console -- --objects 50000 --runs 10`
 */
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { ensureChromium, startConsoleRig } from "../test/support/consoleRig.js";
import { makeTempDir } from "../test/support/fs.js";
import { quantile } from "./stats.js";

const { values } = parseArgs({
  options: { objects: { type: "string", default: "50000" }, runs: { type: "string", default: "10" } },
});
const why = ensureChromium();
if (why !== null) throw new Error(why);
const dir = makeTempDir();
const rig = await startConsoleRig(dir, { workers: 2, objects: Number(values.objects) });
const chunks = rig.czar.meta.chunks("demo").length;
const renders: number[] = [];
let assets = 0;
let api = 0;
try {
  for (let i = 0; i < Number(values.runs); i++) {
    const context = await rig.browser.newContext();
    const page = await context.newPage();
    const sizes = new Map<string, number>();
    page.on("response", (r) => {
      const path = new URL(r.url()).pathname;
      if (path === "/events") return;
      void r.body().then(
        (b) => sizes.set(path, b.length),
        () => {},
      );
    });
    await page.goto(`${rig.url}/#map`);
    await page.waitForFunction(`document.querySelectorAll("path.chunk").length === ${chunks}`, undefined, {
      timeout: 120_000,
    });
    renders.push(await page.evaluate<number>("performance.now()"));
    await page.waitForLoadState("networkidle").catch(() => {});
    assets = ["/", "/console/app.js", "/console/app.css"].reduce((a, p) => a + (sizes.get(p) ?? 0), 0);
    api = [...sizes].filter(([p]) => p === "/history" || p === "/chunks").reduce((a, [, n]) => a + n, 0);
    await context.close();
  }
} finally {
  await rig.stop();
  rmSync(dir, { recursive: true, force: true });
}
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
process.stdout.write(
  `console page: ${kib(assets)} of HTML, script and style (uncompressed); ${kib(api)} of API answers at start (${chunks} chunks)\n` +
    `first render (navigation to every chunk drawn), ${renders.length} cold loads: median ${quantile(renders, 0.5).toFixed(0)} ms, worst ${Math.max(...renders).toFixed(0)} ms\n`,
);
