import { spawnSync } from "node:child_process";

/** Debian's python (pymysql comes as the Debian package python3-pymysql). */
export const PYTHON = "/usr/bin/python3";

const have = () =>
  spawnSync("mariadb", ["--version"]).status === 0 && spawnSync(PYTHON, ["-c", "import pymysql"]).status === 0;

/**
 * Makes sure the stock MySQL clients the tests drive are installed (mariadb-client,
 * python3-pymysql), installing them with apt-get when missing. Returns why they cannot be used,
 * or null when they can.
 */
export function ensureMysqlClients(): string | null {
  if (have()) return null;
  if (process.getuid?.() !== 0) return "mariadb-client / python3-pymysql are missing and installing them needs root";
  const apt = (args: string[]) =>
    spawnSync("apt-get", args, {
      stdio: "ignore",
      timeout: 600_000,
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    }).status === 0;
  const pkgs = ["install", "-y", "--no-install-recommends", "mariadb-client", "python3-pymysql"];
  if (!apt(pkgs) && !(apt(["update"]) && apt(pkgs))) return "apt-get could not install mariadb-client python3-pymysql";
  return have() ? null : "mariadb-client / python3-pymysql still missing after apt-get install";
}
