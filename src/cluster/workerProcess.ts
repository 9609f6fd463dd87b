import { type NodeProcess, startNodeProcess } from "./nodeProcess.js";

export interface WorkerProcess extends NodeProcess {
  address: string;
}

/** Starts `mini-qserv worker --port 0` as a child process; killed when this process exits. */
export async function startWorkerProcess(dataDir: string, extra: string[] = []): Promise<WorkerProcess> {
  const p = await startNodeProcess(["worker", "--port", "0", "--data-dir", dataDir, ...extra], "worker listening");
  return { ...p, address: `127.0.0.1:${p.ready.port as number}` };
}
