/**
 * `npm run screenshots`: the web console's sky map, workers view and a console result with its
 * sky plot and histogram, in headless Chromium against a real cluster on loopback (three workers,
 * the demo catalog), written as PNGs into docs/console/ (linked from the README).
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { chunksIn, drawnChunks, runInConsole } from "../../support/consolePage.js";
import { ensureChromium, startConsoleRig } from "../../support/consoleRig.js";
import { makeTempDir } from "../../support/fs.js";
import { ROOT } from "../../support/paths.js";

const OUT = join(ROOT, "docs", "console");

async function main(): Promise<void> {
  const why = ensureChromium();
  if (why !== null) throw new Error(why);
  mkdirSync(OUT, { recursive: true });
  const dir = makeTempDir();
  const rig = await startConsoleRig(dir, {
    workers: 3,
    objects: 20_000,
    czar: { replicas: 2 },
    viewport: { width: 1200, height: 760 },
  });
  try {
    const { page } = rig;
    await page.goto(`${rig.url}/#map`);
    const n = rig.czar.meta.chunks("demo").length;
    await drawnChunks(page, n);
    await page.waitForFunction(`document.querySelectorAll("path.chunk.ok").length === ${n}`);
    await page.selectOption("#map-colour", "rows");
    const chunk = page.locator("path.chunk").nth(Math.floor(n / 2));
    await chunk.hover({ force: true });
    await page.screenshot({ path: join(OUT, "map.png") });
    await page.goto(`${rig.url}/#workers`);
    await page.locator("#workers tr.worker").nth(2).waitFor();
    await page.screenshot({ path: join(OUT, "workers.png") });
    await page.goto(`${rig.url}/#console`);
    await runInConsole(page, "SELECT objectId, ra, decl FROM Object WHERE qserv_areaspec_box(0, -30, 90, 30)", "demo");
    await page.selectOption("#hist-col", { label: "decl" });
    await page.screenshot({ path: join(OUT, "console.png"), fullPage: true });
    if ((await chunksIn(page, "lost")) !== 0 || rig.problems.length > 0) throw new Error(rig.problems.join("\n"));
    process.stdout.write(`screenshots in ${OUT}: map.png, workers.png, console.png\n`);
  } finally {
    await rig.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
