import { spawnSync } from "node:child_process";

/**
 * Makes sure Debian packages a test drives are installed: when `have()` is false, installs `pkgs`
 * with apt-get (running apt-get update if the first try fails). Returns why they cannot be used,
 * or null when they can.
 */
export function ensureDebianPackages(pkgs: readonly string[], have: () => boolean): string | null {
  if (have()) return null;
  const names = pkgs.join(" ");
  if (process.getuid?.() !== 0) return `${names}: missing, and installing them needs root`;
  // One apt-get at a time across test files running side by side (flock waits for the others).
  const apt = (args: string[]) =>
    spawnSync("flock", ["/var/lock/mini-qserv-apt.lock", "apt-get", ...args], {
      stdio: "ignore",
      timeout: 900_000,
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    }).status === 0;
  const install = ["install", "-y", "--no-install-recommends", ...pkgs];
  if (!apt(install) && !(apt(["update"]) && apt(install))) return `apt-get could not install ${names}`;
  return have() ? null : `${names}: still missing after apt-get install`;
}
