/**
 * The conformance suite end to end: Qserv's itest queries through a real cluster (3 workers and
 * a czar on loopback), every answer checked against the reference SQLite.
 */
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import { itestCases } from "../support/itest.js";
import { SKIP_ITEST } from "../support/paths.js";
import { runConformance } from "./runner.js";

describe("conformance with Qserv's itest suite", { skip: SKIP_ITEST }, () => {
  for (const via of ["http", "mysql"] as const) {
    test(`every query passes or is skipped with a reason (via ${via})`, { timeout: 30 * 60_000 }, async (t) => {
      await conform(t, via);
    });
  }
});

async function conform(t: TestContext, via: "http" | "mysql"): Promise<void> {
  {
    const s = await runConformance({ cases: itestCases(), workers: 3, via, log: (l) => t.diagnostic(l) });
    t.diagnostic(`${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
    for (const k of s.skips) t.diagnostic(`skipped ${k.case} ${k.file}: ${k.reason}`);
    const lines = s.failures.map((f) => `${f.case} ${f.file}: ${f.reason}`);
    assert.equal(s.failed, 0, `${s.failed} failures:\n${lines.join("\n")}`);
    assert.ok(s.passed > 0);
  }
}
