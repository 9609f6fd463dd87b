/**
 * A cluster of network namespaces: one namespace per node (czar, w1..wn), each with a veth `eth0`
 * into a bridge that lives in a namespace of its own (the switch), and one veth from the host into
 * that bridge, so the test reaches the nodes at their addresses. Addresses are a private /24
 * (10.99.X.0/24, X not used on the host) that exists only on the interfaces made here; names are
 * unique per run, and everything is removed by `destroy` — also when this process exits.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type NodeProcess, type NodeProcessOptions, startNodeProcess } from "../../src/cluster/nodeProcess.js";
import { ensureDebianPackages } from "./debianPackages.js";

const ip = (...args: string[]): string =>
  execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** Names of a run: `mq<pid>x<hex>` (pid and a random part; at most 14 characters, a link name's limit is 15). */
const RUN_NAME = /^mq(\d+)x[0-9a-f]+/;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Removes the namespaces and host veths of earlier runs whose process is gone (killed before it cleaned up). */
function sweepStale(): void {
  const stale = (name: string) => {
    const m = RUN_NAME.exec(name.replace(/^mqh/, "mq"));
    return m !== null && !alive(Number(m[1]));
  };
  for (const line of ip("netns", "list").split("\n")) {
    const ns = line.split(" ")[0] ?? "";
    if (stale(ns)) ip("netns", "del", ns);
  }
  for (const line of ip("-o", "link").split("\n")) {
    const dev = (line.split(": ")[1] ?? "").split("@")[0] ?? "";
    if (dev.startsWith("mqh") && stale(dev)) ip("link", "del", dev);
  }
}

/** Why namespaces cannot be made here, or null when they can (makes and removes one). */
export function netnsUnavailable(): string | null {
  if (process.platform !== "linux") return "network namespaces need Linux";
  // A fresh machine may lack iproute2: the test installs it (as it does its other clients).
  const missing = ensureDebianPackages(["iproute2"], () => spawnSync("ip", ["-V"], { stdio: "ignore" }).status === 0);
  if (missing !== null) return missing;
  const probe = `mqprobe-${randomBytes(3).toString("hex")}`;
  try {
    ip("netns", "add", probe);
  } catch (e) {
    return `cannot create a network namespace (root and iproute2 needed): ${(e as Error).message.split("\n")[0]}`;
  }
  try {
    ip("-n", probe, "link", "add", "br0", "type", "bridge");
    return null;
  } catch (e) {
    return `cannot create a bridge in a namespace: ${(e as Error).message.split("\n")[0]}`;
  } finally {
    ip("netns", "del", probe);
  }
}

export interface NetNode {
  name: string;
  /** Its namespace. */
  ns: string;
  /** Its address on the test network. */
  addr: string;
}

export class NetnsNet {
  readonly nodes = new Map<string, NetNode>();
  /** The host's address on the test network. */
  readonly hostAddr: string;
  private readonly sw: string;
  private readonly hostIf: string;
  private readonly procs: NodeProcess[] = [];
  private destroyed = false;
  private readonly onExit = () => this.removeAll();

  /** Makes the switch, the host's veth and one namespace per name (addresses .10, .11, ...). */
  constructor(names: string[]) {
    sweepStale();
    const id = `${process.pid}x${randomBytes(2).toString("hex").slice(0, 3)}`;
    const used = ip("-4", "-o", "addr");
    let third = 0;
    for (let tries = 0; tries < 100 && third === 0; tries++) {
      const x = 1 + Math.floor(Math.random() * 250);
      if (!used.includes(`10.99.${x}.`)) third = x;
    }
    if (third === 0) throw new Error("no free 10.99.X.0/24 on this host");
    const net = `10.99.${third}`;
    this.hostAddr = `${net}.254`;
    this.sw = `mq${id}-sw`;
    this.hostIf = `mqh${id}`;
    process.once("exit", this.onExit);
    try {
      ip("netns", "add", this.sw);
      ip("-n", this.sw, "link", "add", "br0", "type", "bridge");
      ip("-n", this.sw, "link", "set", "br0", "up");
      ip("link", "add", this.hostIf, "type", "veth", "peer", "name", "host", "netns", this.sw);
      ip("-n", this.sw, "link", "set", "host", "master", "br0", "up");
      ip("addr", "add", `${this.hostAddr}/24`, "dev", this.hostIf);
      ip("link", "set", this.hostIf, "up");
      names.forEach((name, i) => {
        const node: NetNode = { name, ns: `mq${id}-${name}`, addr: `${net}.${10 + i}` };
        ip("netns", "add", node.ns);
        this.nodes.set(name, node);
        ip("link", "add", "eth0", "netns", node.ns, "type", "veth", "peer", "name", `v-${name}`, "netns", this.sw);
        ip("-n", this.sw, "link", "set", `v-${name}`, "master", "br0", "up");
        ip("-n", node.ns, "addr", "add", `${node.addr}/24`, "dev", "eth0");
        ip("-n", node.ns, "link", "set", "eth0", "up");
        ip("-n", node.ns, "link", "set", "lo", "up");
      });
    } catch (e) {
      this.removeAll();
      throw e;
    }
  }

  node(name: string): NetNode {
    const n = this.nodes.get(name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  /** Cuts (`down`) or restores (`up`) a node's link: its veth end in the switch. */
  link(name: string, state: "up" | "down"): void {
    ip("-n", this.sw, "link", "set", `v-${name}`, state);
  }

  /** Starts `mini-qserv <args>` inside the node's namespace; resolves once it logs `readyMsg`. */
  async start(
    name: string,
    args: string[],
    readyMsg: string,
    o: NodeProcessOptions = {},
  ): Promise<NodeProcess & { ready: Record<string, unknown> }> {
    const p = await startNodeProcess(args, readyMsg, { ...o, prefix: ["ip", "netns", "exec", this.node(name).ns] });
    this.procs.push(p);
    return p;
  }

  /** Stops every process started here, then removes the namespaces and the host's veth. */
  async destroy(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop("SIGKILL")));
    this.removeAll();
  }

  private removeAll(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.removeListener("exit", this.onExit);
    for (const p of this.procs) p.proc.kill("SIGKILL");
    const gone = (f: () => void) => {
      try {
        f();
      } catch {
        // already gone
      }
    };
    gone(() => ip("link", "del", this.hostIf));
    for (const n of this.nodes.values()) gone(() => ip("netns", "del", n.ns));
    gone(() => ip("netns", "del", this.sw));
  }
}
