/**
 * A small real cluster for input-hardening tests and the fuzz run: two worker processes and a czar
 * process on loopback, case01's Object and Source ingested with `mini-qserv ingest`, and one SQLite
 * database holding the same rows to check answers against.
 */
import { join } from "node:path";
import type Database from "better-sqlite3";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { loadDatabaseConfig, loadTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { runCli } from "./cli.js";
import { ITEST } from "./paths.js";
import { loadReference, referenceDb } from "./referenceDb.js";

export const CASE01 = join(ITEST, "case01", "data");

export interface SmallCluster {
  czar: CzarProcess;
  workers: WorkerProcess[];
  /** The same rows in one SQLite database. */
  ref: Database.Database;
  stop(): Promise<void>;
}

/** Starts the cluster under `dir`; `czarArgs` are added to the czar's command line. */
export async function startSmallCluster(dir: string, czarArgs: string[] = []): Promise<SmallCluster> {
  const workers = await Promise.all([1, 2].map((i) => startWorkerProcess(join(dir, `w${i}`))));
  const czar = await startCzarProcess(
    join(dir, "czar"),
    workers.map((w, i) => `w${i + 1}=${w.address}`),
    ["--health-interval", "0", ...czarArgs],
  );
  const ref = referenceDb();
  const dbCfg = join(CASE01, "ingest", "database.json");
  const db = loadDatabaseConfig(dbCfg);
  for (const t of ["Object", "Source"]) {
    const file = join(CASE01, `${t}.tsv.gz`);
    const table = join(CASE01, "ingest", `${t}.json`);
    const r = runCli(["ingest", "--czar", czar.url, "--database", dbCfg, "--table", table, file]);
    if (r.status !== 0) throw new Error(`ingest of ${t} failed: ${r.stderr}`);
    const cfg = loadTableConfig(table);
    loadReference(ref, file, cfg, tableDialect(cfg, file), {
      numStripes: db.numStripes,
      numSubStripes: db.numSubStripes,
    });
  }
  return {
    czar,
    workers,
    ref,
    async stop() {
      await czar.stop();
      for (const w of workers) await w.stop();
      ref.close();
    },
  };
}

/** `POST /query` on database qcase01: the status and the parsed JSON body. */
export async function postQuery(
  url: string,
  query: string,
  database = "qcase01",
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${url}/query`, { method: "POST", body: JSON.stringify({ query, database }) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}
