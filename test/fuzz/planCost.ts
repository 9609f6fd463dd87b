/**
 * `node dist/test/fuzz/planCost.js [--seed 1] [--n 3000] [--heavy 0.005]`: where the czar's
 * event loop would go in the fuzz's SQL mix. Starts the small cluster once, then parses (and
 * plans, against the czar's own metadata file) each seeded fuzz SQL text in this one thread,
 * timing each, and prints the slowest with their kind, length and whether the czar plans them
 * inline or in a planner thread (planOffLoop), and whether they are composite.
 * `--sql TEXT` times that text instead, `--n` times (run under --cpu-prof to see where it goes).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { prng } from "../../bench/generate.js";
import { isComposite } from "../../src/czar/compose/compose.js";
import { Metadata } from "../../src/czar/metadata.js";
import { planSelect } from "../../src/czar/plan/planner.js";
import { planOffLoop } from "../../src/czar/plan/planPool.js";
import { parseStatement } from "../../src/czar/sql/parser.js";
import { makeTempDir } from "../support/fs.js";
import { startSmallCluster } from "../support/smallCluster.js";
import { sqlCase } from "./inputs.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    n: { type: "string", default: "3000" },
    heavy: { type: "string", default: "0.005" },
    sql: { type: "string" },
  },
});
const dir = makeTempDir("mq-plancost-");
const c = await startSmallCluster(dir);
try {
  const meta = Metadata.openReader(join(dir, "czar", "czar.sqlite"));
  const r = prng(Number(values.seed) * 1000 + 1);
  const out: Array<{ ms: number; kind: string; chars: number; where: string; what: string; sql: string }> = [];
  for (let i = 0; i < Number(values.n); i++) {
    const { kind, sql } =
      values.sql === undefined ? sqlCase(r, Number(values.heavy)) : { kind: "given", sql: values.sql };
    const t = performance.now();
    let what = "error";
    try {
      const stmt = parseStatement(sql, "mysql");
      what = stmt.kind;
      if (stmt.kind === "select" || stmt.kind === "union") {
        if (isComposite(stmt)) what = "composite";
        else if (stmt.kind === "select" && stmt.from.length > 0) {
          meta.reading(() => planSelect(stmt, "qcase01", meta));
          what = "planned";
        }
      }
    } catch {}
    const ms = performance.now() - t;
    out.push({ ms, kind, chars: sql.length, where: planOffLoop(sql) ? "thread" : "inline", what, sql });
  }
  out.sort((a, b) => b.ms - a.ms);
  for (const x of out.slice(0, 25)) {
    const shown = x.sql.length > 120 ? `${x.sql.slice(0, 90)} ... ${x.sql.slice(-25)}` : x.sql;
    process.stdout.write(
      `${x.ms.toFixed(1).padStart(8)} ms ${x.kind.padEnd(8)} ${String(x.chars).padStart(8)} ${x.where.padEnd(6)} ${x.what.padEnd(9)} ${JSON.stringify(shown)}\n`,
    );
  }
  const inline = out.filter((x) => x.where === "inline");
  process.stdout.write(
    `inline: ${inline.length} texts, ${inline.filter((x) => x.ms > 20).length} over 20 ms, max ${inline[0]?.ms.toFixed(1)} ms\n`,
  );
  meta.close();
} finally {
  await c.stop();
}
