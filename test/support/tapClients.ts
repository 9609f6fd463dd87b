import { execFile, spawnSync } from "node:child_process";
import { PYTHON } from "./mysqlClients.js";

const have = () =>
  spawnSync(PYTHON, ["-c", "import pyvo, astropy"]).status === 0 && spawnSync("stilts", ["-version"]).status === 0;

/**
 * Makes sure the TAP clients the tests drive are installed (python3-pyvo, stilts), installing
 * them with apt-get when missing. Returns why they cannot be used, or null when they can.
 */
export function ensureTapClients(): string | null {
  if (have()) return null;
  if (process.getuid?.() !== 0) return "python3-pyvo / stilts are missing and installing them needs root";
  const apt = (args: string[]) =>
    spawnSync("apt-get", args, {
      stdio: "ignore",
      timeout: 900_000,
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    }).status === 0;
  const pkgs = ["install", "-y", "--no-install-recommends", "python3-pyvo", "stilts"];
  if (!apt(pkgs) && !(apt(["update"]) && apt(pkgs))) return "apt-get could not install python3-pyvo stilts";
  return have() ? null : "python3-pyvo / stilts still missing after apt-get install";
}

/** Runs a command without blocking the event loop; its stdout, or rejects with its stderr. */
export function run(cmd: string, args: string[], timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Runs a Python script (Debian's python3) with `args`; its stdout parsed as JSON. */
export async function python(script: string, ...args: string[]): Promise<unknown> {
  return JSON.parse(await run(PYTHON, ["-c", script, ...args]));
}
