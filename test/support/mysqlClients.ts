import { spawnSync } from "node:child_process";
import { ensureDebianPackages } from "./debianPackages.js";

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
  return ensureDebianPackages(["mariadb-client", "python3-pymysql"], have);
}
