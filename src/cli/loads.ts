import type { Command } from "commander";
import type { RemovalResult } from "../czar/dataAdmin.js";
import type { LoadInfo } from "../czar/metadata.js";
import { quoteIdent } from "../czar/sql/printer.js";
import { deleteJson, getJson, postJson } from "./httpClient.js";
import { czarUrl } from "./options.js";

const CZAR_OPTION = "czar HTTP API (default $MINI_QSERV_CZAR or http://127.0.0.1:8080)";

/** One line per load: id, table, rows, time, state, files. */
export function formatLoads(loads: readonly LoadInfo[]): string {
  const head = ["LOAD ID", "TABLE", "ROWS", "LOADED AT", "STATE", "FILES"];
  const rows = loads.map((l) => [
    l.loadId,
    `${l.database}.${l.table}`,
    String(l.rows),
    l.loadedAt ?? "-",
    l.state,
    l.files.join(" ") || "-",
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(width[i] as number)))
      .join("  ")
      .trimEnd();
  return `${[head, ...rows].map(line).join("\n")}\n`;
}

function pendingNote(r: RemovalResult): string {
  return r.pending.length === 0 ? "" : `; workers down, done when they are back: ${r.pending.join(", ")}`;
}

export function registerLoads(program: Command): void {
  program
    .command("loads")
    .description("List the recorded table loads (load id, table, rows, time, state, input files)")
    .option("--czar <url>", CZAR_OPTION)
    .option("--database <db>", "only this database's loads")
    .option("--table <t>", "only this table's loads")
    .option("--json", "print them as JSON")
    .addHelpText("after", "\nExample:\n  mini-qserv loads --database demo --table Object")
    .action(async (o: { czar?: string; database?: string; table?: string; json?: boolean }) => {
      const q = new URLSearchParams();
      if (o.database !== undefined) q.set("database", o.database);
      if (o.table !== undefined) q.set("table", o.table);
      const r = (await getJson(`${czarUrl(o.czar)}/loads${q.size > 0 ? `?${q}` : ""}`)) as { loads: LoadInfo[] };
      process.stdout.write(o.json === true ? `${JSON.stringify(r.loads)}\n` : formatLoads(r.loads));
    });

  program
    .command("unload")
    .description(
      "Take one load's rows out of its table everywhere (all or nothing); its files can then be loaded again",
    )
    .argument("<loadId>", "the load (see mini-qserv loads)")
    .option("--czar <url>", CZAR_OPTION)
    .addHelpText("after", "\nExample:\n  mini-qserv unload demo.Object.3f2a9c0d1e4b5a67")
    .action(async (loadId: string, o: { czar?: string }) => {
      const r = (await deleteJson(
        `${czarUrl(o.czar)}/ingest/${encodeURIComponent(loadId)}`,
      )) as unknown as RemovalResult;
      process.stdout.write(`unloaded ${loadId}: ${r.rows} rows${pendingNote(r)}\n`);
    });

  program
    .command("drop")
    .description("Drop a table (DROP TABLE db.table) or, without a table, a whole database (DROP DATABASE db)")
    .argument("<database>")
    .argument("[table]")
    .option("--czar <url>", CZAR_OPTION)
    .option("--if-exists", "no error when it does not exist")
    .addHelpText("after", "\nExamples:\n  mini-qserv drop demo Source\n  mini-qserv drop demo --if-exists")
    .action(async (db: string, table: string | undefined, o: { czar?: string; ifExists?: boolean }) => {
      const ifExists = o.ifExists === true ? "IF EXISTS " : "";
      const what =
        table === undefined
          ? `DATABASE ${ifExists}${quoteIdent(db)}`
          : `TABLE ${ifExists}${quoteIdent(db)}.${quoteIdent(table)}`;
      await postJson(`${czarUrl(o.czar)}/query`, { query: `DROP ${what}`, database: "" });
      process.stdout.write(`dropped ${table === undefined ? `database ${db}` : `${db}.${table}`}\n`);
    });
}
