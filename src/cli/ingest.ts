import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { QservError } from "../common/errors.js";
import { postJson } from "./httpClient.js";
import { czarUrl } from "./options.js";

function json(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new QservError("BAD_CONFIG", `${path}: ${(e as Error).message}`);
  }
}

export function registerIngest(program: Command): void {
  program
    .command("ingest")
    .description("Load catalog files into a table through the czar (creates the database and table if new)")
    .requiredOption("--database <file>", "Qserv database.json")
    .requiredOption("--table <file>", "Qserv table config (JSON)")
    .option("--czar <url>", "czar HTTP API (default $MINI_QSERV_CZAR or http://127.0.0.1:8080)")
    .argument("<files...>", "CSV/TSV files (plain or .gz), readable by the czar")
    .action(async (files: string[], o: { database: string; table: string; czar?: string }) => {
      const r = await postJson(`${czarUrl(o.czar)}/ingest`, {
        database: json(o.database),
        table: json(o.table),
        files: files.map((f) => resolve(f)),
      });
      process.stdout.write(
        `${r.table}: ${r.rows} rows in ${r.chunks} chunks (${((r.elapsedMs as number) / 1000).toFixed(1)} s)\n`,
      );
    });
}
