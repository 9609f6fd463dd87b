/**
 * A test-only TCP proxy for a slow, lossy link: every chunk of bytes, each way, is held back a
 * random 0..`maxDelayMs` (in order), and each chunk ends its connection (both sides destroyed,
 * as a dropped link does) with probability `dropRate`. `chaos` false passes bytes straight
 * through. Randomness is seeded, so a run can be repeated.
 */
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface ChaosOptions {
  maxDelayMs: number;
  dropRate: number;
  seed: number;
}

export class ChaosProxy {
  chaos = false;
  /** Connections taken, and those the proxy cut. */
  connections = 0;
  dropped = 0;
  private seed: number;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly target: { host: string; port: number },
    private readonly o: ChaosOptions,
  ) {
    this.seed = o.seed;
    this.server = net.createServer((c) => this.accept(c));
  }

  /** Listens on `host` (any free port) and forwards to `target`. */
  static async start(host: string, target: { host: string; port: number }, o: ChaosOptions): Promise<ChaosProxy> {
    const p = new ChaosProxy(target, o);
    await new Promise<void>((resolve, reject) => {
      p.server.once("error", reject);
      p.server.listen(0, host, resolve);
    });
    return p;
  }

  get address(): string {
    const a = this.server.address() as net.AddressInfo;
    return `${a.address}:${a.port}`;
  }

  private random(): number {
    this.seed = (this.seed * 1103515245 + 12345) % 2147483648;
    return this.seed / 2147483648;
  }

  private accept(client: net.Socket): void {
    this.connections++;
    const server = net.connect(this.target.port, this.target.host);
    for (const s of [client, server]) {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        server.destroy();
      });
    }
    let cut = false;
    const pipe = (from: net.Socket, to: net.Socket) => {
      let queue = Promise.resolve();
      from.on("data", (chunk: Buffer) => {
        if (!this.chaos) {
          queue = queue.then(() => {
            if (!to.destroyed) to.write(chunk);
          });
          return;
        }
        const delay = this.random() * this.o.maxDelayMs;
        const drop = this.random() < this.o.dropRate;
        queue = queue.then(async () => {
          await sleep(delay); // the link's injected latency (the scenario), not a wait for a state
          if (cut) return;
          if (drop) {
            cut = true;
            this.dropped++;
            client.destroy();
            server.destroy();
            return;
          }
          if (!to.destroyed) to.write(chunk);
        });
      });
      from.on("end", () => {
        queue = queue.then(() => {
          to.end();
        });
      });
    };
    pipe(client, server);
    pipe(server, client);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
