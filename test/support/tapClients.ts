import { execFile, spawnSync } from "node:child_process";
import { ensureDebianPackages } from "./debianPackages.js";
import { PYTHON } from "./mysqlClients.js";

const have = () =>
  spawnSync(PYTHON, ["-c", "import pyvo, astropy"]).status === 0 && spawnSync("stilts", ["-version"]).status === 0;

/**
 * Makes sure the TAP clients the tests drive are installed (python3-pyvo, stilts), installing
 * them with apt-get when missing. Returns why they cannot be used, or null when they can.
 */
export function ensureTapClients(): string | null {
  return ensureDebianPackages(["python3-pyvo", "stilts"], have);
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
