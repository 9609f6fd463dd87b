import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { QservError } from "../common/errors.js";

/** bin/mini-qserv.js, from dist/src/cluster/. */
const CLI = fileURLToPath(new URL("../../../bin/mini-qserv.js", import.meta.url));

export interface NodeProcess {
  proc: ChildProcess;
  /** Every log line so far (JSON objects; empty when started with keepLogs false). */
  logs: Array<Record<string, unknown>>;
  /** Sends `signal` and resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface NodeProcessOptions {
  /** Called with every log line (JSON object) or, for output that is not JSON, the text. */
  onLog?: (line: Record<string, unknown> | string) => void;
  /** Keep every log line in `logs` (default true; a long-running cluster turns it off). */
  keepLogs?: boolean;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** A command the node runs under, e.g. `["ip", "netns", "exec", NS]` (it must exec node in place). */
  prefix?: string[];
}

/**
 * Starts `mini-qserv <args>` as a child process (killed when this process exits) and resolves
 * once it logs `readyMsg`, with that log line.
 */
/** MINI_QSERV_CPU_PROF=DIR: every node process (and its threads) writes a V8 CPU profile there. */
function profiling(): string[] {
  const dir = process.env.MINI_QSERV_CPU_PROF;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
}

export async function startNodeProcess(
  args: string[],
  readyMsg: string,
  o: NodeProcessOptions = {},
): Promise<NodeProcess & { ready: Record<string, unknown> }> {
  const [cmd, ...pre] = [...(o.prefix ?? []), process.execPath];
  // MINI_QSERV_NODE_CLI: another build's bin/mini-qserv.js (benchmarks compare two builds side by side).
  const cli = process.env.MINI_QSERV_NODE_CLI || CLI;
  const proc = spawn(cmd as string, [...pre, ...profiling(), cli, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...o.env },
  });
  process.once("exit", () => proc.kill("SIGKILL"));
  const logs: Array<Record<string, unknown>> = [];
  let pending = "";
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    proc.stdout!.setEncoding("utf8");
    proc.stdout!.on("data", (s: string) => {
      pending += s;
      let nl = pending.indexOf("\n");
      while (nl >= 0) {
        const text = pending.slice(0, nl);
        let line: Record<string, unknown> | string;
        try {
          line = JSON.parse(text) as Record<string, unknown>;
        } catch {
          line = text;
        }
        if (typeof line === "object") {
          if (o.keepLogs !== false) logs.push(line);
          if (line.msg === readyMsg) resolve(line);
        }
        o.onLog?.(line);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf("\n");
      }
    });
    // Its own error went to stderr already: this one says which node failed to start.
    proc.once("exit", (code) =>
      reject(new QservError("UNAVAILABLE", `mini-qserv ${args[0]} exited with ${code} before "${readyMsg}"`)),
    );
  });
  // Once ready, the child no longer keeps this process alive.
  proc.unref();
  (proc.stdout as unknown as { unref(): void }).unref();
  return {
    proc,
    logs,
    ready,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.ref();
      const exited = once(proc, "exit");
      proc.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
