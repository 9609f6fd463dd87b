import type { Command } from "commander";
import type { GcReport } from "../czar/gc.js";
import { postJson } from "./httpClient.js";
import { czarUrl } from "./options.js";

/** The report of a gc pass, one line per removal and a summary. */
export function formatGcReport(r: GcReport): string {
  const at = (c: { worker: string; database: string; chunkId: number }) =>
    `chunk ${c.chunkId} of ${c.database} on ${c.worker}`;
  const stage = (s: { worker: string; database: string; table: string; stage: string; chunks: number }) =>
    `${s.database}.${s.table} stage ${s.stage} on ${s.worker} (${s.chunks} files)`;
  const lines = [
    ...r.stagesDropped.map((s) => `stage      ${stage(s)}: dropped`),
    ...r.unpublished.map((s) => `unrecorded ${stage(s)}: publish taken back`),
    ...r.scratch.map((d) => `scratch    ${d}: removed`),
    ...r.overReplicated.map((c) => `beyond R   ${at(c)}: placement removed`),
    ...r.unplaced.map((c) => `unplaced   ${at(c)}: dropped`),
    ...r.unknownTables.map((c) => `unknown    ${c.database}.${c.table} in ${at(c)}: dropped`),
    ...r.failed.map((f) => `FAILED     ${f.worker}: ${f.error}`),
  ];
  lines.push(
    `${r.stagesDropped.length} stages, ${r.unpublished.length} unrecorded publishes, ${r.scratch.length} scratch dirs, ` +
      `${r.overReplicated.length} replicas beyond R, ${r.unplaced.length} unplaced chunk files, ` +
      `${r.unknownTables.length} unknown tables; ` +
      `${r.failed.length} failed in ${Math.round(r.elapsedMs)} ms`,
  );
  return `${lines.join("\n")}\n`;
}

export function registerGc(program: Command): void {
  program
    .command("gc")
    .description(
      "Run one garbage collection pass on the czar: stale stages, unplaced and surplus chunk copies, scratch",
    )
    .option("--czar <url>", "czar HTTP API (default $MINI_QSERV_CZAR or http://127.0.0.1:8080)")
    .option("--json", "print the pass's report as JSON")
    .action(async (o: { czar?: string; json?: boolean }) => {
      const r = (await postJson(`${czarUrl(o.czar)}/gc`, {})) as unknown as GcReport;
      process.stdout.write(o.json === true ? `${JSON.stringify(r)}\n` : formatGcReport(r));
      if (r.failed.length > 0) process.exitCode = 1;
    });
}
