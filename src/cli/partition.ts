import type { Command } from "commander";
import { loadDatabaseConfig, loadTableConfig, tableDialectOverrides } from "../common/ingestConfig.js";
import { totalBytes } from "../partitioner/inputFiles.js";
import { type PartitionResult, partition } from "../partitioner/partition.js";
import { terminalProgress } from "../partitioner/progress.js";
import { dialectFlags, type InputOptions, printNotices, readingFlags, withInputOptions } from "./options.js";

const EXAMPLE = `
Example (Qserv's case01 catalog; a CSV file with a header line would add --header):
  D=../shared/qserv-itest/case01/data
  mini-qserv partition --database $D/ingest/database.json --table $D/ingest/Object.json --out /tmp/Object $D/Object.tsv.gz
`;

export function registerPartition(program: Command): void {
  withInputOptions(
    program
      .command("partition")
      .description("Split catalog files (CSV/TSV, plain or .gz; Parquet; FITS binary tables) into Qserv chunks")
      .requiredOption("--database <file>", "Qserv ingest config of the database (database.json)")
      .requiredOption("--table <file>", "Qserv ingest config of the table (e.g. Object.json)")
      .requiredOption("--out <dir>", "output directory (replaced if it holds an earlier partition output)")
      .option(
        "--director <dir>",
        "partition output of the director table: places child rows that have no position by their director key",
      )
      .option("--director2 <dir>", "partition output of the second director (director_table2 of a match table)"),
  )
    .option("--quiet", "no progress bar")
    .argument("<files...>", "input files")
    .addHelpText("after", EXAMPLE)
    .action(async (files: string[], o: InputOptions & Record<string, string | boolean | undefined>) => {
      const database = loadDatabaseConfig(o.database as string);
      const notices: string[] = [];
      const table = loadTableConfig(o.table as string, notices);
      printNotices(notices);
      const result = await partition({
        database,
        table,
        files,
        outDir: o.out as string,
        // Flags given on the command line win over the table config's fields_* settings.
        dialect: tableDialectOverrides(table, dialectFlags(o)),
        header: o.header === true,
        columnsFromHeader: o.columnsFromHeader === true,
        ...readingFlags(o),
        ...(o.rejects ? { rejectsFile: o.rejects } : {}),
        ...(o.director ? { directorDir: o.director as string } : {}),
        ...(o.director2 ? { director2Dir: o.director2 as string } : {}),
        progress: terminalProgress(`partition ${table.table}`, totalBytes(files), !o.quiet && process.stderr.isTTY),
      });
      process.stdout.write(summary(result, o.out as string, o.rejects));
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
