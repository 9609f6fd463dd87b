import type { Command } from "commander";
import type { RepairReport } from "../czar/replication.js";
import { postJson } from "./httpClient.js";
import { czarUrl } from "./options.js";

const chunkName = (c: { database: string; chunkId: number }) =>
  c.chunkId < 0 ? `replicated tables of ${c.database}` : `chunk ${c.chunkId} of ${c.database}`;

/** The report of a repair pass, one line per action and a summary. */
export function formatReport(r: RepairReport): string {
  const lines = [
    ...r.dropped.map((d) => `dropped  ${chunkName(d)} from ${d.worker} (it does not hold all of it)`),
    ...r.adopted.map((a) => `adopted  ${chunkName(a)} on ${a.worker} (already held)`),
    ...r.copied.map((c) => `copied   ${chunkName(c)}: ${c.from} → ${c.to} (${c.bytes} bytes, ${c.ms} ms)`),
    ...r.failed.map((f) => `FAILED   ${chunkName(f)}: ${f.from} → ${f.to}: ${f.error}`),
    ...r.unavailable.map((u) => `LOST     ${chunkName(u)}: no live worker holds it`),
  ];
  const bytes = r.copied.reduce((n, c) => n + c.bytes, 0);
  const down = r.workersDown.length === 0 ? "" : `; workers down: ${r.workersDown.join(", ")}`;
  lines.push(
    `${r.copied.length} copied (${bytes} bytes), ${r.adopted.length} adopted, ${r.dropped.length} dropped, ` +
      `${r.failed.length} failed, ${r.unavailable.length} lost in ${Math.round(r.elapsedMs)} ms${down}`,
  );
  return `${lines.join("\n")}\n`;
}

export function registerReplicate(program: Command): void {
  program
    .command("replicate")
    .description("Run one replica repair pass on the czar: every chunk back to its replica count")
    .option("--czar <url>", "czar HTTP API (default $MINI_QSERV_CZAR or http://127.0.0.1:8080)")
    .option("--json", "print the pass's report as JSON")
    .action(async (o: { czar?: string; json?: boolean }) => {
      const r = (await postJson(`${czarUrl(o.czar)}/replicate`, {})) as unknown as RepairReport;
      process.stdout.write(o.json === true ? `${JSON.stringify(r)}\n` : formatReport(r));
      // Not every chunk could be brought back: exit 1.
      if (r.failed.length > 0 || r.unavailable.length > 0) process.exitCode = 1;
    });
}
