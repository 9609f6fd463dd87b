/** bench/plot.ts: PNG plots of a synthetic report (no network, no system fonts). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { withPlots, writePlots } from "../../bench/plot.js";
import type { Report, SystemReport } from "../../bench/report.js";
import { tempDir } from "../support/fs.js";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function system(name: string, dialect: SystemReport["dialect"], cone: number, scan: number): SystemReport {
  const q = (ms: number) => ({ ms: [ms, ms * 1.1, ms * 0.9], rows: [1, 1, 1], chunks: [], mismatches: [] });
  return { name, dialect, ingestSeconds: 1, detail: "", queries: { cone: q(cone), scan: q(scan) }, concurrent: null };
}

/** Two stripe counts, 1 and 2 workers each; one configuration given as `config`, the others only by name. */
function report(cone18x2 = 8): Report {
  const systems = [
    system("SQLite (one file)", "sqlite", 0.5, 100),
    system("PostgreSQL 15 + q3c", "pg", 2, 150),
    system("mini-qserv 18/6 ×1", "qserv", 10, 900),
    system("mini-qserv 18/6 ×2", "qserv", cone18x2, 500),
    system("mini-qserv 42/8 ×1", "qserv", 14, 2000),
    { ...system("mini-qserv 42/8 ×2", "qserv", 12, 1200), config: { stripes: 42, subStripes: 8, workers: 2 } },
  ];
  return { date: "2026-01-01T00:00:00Z", objects: 1000, sources: 4000, quick: true, machine: {}, notes: [], systems };
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(bytes: Buffer): [number, number] {
  assert.deepEqual(bytes.subarray(0, 8), PNG_SIGNATURE);
  assert.equal(bytes.toString("latin1", 12, 16), "IHDR");
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

describe("bench plots", () => {
  const dir = tempDir("mq-plot-");

  test("latency and speed-up PNGs, which depend on the data", async () => {
    const a = await writePlots(report(), join(dir, "a"));
    assert.deepEqual(a.files, [join(dir, "a-latency.png"), join(dir, "a-speedup.png")]);
    assert.deepEqual(a.notes, []);
    const [latency, speedup] = a.files.map((f) => readFileSync(f));
    for (const png of [latency, speedup]) {
      const [w, h] = pngSize(png as Buffer);
      assert.ok(w > 100 && h > 100, `${w}×${h}`);
    }
    assert.notDeepEqual(latency, speedup);

    const same = await writePlots(report(), join(dir, "b"));
    assert.deepEqual(readFileSync(same.files[0] as string), latency, "rendering is deterministic");
    const changed = await writePlots(report(4), join(dir, "c"));
    assert.notDeepEqual(readFileSync(changed.files[0] as string), latency);
    assert.notDeepEqual(readFileSync(changed.files[1] as string), speedup);
  });

  test("no speed-up plot without two worker counts at the same stripes", async () => {
    const r = report();
    r.systems = r.systems.filter((s) => !s.name.endsWith("×1"));
    const out = await writePlots(r, join(dir, "d"));
    assert.deepEqual(out.files, [join(dir, "d-latency.png")]);
    assert.match(out.notes[0] ?? "", /Speed-up vs workers not drawn/);
  });

  test("withPlots links the images by relative path and replaces an earlier Plots section", () => {
    const plots = { files: [join(dir, "x-latency.png")], notes: ["a note"] };
    const md = withPlots("# Report\n\ntext\n", plots);
    assert.equal(md, "# Report\n\ntext\n\n## Plots\n\n![latency](x-latency.png)\n\n- a note\n");
    assert.equal(withPlots(md, plots), md);
  });
});
