import type { Command } from "commander";
import { loadDatabaseConfig, loadTableConfig, tableDialectOverrides } from "../common/ingestConfig.js";
import { totalBytes } from "../partitioner/inputFiles.js";
import { type PartitionResult, partition } from "../partitioner/partition.js";
import { terminalProgress } from "../partitioner/progress.js";

export function registerPartition(program: Command): void {
  program
    .command("partition")
    .description("Split CSV/TSV catalog files (plain or .gz) into Qserv chunks")
    .requiredOption("--database <file>", "Qserv ingest config of the database (database.json)")
    .requiredOption("--table <file>", "Qserv ingest config of the table (e.g. Object.json)")
    .requiredOption("--out <dir>", "output directory (replaced if it holds an earlier partition output)")
    .option(
      "--director <dir>",
      "partition output of the director table: places child rows that have no position by their director key",
    )
    .option("--director2 <dir>", "partition output of the second director (director_table2 of a match table)")
    .option("--rejects <file>", "write bad rows here with their reasons and carry on, instead of stopping at the first")
    .option(
      "--delimiter <char>",
      "field delimiter (default: the config's fields_terminated_by, else tab for .tsv, comma otherwise)",
    )
    .option("--quote <char>", "character enclosing fields (default: the config's fields_enclosed_by, else none)")
    .option("--escape <char>", 'escape character, "" for none (default: the config\'s fields_escaped_by, else \\)')
    .option("--null <token>", "text that stands for NULL (default: \\N)")
    .option("--quiet", "no progress bar")
    .argument("<files...>", "input files")
    .action(async (files: string[], o: Record<string, string | boolean | undefined>) => {
      const database = loadDatabaseConfig(o.database as string);
      const table = loadTableConfig(o.table as string);
      const result = await partition({
        database,
        table,
        files,
        outDir: o.out as string,
        // Flags given on the command line win over the table config's fields_* settings.
        dialect: tableDialectOverrides(table, {
          delimiter: o.delimiter as string | undefined,
          quote: o.quote as string | undefined,
          escape: o.escape as string | undefined,
          nullToken: o.null as string | undefined,
        }),
        ...(o.rejects ? { rejectsFile: o.rejects as string } : {}),
        ...(o.director ? { directorDir: o.director as string } : {}),
        ...(o.director2 ? { director2Dir: o.director2 as string } : {}),
        progress: terminalProgress(`partition ${table.table}`, totalBytes(files), !o.quiet && process.stderr.isTTY),
      });
      process.stdout.write(summary(result, o.out as string, o.rejects as string | undefined));
    });
}

function summary(r: PartitionResult, out: string, rejectsFile?: string): string {
  const t = r.info.totals;
  const secs = r.elapsedMs / 1000;
  const rate = secs > 0 ? Math.round(t.rows / secs) : t.rows;
  let s = `${r.info.table}: ${t.rows} rows in ${t.chunks} chunks, ${t.overlapRows} overlap rows -> ${out} (${secs.toFixed(2)} s, ${rate} rows/s)\n`;
  if (t.rejected > 0) s += `${t.rejected} rows rejected, see ${rejectsFile}\n`;
  return s;
}
