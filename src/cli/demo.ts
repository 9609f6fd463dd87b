import { join } from "node:path";
import type { Command } from "commander";
import { generateCatalog } from "../../bench/generate.js";
import { loadDatabaseConfig, loadTableConfig } from "../common/ingestConfig.js";
import { partition } from "../partitioner/partition.js";
import { terminalProgress } from "../partitioner/progress.js";
import { loadDemo } from "./demoLoad.js";
import { czarUrl } from "./options.js";
import { summary } from "./partition.js";

/** Until the cluster exists, the demo generates a small sample catalog and partitions it. */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("Generate a small sample catalog (Object + Source) and partition it as Qserv would")
    .option("--data-dir <dir>", "where the sample and its chunks go", ".mini-qserv/demo")
    .option("--objects <n>", "objects in the sample", "20000")
    .option("--czar <url>", "ingest the sample through this czar (skipped if database demo is loaded)")
    .action(async (o: { dataDir: string; objects: string; czar?: string }) => {
      if (o.czar !== undefined) {
        await loadDemo(czarUrl(o.czar), o.dataDir, Number(o.objects));
        return;
      }
      const cat = await generateCatalog({
        outDir: join(o.dataDir, "catalog"),
        objects: Number(o.objects),
        sourcesPerObject: 4,
      });
      process.stdout.write(
        `sample catalog: ${cat.objects} objects, ${cat.sources} sources in ${join(o.dataDir, "catalog")}\n`,
      );
      const database = loadDatabaseConfig(cat.databaseJson);
      const objectOut = join(o.dataDir, "chunks", "Object");
      const objects = await partition({
        database,
        table: loadTableConfig(cat.objectJson),
        files: [cat.objectCsv],
        outDir: objectOut,
        progress: terminalProgress("partition Object", 1),
      });
      process.stdout.write(summary(objects, objectOut));
      if (cat.sourceJson && cat.sourceCsv) {
        const sourceOut = join(o.dataDir, "chunks", "Source");
        const sources = await partition({
          database,
          table: loadTableConfig(cat.sourceJson),
          files: [cat.sourceCsv],
          outDir: sourceOut,
          directorDir: objectOut,
        });
        process.stdout.write(summary(sources, sourceOut));
      }
      const biggest = [...objects.info.chunks].sort((a, b) => b.nrec[0] - a.nrec[0]).slice(0, 5);
      process.stdout.write(`largest Object chunks: ${biggest.map((c) => `${c.id} (${c.nrec[0]} rows)`).join(", ")}\n`);
    });
}
