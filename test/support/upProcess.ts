import { type ChildProcess, spawn } from "node:child_process";
import { CLI } from "./paths.js";

/** A `mini-qserv up` process: the czar's URL and what it printed so far (stdout lines, stderr). */
export interface UpProcess {
  proc: ChildProcess;
  url: string;
  out: string[];
  err: string[];
}

/** Runs `mini-qserv up ARGS` and resolves once it says it is ready. */
export async function startUp(args: string[]): Promise<UpProcess> {
  const proc = spawn(process.execPath, [CLI, "up", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const out: string[] = [];
  const err: string[] = [];
  proc.stderr!.on("data", (d: Buffer) => err.push(d.toString()));
  let url = "";
  let pending = "";
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.setEncoding("utf8");
    proc.stdout!.on("data", (s: string) => {
      pending += s;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        out.push(line);
        const m = /czar (http:\/\/\S+) \(HTTP\)/.exec(line);
        if (m !== null) url = m[1] as string;
        if (line.startsWith("up: ready")) resolve();
      }
    });
    proc.once("exit", (code) => reject(new Error(`up exited with ${code}: ${out.join("\n")}\n${err.join("")}`)));
  });
  return { proc, url, out, err };
}
