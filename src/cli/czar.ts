import { resolve } from "node:path";
import type { Command } from "commander";
import { loadClusterSecret } from "../common/clusterSecret.js";
import { QservError } from "../common/errors.js";
import { firstLineOf } from "../common/firstLine.js";
import { createLogger } from "../common/log.js";
import { readUsersFile } from "../czar/auth/users.js";
import { startCzar } from "../czar/server.js";
import { LOGIN_DEFAULTS } from "../frontends/mysql/loginThrottle.js";
import { czarLoader } from "../watch/loaders.js";
import { exitOnSignals, int, seconds } from "./options.js";
import { startWatcher, unprefixed, watchRules, withWatchOptions } from "./watch.js";

/** `--worker ADDR` or `--worker ID=ADDR` (the id defaults to the address). */
function workerSpec(v: string): { id: string; address: string } {
  const eq = v.indexOf("=");
  const [id, address] = eq < 0 ? [v, v] : [v.slice(0, eq), v.slice(eq + 1)];
  if (!/^[^:\s]+:\d+$/.test(address))
    throw new QservError("BAD_ARGUMENT", `--worker ${v}: expected HOST:PORT or ID=HOST:PORT`);
  return { id, address };
}

/** The MySQL password: --mysql-password, else the first line of --mysql-password-file, else $MINI_QSERV_MYSQL_PASSWORD. */
function mysqlPasswordOf(given: string | undefined, file: string | undefined): string | undefined {
  if (given !== undefined && file !== undefined)
    throw new QservError("BAD_ARGUMENT", "--mysql-password and --mysql-password-file: give one");
  if (file === undefined) return given ?? process.env.MINI_QSERV_MYSQL_PASSWORD;
  return firstLineOf(file, "--mysql-password-file");
}

