import { join, resolve } from "node:path";
import type { Command } from "commander";
import { loadDemo } from "../cluster/demo.js";
import { up } from "../cluster/up.js";
import { int } from "./options.js";

export function registerUp(program: Command): void {
  program
    .command("up")
    .description("Run a whole cluster on this machine: a czar and N workers on loopback, in the foreground")
    .option("--workers <n>", "worker processes (default: as last time in this data dir, else 2)")
    .option("--replicas <n>", "workers holding each chunk (default: as last time, else 2)")
    .option("--data-dir <dir>", "where the czar and the workers keep their data", ".mini-qserv/cluster")
    .option("--http-port <port>", "the czar's HTTP API (0: any free port)", "8080")
    .option("--mysql-port <port>", "the czar's MySQL protocol port (0: any free port)", "4040")
    .option("--host <host>", "address every node listens on", "127.0.0.1")
    .option("--mysql-user <user>", "the user MySQL clients log in as (with a password)")
    .option(
      "--mysql-password-file <file>",
      "MySQL clients need the password in this file (or in $MINI_QSERV_MYSQL_PASSWORD, which the czar inherits)",
    )
    .option(
      "--users-file <file>",
      "the czar's users (HTTP and MySQL, with roles; `mini-qserv user add`); --demo then needs --user of a writer",
    )
    .option(
      "--ingest-root <dir>",
      "passed to the czar: a directory whose files POST /ingest may name by path (repeatable)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      "--upload-url-hosts <hosts>",
      "passed to the czar: hosts a TAP UPLOAD by http(s) URL may be fetched from (comma-separated, repeatable)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option("--demo", "load the demo catalog (database demo: Object, Source) unless it is loaded already")
    .option("--demo-objects <n>", "objects in the demo catalog", "50000")
    .option("--restart-delay <s>", "seconds before a node that died is started again (0: never)", "2")
    .option("--verbose", "show every worker log line (by default, workers' warnings and errors only)")
    .action(
      async (o: {
        workers?: string;
        replicas?: string;
        dataDir: string;
        httpPort: string;
        mysqlPort: string;
        host: string;
        mysqlUser?: string;
        mysqlPasswordFile?: string;
        usersFile?: string;
        ingestRoot?: string[];
        uploadUrlHosts?: string[];
        demo?: boolean;
        demoObjects: string;
        restartDelay: string;
        verbose?: boolean;
      }) => {
        const write = (s: string) => process.stdout.write(s);
        const workers = int("--workers", o.workers);
        const replicas = int("--replicas", o.replicas);
        const cluster = await up({
          dataDir: o.dataDir,
          httpPort: int("--http-port", o.httpPort) ?? 8080,
          mysqlPort: int("--mysql-port", o.mysqlPort) ?? 4040,
          host: o.host,
          write,
          keepAlive: true,
          color: process.stdout.isTTY === true,
          verbose: o.verbose === true,
          restartDelayS: int("--restart-delay", o.restartDelay) ?? 2,
          // The file's path, never the password, goes on the czar's command line.
          czarArgs: [
            ...(o.mysqlUser === undefined ? [] : ["--mysql-user", o.mysqlUser]),
            ...(o.mysqlPasswordFile === undefined ? [] : ["--mysql-password-file", resolve(o.mysqlPasswordFile)]),
            ...(o.usersFile === undefined ? [] : ["--users-file", resolve(o.usersFile)]),
            ...(o.ingestRoot ?? []).flatMap((d) => ["--ingest-root", resolve(d)]),
            ...(o.uploadUrlHosts ?? []).flatMap((h) => ["--upload-url-hosts", h]),
          ],
          ...(workers === undefined ? {} : { workers }),
          ...(replicas === undefined ? {} : { replicas }),
        });
        let closing = false;
        const shutdown = (signal: string) => {
          if (closing) return;
          closing = true;
          write(`up: ${signal}: stopping the cluster\n`);
          cluster.stop().then(
            () => {
              write("up: stopped\n");
              process.exit(0);
            },
            (e: unknown) => {
              write(`up: stop failed: ${(e as Error).message}\n`);
              process.exit(1);
            },
          );
        };
        process.on("SIGINT", () => shutdown("SIGINT"));
        process.on("SIGTERM", () => shutdown("SIGTERM"));
        write(
          `up: cluster ready: czar ${cluster.url} (HTTP), mysql://${o.host}:${cluster.mysqlPort} (MySQL), workers ${cluster.workers.map((w) => `${w.id}=${w.address}`).join(" ")}\n`,
        );
        if (o.demo) {
          const r = await loadDemo({
            czarUrl: cluster.url,
            dataDir: join(o.dataDir, "demo"),
            objects: int("--demo-objects", o.demoObjects) ?? 50_000,
            say: (line) => write(`up: ${line}\n`),
          });
          if (r.loaded.length === 0) write("up: the demo catalog is loaded already\n");
          write(
            `up: try   npx mini-qserv query --czar ${cluster.url} --database demo "SELECT COUNT(*), AVG(ra) FROM Object WHERE qserv_areaspec_box(0, -5, 10, 5)"\n`,
          );
        }
        write(`up: ready (Ctrl-C stops the cluster)\n`);
      },
    );
}
