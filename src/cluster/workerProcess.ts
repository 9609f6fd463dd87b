import { type NodeProcess, type NodeProcessOptions, startNodeProcess } from "./nodeProcess.js";

export interface WorkerProcess extends NodeProcess {
  address: string;
}

/** Starts `mini-qserv worker --port 0` as a child process; killed when this process exits. */
export async function startWorkerProcess(
  dataDir: string,
  extra: string[] = [],
  o: NodeProcessOptions = {},
): Promise<WorkerProcess> {
  const p = await startNodeProcess(["worker", "--port", "0", "--data-dir", dataDir, ...extra], "worker listening", o);
  return { ...p, address: `127.0.0.1:${p.ready.port as number}` };
}
