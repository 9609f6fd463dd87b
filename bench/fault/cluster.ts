/**
 * The fault soak's cluster: three worker processes and a czar process (R = 2) on loopback, each
 * restartable on its own port and data directory, so that clients keep their URL across a czar
 * restart. Worker faults (SIGKILL then restart, SIGSTOP then SIGCONT) and czar kills go through
 * here, which also keeps what is down or stopped for the soak's bookkeeping.
 */
import { join } from "node:path";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { procStatus } from "../../test/support/procStatus.js";

export class FaultCluster {
  czar!: CzarProcess;
  readonly workers: WorkerProcess[] = [];
  /** Workers (0-based) SIGSTOPped now. */
  readonly stopped = new Set<number>();
  /** Workers (0-based) killed and not yet back. */
  readonly dead = new Set<number>();
  czarDown = false;
  private ports: string[] = [];

  constructor(
    readonly dir: string,
    private readonly czarArgs: string[],
  ) {}

  async start(n: number): Promise<void> {
    for (let i = 0; i < n; i++) this.workers.push(await startWorkerProcess(join(this.dir, `w${i + 1}`)));
    await this.startCzar();
    const http = new URL(this.czar.url).port;
    this.ports = ["--http-port", http, "--mysql-port", String(this.czar.mysqlPort)];
  }

  get url(): string {
    return this.czar.url;
  }

  /** Starts the czar (again on the same ports), with `env` added (a halt point). */
  async startCzar(env: Record<string, string> = {}, onLog?: (l: Record<string, unknown> | string) => void) {
    this.czar = await startCzarProcess(
      join(this.dir, "czar"),
      this.workers.map((w, i) => `w${i + 1}=${w.address}`),
      [...this.czarArgs, ...this.ports],
      { env, keepLogs: false, ...(onLog === undefined ? {} : { onLog }) },
    );
    this.czarDown = false;
  }

  async stopCzar(signal: NodeJS.Signals): Promise<void> {
    this.czarDown = true;
    await this.czar.stop(signal);
  }

  async killWorker(i: number): Promise<void> {
    this.dead.add(i);
    this.resume(i);
    await this.workers[i]!.stop("SIGKILL");
  }

  async restartWorker(i: number): Promise<void> {
    const port = this.workers[i]!.address.split(":")[1]!;
    this.workers[i] = await startWorkerProcess(join(this.dir, `w${i + 1}`), ["--port", port], { keepLogs: false });
    this.dead.delete(i);
  }

  pause(i: number): void {
    this.stopped.add(i);
    this.workers[i]!.proc.kill("SIGSTOP");
  }

  resume(i: number): void {
    if (!this.stopped.delete(i)) return;
    this.workers[i]!.proc.kill("SIGCONT");
  }

  /** True while any node is stopped, dead or restarting. */
  get disturbed(): boolean {
    return this.stopped.size > 0 || this.dead.size > 0 || this.czarDown;
  }

  /** Resident memory of every process now, in MB. */
  rss(): Record<string, number> {
    const mb = (pid: number | undefined) =>
      pid === undefined ? Number.NaN : Math.round(procStatus(pid, "VmRSS") / 2 ** 20);
    const out: Record<string, number> = { czar: mb(this.czar.proc.pid) };
    this.workers.forEach((w, i) => {
      out[`w${i + 1}`] = mb(w.proc.pid);
    });
    return out;
  }

  async stop(): Promise<void> {
    for (const i of [...this.stopped]) this.resume(i);
    await this.czar?.stop("SIGTERM");
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}
