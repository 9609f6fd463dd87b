import type { Command } from "commander";
import { loadClusterSecret } from "../common/clusterSecret.js";
import { QservError } from "../common/errors.js";
import { createLogger, flushLog } from "../common/log.js";
import { startWorker } from "../worker/server.js";
import { exitOnSignals, int } from "./options.js";

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("Run a worker: holds chunk tables in SQLite and answers per-chunk SQL over gRPC")
    .requiredOption("--port <port>", "gRPC port (0: any free port, logged at start)")
    .requiredOption("--data-dir <dir>", "where the chunk files live")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--threads <n>", "query executor threads (default: number of cores)")
    .option(
      "--secret-file <file>",
      "the cluster secret (first line) every call must carry; default $MINI_QSERV_CLUSTER_SECRET_FILE, else $MINI_QSERV_CLUSTER_SECRET; none: calls from anyone",
    )
    .action(async (o: { port: string; dataDir: string; host: string; threads?: string; secretFile?: string }) => {
      const log = createLogger("worker");
      const threads = int("--threads", o.threads);
      if (threads === 0) throw new QservError("BAD_ARGUMENT", "--threads must be at least 1");
      const secret = loadClusterSecret(o.secretFile);
      const worker = await startWorker({
        dataDir: o.dataDir,
        port: int("--port", o.port) ?? 0,
        host: o.host,
        log,
        ...(threads === undefined ? {} : { threads }),
        ...(secret === undefined ? {} : { secret }),
      });
      exitOnSignals(log, async () => {
        const stuck = await worker.close();
        if (stuck === 0) return;
        // Node's exit waits for every thread, and one inside a SQLite step (an endless scan that
        // yields no row) never returns: the process ends itself instead of hanging.
        log.warn({ threads: stuck }, "threads inside a SQLite step cannot be stopped: ending the process (SIGKILL)");
        await flushLog(log);
        process.kill(process.pid, "SIGKILL");
      });
    });
}
