/** A process's memory as Linux reports it (/proc/PID/status), and the reset of its peak. */
import { readFileSync, writeFileSync } from "node:fs";

/** Bytes of a `kB` field of /proc/PID/status (VmRSS, VmHWM, ...); throws when there is none. */
export function procStatus(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** Resets the process's peak RSS (VmHWM) to its current RSS. */
export function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}
