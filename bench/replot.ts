/**
 * `npm run bench:plot -- bench/results/<date>-<size>.json`: redraws a saved report's PNG plots next to it
 * and the image links at the end of its .md.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { withPlots, writePlots } from "./plot.js";
import type { Report } from "./report.js";

const file = process.argv[2];
if (!file?.endsWith(".json")) {
  process.stderr.write("usage: npm run bench:plot -- bench/results/<date>-<size>.json\n");
  process.exit(2);
}
const base = file.slice(0, -".json".length);
const plots = await writePlots(JSON.parse(readFileSync(file, "utf8")) as Report, base);
if (existsSync(`${base}.md`)) writeFileSync(`${base}.md`, withPlots(readFileSync(`${base}.md`, "utf8"), plots));
for (const line of [...plots.files.map((f) => `wrote ${f}`), ...plots.notes]) process.stdout.write(`${line}\n`);
