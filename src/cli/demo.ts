import type { Command } from "commander";
import { loadDemo } from "../cluster/demo.js";
import { czarUrl, int } from "./options.js";

/** Loads the demo catalog into a running cluster (`mini-qserv up --demo` does the same). */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("Generate the demo catalog (database demo: Object, Source) and ingest it through the czar, once")
    .option("--czar <url>", "czar HTTP API (default $MINI_QSERV_CZAR or http://127.0.0.1:8080)")
    .option("--data-dir <dir>", "where the catalog files go (the czar must be able to read them)", ".mini-qserv/demo")
    .option("--objects <n>", "objects in the catalog", "50000")
    .action(async (o: { czar?: string; dataDir: string; objects: string }) => {
      const r = await loadDemo({
        czarUrl: czarUrl(o.czar),
        dataDir: o.dataDir,
        objects: int("--objects", o.objects) ?? 50_000,
        say: (line) => process.stdout.write(`${line}\n`),
      });
      if (r.loaded.length === 0) process.stdout.write("the demo catalog is loaded already\n");
    });
}
