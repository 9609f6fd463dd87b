/**
 * The runner's plumbing (ingest order, HTTP, judging, tallies, timeouts) against a fake czar that
 * answers from its own SQLite; the real cluster is conformance.test.ts's business.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { queryFiles } from "../support/itest.js";
import { SKIP_ITEST } from "../support/paths.js";
import { startFakeCzar } from "./fakeCzar.js";
import { runConformance } from "./runner.js";

describe("the conformance runner against a fake czar", { skip: SKIP_ITEST }, () => {
  test("right answers and errors pass; queries on absent tables are skipped", async () => {
    const lines: string[] = [];
    const s = await runConformance({
      cases: ["case01", "case04"],
      start: () => startFakeCzar(),
      log: (l) => lines.push(l),
    });
    assert.deepEqual(s.failures, []);
    assert.equal(s.passed + s.skipped, queryFiles(["case01", "case04"]).length);
    assert.deepEqual(
      s.skips.map((k) => `${k.case} ${k.file}`),
      [
        "case04 0003_SourcesForGivenExposure.sql",
        "case04 0020_showColumnsFromDeepForcedSource",
        "case04 0030_largeResult.sql",
      ],
    );
    assert.ok(s.notes.some((n) => n.file === "1088_or_alt.sql" && /restated/.test(n.reason)));
    assert.ok(lines.some((l) => /^case01: ingested Source: 3339 rows/.test(l)));
  });

  test("an answer where Qserv errs, and a query that never returns, fail", async () => {
    const hung = "case01/queries/0001.1_fetchObjectById.sql";
    const s = await runConformance({
      cases: ["case01"],
      start: () => startFakeCzar({ answerUnsupported: true, hang: new Set([hung]) }),
      queryTimeoutMs: 300,
    });
    const unsupported = queryFiles(["case01"]).filter((q) => q.expect === "error").length;
    assert.equal(s.failed, unsupported + 1);
    assert.ok(s.failures.some((f) => f.file === "0001.1_fetchObjectById.sql" && f.reason === "timed out after 0.3 s"));
    assert.ok(s.failures.some((f) => /^unsupported_syntax\//.test(f.file) && /^expected an error/.test(f.reason)));
  });
});
