import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/** bin/mini-qserv.js, from dist/src/cluster/. */
const CLI = fileURLToPath(new URL("../../../bin/mini-qserv.js", import.meta.url));

export interface WorkerProcess {
  address: string;
  proc: ChildProcess;
  /** Every log line so far (JSON objects). */
  logs: Array<Record<string, unknown>>;
  /** Sends `signal` and resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `mini-qserv worker --port 0` as a child process; killed when this process exits. */
export async function startWorkerProcess(dataDir: string, extra: string[] = []): Promise<WorkerProcess> {
  const proc = spawn(process.execPath, [CLI, "worker", "--port", "0", "--data-dir", dataDir, ...extra], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.once("exit", () => proc.kill("SIGKILL"));
  const logs: Array<Record<string, unknown>> = [];
  let pending = "";
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.setEncoding("utf8");
    proc.stdout!.on("data", (s: string) => {
      pending += s;
      let nl = pending.indexOf("\n");
      while (nl >= 0) {
        const line = JSON.parse(pending.slice(0, nl)) as Record<string, unknown>;
        logs.push(line);
        if (line.msg === "worker listening") resolve(line.port as number);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf("\n");
      }
    });
    proc.once("exit", (code) => reject(new Error(`worker exited with ${code} before listening`)));
  });
  // Once listening, the child no longer keeps this process alive.
  proc.unref();
  (proc.stdout as unknown as { unref(): void }).unref();
  return {
    address: `127.0.0.1:${port}`,
    proc,
    logs,
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
