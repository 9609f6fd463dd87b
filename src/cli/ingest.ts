import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { QservError } from "../common/errors.js";
import { postNdjson, postUpload } from "./httpClient.js";
import { ingestBar } from "./ingestProgress.js";
import { czarUrl, type InputOptions, ingestInputFields, printNotices, withInputOptions } from "./options.js";
import { ingestWatch, type WatchFlags, withWatchOptions } from "./watch.js";

const EXAMPLE = `
Example (Qserv's case01 catalog, against \`mini-qserv up\`; a CSV file with a header line would add --header):
  D=../shared/qserv-itest/case01/data
  mini-qserv ingest --database $D/ingest/database.json --table $D/ingest/Object.json $D/Object.tsv.gz
`;

function json(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new QservError("BAD_CONFIG", `${path}: ${(e as Error).message}`);
  }
}

export function registerIngest(program: Command): void {
  const cmd = withInputOptions(
    program
      .command("ingest")
      .description("Load catalog files into a table through the czar (creates the database and table if new)")
      .option("--database <file>", "Qserv database.json")
      .option("--table <file>", "Qserv table config (JSON)")
      .option("--czar <url>", "czar HTTP API (default $MINI_QSERV_CZAR or http://127.0.0.1:8080)")
      .option("--by-path", "send the files' paths, not their bytes (the czar must have them under an --ingest-root)")
      .option("--watch <dir>", "load each new complete file of DIR as it comes, once (see README: watch mode)"),
  )
    .argument(
      "[files...]",
      "CSV/TSV (plain or .gz), Parquet or FITS (.fits, .fits.gz) files; their bytes are uploaded to the czar",
    )
    .addHelpText("after", EXAMPLE)
    .action(
      async (
        files: string[],
        o: InputOptions &
          WatchFlags & { database?: string; table?: string; czar?: string; byPath?: boolean; watch?: string },
      ) => {
        if (o.watch !== undefined) return ingestWatch(o.watch, files, o);
        if (o.database === undefined || o.table === undefined || files.length === 0) {
          throw new QservError("BAD_ARGUMENT", "ingest takes --database, --table and files (or --watch DIR)");
        }
        const table = json(o.table) as Record<string, unknown>;
        const bar = ingestBar(String(table.table ?? ""));
        // Ctrl-C closes the request: the czar rolls back everything the load wrote.
        const interrupt = new AbortController();
        const onSigint = () => interrupt.abort();
        process.once("SIGINT", onSigint);
        let r: Record<string, unknown>;
        try {
          const url = `${czarUrl(o.czar)}/ingest`;
          const request = {
            database: json(o.database),
            table,
            ...ingestInputFields(o),
            ...(o.rejects ? { rejects: resolve(o.rejects) } : {}),
          };
          r =
            o.byPath === true
              ? await postNdjson(
                  url,
                  { ...request, files: files.map((f) => resolve(f)) },
                  (p) => bar.update(p),
                  interrupt.signal,
                )
              : await postUpload(url, request, files, (p) => bar.update(p), interrupt.signal);
        } catch (e) {
          if (interrupt.signal.aborted) {
            throw new QservError("CANCELLED", "interrupted: the czar rolls back everything this load wrote");
          }
          throw e;
        } finally {
          bar.stop();
          process.off("SIGINT", onSigint);
        }
        printNotices((r.notices as string[] | undefined) ?? []);
        const s = ((r.elapsedMs as number) / 1000).toFixed(1);
        process.stdout.write(
          r.duplicate === true
            ? `${r.table}: already loaded from this input (${r.rows} rows); nothing done\n`
            : `${r.table}: ${r.rows} rows loaded, ${r.tableRows} in the table, ${r.chunks} chunks (${s} s)\n`,
        );
        if ((r.rejected as number) > 0) process.stdout.write(`${r.rejected} rows rejected, see ${o.rejects}\n`);
      },
    );
  withWatchOptions(cmd, "");
}
