/**
 * A private MariaDB server for differential tests: Debian's mariadb-server (installed with
 * apt-get when missing), a fresh data dir, reachable only through a Unix socket (no TCP port to
 * clash with concurrent runs), utf8mb4 / utf8mb4_general_ci as MySQL's default, no grant tables.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ensureDebianPackages } from "./debianPackages.js";

const MARIADBD = "/usr/sbin/mariadbd";
const INSTALL_DB = "/usr/bin/mariadb-install-db";

const have = () => existsSync(MARIADBD) && existsSync(INSTALL_DB);

/** Makes sure mariadb-server is installed; returns why it cannot be, or null when it is. */
export function ensureMariadbServer(): string | null {
  return ensureDebianPackages(["mariadb-server"], have);
}

export interface MariadbServer {
  socketPath: string;
  stop(): Promise<void>;
}

/** Starts mariadbd on a new data dir under `dir`; resolves once its socket accepts connections. */
export async function startMariadb(dir: string): Promise<MariadbServer> {
  const datadir = join(dir, "data");
  const socketPath = join(dir, "mysqld.sock");
  // A private tmpdir: servers of concurrent runs must not share /tmp's temporary-table names.
  const tmpdir = join(dir, "tmp");
  mkdirSync(tmpdir, { recursive: true });
  const user = process.getuid?.() === 0 ? ["--user=root"] : [];
  const init = spawnSync(
    INSTALL_DB,
    [
      "--no-defaults",
      `--datadir=${datadir}`,
      `--tmpdir=${tmpdir}`,
      "--skip-test-db",
      "--auth-root-authentication-method=normal",
      ...user,
    ],
    { encoding: "utf8" },
  );
  if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr}${init.stdout}`);
  const proc: ChildProcess = spawn(
    MARIADBD,
    [
      "--no-defaults",
      `--datadir=${datadir}`,
      `--tmpdir=${tmpdir}`,
      `--socket=${socketPath}`,
      `--pid-file=${join(dir, "mysqld.pid")}`,
      "--skip-networking",
      "--skip-grant-tables",
      "--skip-log-bin",
      "--character-set-server=utf8mb4",
      "--collation-server=utf8mb4_general_ci",
      "--innodb-buffer-pool-size=32M",
      "--innodb-log-file-size=8M",
      ...user,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  const exited = once(proc, "exit");
  // Ready when the log says so (the socket file appears a moment before it accepts): each chunk of
  // log is looked at as it arrives; an early exit or 120 s without it is an error.
  await new Promise<void>((resolve, reject) => {
    const bound = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`mariadbd not ready after 120 s: ${log}`));
    }, 120_000);
    const done = (e?: Error) => {
      clearTimeout(bound);
      proc.stderr?.off("data", onData);
      proc.off("exit", onExit);
      if (e === undefined) resolve();
      else reject(e);
    };
    const onData = (d: Buffer) => {
      log += d.toString("utf8");
      if (/ready for connections/.test(log)) done();
    };
    const onExit = () => done(new Error(`mariadbd exited: ${log}`));
    proc.stderr?.on("data", onData);
    proc.on("exit", onExit);
  });
  proc.stderr?.resume(); // keep draining its log
  return {
    socketPath,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill("SIGTERM");
      await exited;
    },
  };
}
