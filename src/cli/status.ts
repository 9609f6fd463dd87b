import type { Command } from "commander";
import type { clusterStatus } from "../czar/clusterStatus.js";
import type { WatchRegistry } from "../watch/registry.js";
import { FILE_STATES } from "../watch/snapshot.js";
import { getJson } from "./httpClient.js";
import { czarUrl } from "./options.js";
import { formatReport } from "./replicate.js";

type Status = Awaited<ReturnType<typeof clusterStatus>> & {
  /** Watched directories (absent from a czar before the watch mode). */
  watch?: ReturnType<WatchRegistry["summary"]>;
};

/** Left-aligned columns, two spaces apart. */
function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
}

export function formatStatus(s: Status): string {
  const up = s.workers.filter((w) => w.up).length;
  const out = [`Workers: ${up} of ${s.workers.length} up`];
  out.push(
    ...columns([
      ["  ID", "ADDRESS", "STATE", "LAST SEEN", "CHUNKS", "BYTES", "QUERIES"],
      ...s.workers.map((w) => [
        `  ${w.id}`,
        w.address,
        w.up ? "up" : "DOWN",
        w.lastSeen ?? "never",
        String(w.chunks),
        String(w.bytes),
        `${w.queriesRunning} running, ${w.queriesQueued} queued`,
      ]),
    ]),
  );
  out.push("Databases:");
  for (const d of s.databases) {
    const hist = Object.entries(d.replicas.histogram)
      .map(([n, chunks]) => `${chunks} with ${n}`)
      .join(", ");
    out.push(
      `  ${d.database}: ${d.chunks} chunks, ${d.replicas.target} replicas wanted; live replicas: ${hist || "-"}`,
    );
    const under = d.replicas.underReplicated;
    if (under.length > 0) {
      const shown =
        under.length > 20 ? `${under.slice(0, 20).join(" ")} ... (${under.length} chunks)` : under.join(" ");
      out.push(`    under-replicated: ${shown}`);
    }
    if (d.replicatedTables !== undefined) {
      const r = d.replicatedTables;
      out.push(`    replicated tables on ${r.liveCopies} of ${r.liveWorkers} live workers`);
    }
    out.push(`    tables: ${d.tables.map((t) => `${t.name} (${t.kind}, ${t.rows} rows)`).join(", ")}`);
  }
  const r = s.repair;
  out.push(
    `Repair: ${r.passRunning ? "pass running" : "idle"}, ${r.copiesRunning} copies running; ` +
      `${r.totals.passes} passes, ${r.totals.copies} copies (${r.totals.bytes} bytes), ${r.totals.failures} failed so far`,
  );
  if (r.lastPass !== null)
    out.push(`  last pass at ${r.lastPass.startedAt}: ${formatReport(r.lastPass).trimEnd().split("\n").at(-1)}`);
  out.push(`Queries: ${s.queries.length} running`);
  for (const q of s.queries) {
    out.push(
      `  ${q.id}  ${(q.elapsedMs / 1000).toFixed(1)} s  ${q.chunksDone}/${q.chunksTotal} chunks  ${q.query.slice(0, 100)}`,
    );
  }
  if (s.watch !== undefined && s.watch.length > 0) {
    out.push(`Watched directories: ${s.watch.length} (mini-qserv ingest --watch; files: GET /watch)`);
    for (const w of s.watch) {
      const counts = FILE_STATES.filter((st) => w.counts[st] > 0).map((st) => `${w.counts[st]} ${st}`);
      out.push(`  ${w.dir}: ${counts.join(", ") || "no files yet"} (reported ${w.updatedAt})`);
    }
  }
  return `${out.join("\n")}\n`;
}

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description(
      "Show the cluster: workers up or down, chunks and their live replicas, repair, running queries, watched directories",
    )
    .option("--czar <url>", "czar HTTP API (default $MINI_QSERV_CZAR or http://127.0.0.1:8080)")
    .option("--json", "print the czar's status as JSON")
    .action(async (o: { czar?: string; json?: boolean }) => {
      const s = (await getJson(`${czarUrl(o.czar)}/status`)) as unknown as Status;
      process.stdout.write(o.json === true ? `${JSON.stringify(s)}\n` : formatStatus(s));
    });
}