export function registerCzar(program: Command): void {
  const cmd = program
    .command("czar")
    .description("Run the czar: the SQL endpoint (HTTP JSON API) over a set of workers")
    .requiredOption("--data-dir <dir>", "where the czar keeps its metadata (czar.sqlite)")
    .option("--worker <addr...>", "a worker, HOST:PORT or ID=HOST:PORT (repeatable; earlier ones are remembered)")
    .option("--http-port <port>", "HTTP API port (0: any free port, logged at start)", "8080")
    .option("--mysql-port <port>", "MySQL protocol port (0: any free port; -1: off)", "4040")
    .option("--mysql-user <user>", "the user MySQL clients log in as (with --mysql-password)")
    .option(
      "--mysql-password-file <file>",
      "require the password in this file (its first line) of MySQL clients; default $MINI_QSERV_MYSQL_PASSWORD; none: anyone may connect",
    )
    .option(
      "--mysql-password <pw>",
      "the password on the command line (visible in ps: prefer the file or the variable)",
    )
    .option(
      "--users-file <file>",
      "the users of HTTP and the MySQL port, with roles (reader, writer, admin): a JSON array written by `mini-qserv user add`",
    )
    .option(
      "--login-max-failures <n>",
      "failed MySQL logins in a row that lock a client address out (0: never; each failure is delayed twice as long as the last)",
      String(LOGIN_DEFAULTS.maxFailures),
    )
    .option(
      "--login-lockout <seconds>",
      "how long a locked-out address is refused",
      String(LOGIN_DEFAULTS.lockoutMs / 1000),
    )
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--replicas <n>", "workers per chunk for ingest (default: 2 with two or more workers)")
    .option("--query-timeout <seconds>", "time limit of a query (0: none)", "0")
    .option(
      "--net-write-timeout <seconds>",
      "a client that reads nothing of an answer for this long is disconnected and its query cancelled (MySQL's net_write_timeout; a session may SET its own)",
      "60",
    )
    .option(
      "--lock-wait-timeout <seconds>",
      "the longest a query or publish waits for a drop or garbage collection, a drop for running queries, or a publish for another (0: no limit)",
      "300",
    )
    .option(
      "--load-idle-timeout <seconds>",
      "an ingest whose load into a worker makes no progress for this long fails (and rolls back), naming the worker (0: no limit)",
      "60",
    )
    .option(
      "--spool-memory-mb <n>",
      "rows a slow client has not read yet that one query keeps in memory before spilling to disk",
      "8",
    )
    .option(
      "--spool-max-mb <n>",
      "disk (under DATA_DIR/spool) that rows slow clients have not read yet may take; past it the query spilling fails",
      "10240",
    )
    .option("--max-result-mb <n>", "largest result the czar holds for one query", "1024")
    .option(
      "--ingest-root <dir>",
      "a directory whose files POST /ingest may name by path (repeatable; default none: uploads only)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      "--tap-upload-timeout <seconds>",
      "longest the czar waits for a TAP UPLOAD table it fetches by http URL",
      "30",
    )
    .option(
      "--upload-url-hosts <hosts>",
      "hosts (name or name:port, comma-separated, repeatable) a TAP UPLOAD by http(s) URL may be fetched from (default none: refused; loopback only if listed)",
      (v: string, prev: string[] = []) => [
        ...prev,
        ...v
          .split(",")
          .map((h) => h.trim())
          .filter((h) => h !== ""),
      ],
    )
    .option(
      "--log-loop-stalls <ms>",
      "log a warning naming the statements in flight whenever the event loop is held longer than this (0: never)",
      "0",
    )
    .option("--max-query-mb <n>", "largest query text accepted (longer ones are refused)", "16")
    .option(
      "--repair-interval <seconds>",
      "seconds between automatic replica repair passes (0: only `replicate`)",
      "60",
    )
    .option(
      "--repair-grace <seconds>",
      "automatic passes leave the chunks of a worker down for less than this alone (it may be restarting)",
      "60",
    )
    .option("--gc-interval <seconds>", "seconds between garbage collection passes (0: only `gc`)", "300")
    .option("--health-interval <seconds>", "seconds between health probes of the workers (0: none)", "5")
    .option(
      "--hedge-after <seconds>",
      "a chunk call that sends nothing this long is asked of another replica too; the first answer wins (0: never)",
      "1",
    )
    .option(
      "--secret-file <file>",
      "the cluster secret (first line) sent with every call to the workers; default $MINI_QSERV_CLUSTER_SECRET_FILE, else $MINI_QSERV_CLUSTER_SECRET",
    )
    .action(
      async (o: {
        watch?: string;
        dataDir: string;
        worker?: string[];
        httpPort: string;
        mysqlPort: string;
        mysqlUser?: string;
        mysqlPassword?: string;
        mysqlPasswordFile?: string;
        loginMaxFailures: string;
        loginLockout: string;
        host: string;
        replicas?: string;
        queryTimeout: string;
        netWriteTimeout: string;
        lockWaitTimeout: string;
        loadIdleTimeout: string;
        spoolMaxMb: string;
        spoolMemoryMb: string;
        maxResultMb: string;
        maxQueryMb: string;
        ingestRoot?: string[];
        tapUploadTimeout: string;
        uploadUrlHosts?: string[];
        logLoopStalls: string;
        repairInterval: string;
        repairGrace: string;
        healthInterval: string;
        gcInterval: string;
        secretFile?: string;
        hedgeAfter: string;
        usersFile?: string;
      }) => {
        const log = createLogger("czar");
        const replicas = int("--replicas", o.replicas);
        const mysqlPort = o.mysqlPort === "-1" ? undefined : (int("--mysql-port", o.mysqlPort) ?? 4040);
        const mysqlPassword = mysqlPasswordOf(o.mysqlPassword, o.mysqlPasswordFile);
        const clusterSecret = loadClusterSecret(o.secretFile);
        const czar = await startCzar({
          dataDir: o.dataDir,
          workers: (o.worker ?? []).map(workerSpec),
          httpPort: int("--http-port", o.httpPort) ?? 8080,
          ...(mysqlPort === undefined ? {} : { mysqlPort }),
          ...(o.mysqlUser === undefined ? {} : { mysqlUser: o.mysqlUser }),
          ...(mysqlPassword === undefined ? {} : { mysqlPassword }),
          mysqlLogin: {
            maxFailures: int("--login-max-failures", o.loginMaxFailures) ?? LOGIN_DEFAULTS.maxFailures,
            lockoutMs: (seconds("--login-lockout", o.loginLockout) ?? 60) * 1000,
          },
          host: o.host,
          queryTimeoutMs: (seconds("--query-timeout", o.queryTimeout) ?? 0) * 1000,
          netWriteTimeoutS: seconds("--net-write-timeout", o.netWriteTimeout) ?? 60,
          lockWaitTimeoutMs: (seconds("--lock-wait-timeout", o.lockWaitTimeout) ?? 300) * 1000,
          loadIdleTimeoutMs: (seconds("--load-idle-timeout", o.loadIdleTimeout) ?? 60) * 1000,
          spoolMemoryBytes: (int("--spool-memory-mb", o.spoolMemoryMb) ?? 8) * 2 ** 20,
          spoolMaxBytes: (int("--spool-max-mb", o.spoolMaxMb) ?? 10240) * 2 ** 20,
          maxResultBytes: (int("--max-result-mb", o.maxResultMb) ?? 1024) * 2 ** 20,
          maxQueryBytes: (int("--max-query-mb", o.maxQueryMb) ?? 16) * 2 ** 20,
          ingestRoots: o.ingestRoot ?? [],
          tapUploadTimeoutMs: (seconds("--tap-upload-timeout", o.tapUploadTimeout) ?? 30) * 1000,
          tapUploadHosts: o.uploadUrlHosts ?? [],
          loopStallLogMs: int("--log-loop-stalls", o.logLoopStalls) ?? 0,
          repairIntervalMs: (int("--repair-interval", o.repairInterval) ?? 60) * 1000,
          repairGraceMs: (seconds("--repair-grace", o.repairGrace) ?? 60) * 1000,
          healthIntervalMs: (int("--health-interval", o.healthInterval) ?? 5) * 1000,
          hedgeAfterMs: (seconds("--hedge-after", o.hedgeAfter) ?? 1) * 1000,
          gcIntervalMs: (int("--gc-interval", o.gcInterval) ?? 300) * 1000,
          log,
          ...(replicas === undefined ? {} : { replicas }),
          ...(clusterSecret === undefined ? {} : { clusterSecret }),
          ...(o.usersFile === undefined ? {} : { users: readUsersFile(o.usersFile) }),
        });
        const watcher =
          o.watch === undefined
            ? null
            : startWatcher(
                o.watch,
                unprefixed(o),
                watchRules(unprefixed(o)),
                czarLoader({
                  ingest: czar.ingest,
                  load: (id) => czar.meta.load(id),
                  report: (s) => czar.watch.report(s as unknown as Record<string, unknown>),
                }),
                `czar:${resolve(o.watch)}`,
                log.child({ component: "watch" }),
              );
        exitOnSignals(log, async () => {
          await watcher?.stop();
          await czar.close();
        });
      },
    );
  withWatchOptions(
    cmd.option("--watch <dir>", "load each new complete file of DIR as it comes, once (with --watch-rules)"),
    "watch-",
  );
}
