import type { Command } from "commander";
import { describeFile } from "../partitioner/describe.js";
import { int, printNotices } from "./options.js";

const EXAMPLE = `
Example (a Parquet catalog as a director table; edit the JSON, then ingest the file with it):
  mini-qserv describe objects.parquet --database sky --director-key objectId --ra ra --dec dec > Object.json
`;

export function registerDescribe(program: Command): void {
  program
    .command("describe")
    .description(
      "Print a Qserv ingest table config (JSON) inferred from a Parquet, FITS or CSV/TSV file, ready to edit",
    )
    .argument("<file>", "Parquet, FITS (.fits, .fits.gz) or CSV/TSV file with a header line")
    .option("--database <name>", "the database the table belongs to (default: catalog)")
    .option("--table <name>", "the table's name (default: the file's name)")
    .option("--director-key <col>", "make it a director table with this key (needs --ra and --dec)")
    .option("--ra <col>", "the longitude column of a director table")
    .option("--dec <col>", "the latitude column of a director table")
    .option(
      "--format <name>",
      "input format: csv, tsv, parquet or fits (default: by the file's name, else its first bytes)",
    )
    .option("--sample <rows>", "CSV/TSV: rows sampled to infer the types (default 1000)")
    .addHelpText("after", EXAMPLE)
    .action(async (file: string, o: Record<string, string | undefined>) => {
      const sample = int("--sample", o.sample);
      const { config, notices } = await describeFile(file, {
        ...(o.database ? { database: o.database } : {}),
        ...(o.table ? { table: o.table } : {}),
        ...(o.directorKey ? { directorKey: o.directorKey } : {}),
        ...(o.ra ? { ra: o.ra } : {}),
        ...(o.dec ? { dec: o.dec } : {}),
        ...(o.format ? { format: o.format } : {}),
        ...(sample === undefined ? {} : { sample }),
      });
      printNotices(notices);
      process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    });
}
