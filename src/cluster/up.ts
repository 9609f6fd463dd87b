/**
 * `mini-qserv up`: a czar and N workers as child processes on loopback, supervised (a node that
 * dies is started again on the same port and data dir, so it rejoins), logs merged into one
 * readable stream, stopped together.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { ensureSecretFile, loadClusterSecret } from "../common/clusterSecret.js";
import { QservError } from "../common/errors.js";
import { type LogLine, logFormatter } from "./logFormat.js";
import { type NodeProcess, startNodeProcess } from "./nodeProcess.js";

export interface UpOptions {
  dataDir: string;
  /** Default: what the data dir was started with last, else 2. */
  workers?: number;
  /** Workers per chunk for ingest. Default: as last time, else 2 (1 with one worker). */
  replicas?: number;
  httpPort: number;
  /** The czar's MySQL protocol port (default 0: any free port). */
  mysqlPort?: number;
  host?: string;
  /** Worker lines below warn level are shown only when verbose (per-chunk loads are many). */
  verbose?: boolean;
  /** Where the merged logs and up's own messages go. */
  write: (text: string) => void;
  color?: boolean;
  /** Seconds before a node that died is started again (0: not restarted). */
  restartDelayS?: number;
  /**
   * Keep this process alive until stop() (the CLI); a program that waits on something else
   * (a test, a benchmark) leaves it off, so that it still exits if it never calls stop().
   */
  keepAlive?: boolean;
  /** Extra arguments of every worker / of the czar. */
  workerArgs?: string[];
  czarArgs?: string[];
}

export interface UpCluster {
  /** The czar's HTTP API. */
  url: string;
  mysqlPort: number;
  workers: Array<{ id: string; address: string }>;
  /** The cluster secret (DATA_DIR/cluster.secret) the workers require of every call. */
  secret: string;
  /** The running process of a node ("czar", "w1", ...). */
  node(name: string): NodeProcess;
  /** Stops supervision, then the czar, then the workers (SIGTERM). */
  stop(): Promise<void>;
}

/** What a data dir was started with: later starts reuse it (same worker ports, same counts). */
interface ClusterFile {
  workers: Array<{ id: string; port: number }>;
  replicas: number;
}

const CLUSTER_FILE = "cluster.json";
/** The cluster secret, made at the first start (mode 0600); each node is given its path. */
const SECRET_FILE = "cluster.secret";

/** Whether nothing listens on host:port (a listen there succeeds). */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

function readClusterFile(dataDir: string): ClusterFile | null {
  const f = join(dataDir, CLUSTER_FILE);
  if (!existsSync(f)) return null;
  try {
    return JSON.parse(readFileSync(f, "utf8")) as ClusterFile;
  } catch (e) {
    throw new QservError("BAD_CONFIG", `${f}: ${(e as Error).message}`);
  }
}

interface Node {
  name: string;
  args: () => string[];
  readyMsg: string;
  proc: NodeProcess | null;
  ready: Record<string, unknown>;
  restarts: number;
}

export async function up(o: UpOptions): Promise<UpCluster> {
  mkdirSync(o.dataDir, { recursive: true });
  const saved = readClusterFile(o.dataDir);
  const n = o.workers ?? saved?.workers.length ?? 2;
  if (!Number.isInteger(n) || n < 1) throw new QservError("BAD_ARGUMENT", `--workers must be at least 1, got ${n}`);
  const replicas = o.replicas ?? saved?.replicas ?? Math.min(2, n);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > n) {
    throw new QservError("BAD_ARGUMENT", `--replicas must be between 1 and the number of workers (${n})`);
  }
  const host = o.host ?? "127.0.0.1";
  const secretFile = ensureSecretFile(join(o.dataDir, SECRET_FILE));
  const secret = loadClusterSecret(secretFile) as string;
  const format = logFormatter(o.color ?? false);
  const ports = new Map((saved?.workers ?? []).map((w) => [w.id, w.port]));
  let stopping = false;

  const show = (node: Node, line: LogLine) => {
    if (!o.verbose && node.name !== "czar" && typeof line === "object" && (line.level as number) < 40) return;
    o.write(format(node.name, line));
  };
  const start = async (node: Node): Promise<void> => {
    const p = await startNodeProcess(node.args(), node.readyMsg, {
      keepLogs: false,
      onLog: (line) => show(node, line),
    });
    node.proc = p;
    node.ready = p.ready;
    p.proc.once("exit", (code, signal) => {
      if (stopping || node.proc !== p) return;
      node.proc = null;
      const delay = o.restartDelayS ?? 2;
      o.write(
        `up: ${node.name} exited (${signal ?? `code ${code}`})${delay > 0 ? `; restarting in ${delay} s` : ""}\n`,
      );
      if (delay <= 0) return;
      node.restarts++;
      setTimeout(() => {
        if (stopping) return;
        start(node).then(
          () => o.write(`up: ${node.name} is back\n`),
          (e: unknown) => o.write(`up: ${node.name} did not restart: ${(e as Error).message}\n`),
        );
      }, delay * 1000).unref();
    });
  };

  const workers: Node[] = Array.from({ length: n }, (_, i) => {
    const id = `w${i + 1}`;
    const node: Node = {
      name: id,
      readyMsg: "worker listening",
      proc: null,
      ready: {},
      restarts: 0,
      args: () => [
        "worker",
        "--port",
        String(ports.get(id) ?? 0),
        "--host",
        host,
        "--data-dir",
        join(o.dataDir, id),
        "--secret-file",
        secretFile,
        ...(o.workerArgs ?? []),
      ],
    };
    return node;
  });
  const stopAll = async () => {
    stopping = true;
    const all = [czar, ...workers];
    await Promise.all(all.map((w) => w.proc?.stop("SIGTERM")));
  };
  const czar: Node = {
    name: "czar",
    readyMsg: "czar listening",
    proc: null,
    ready: {},
    restarts: 0,
    args: () => [
      "czar",
      "--data-dir",
      join(o.dataDir, "czar"),
      "--http-port",
      String(czar.ready.httpPort ?? o.httpPort),
      "--mysql-port",
      String(czar.ready.mysqlPort ?? o.mysqlPort ?? 0),
      "--host",
      host,
      "--replicas",
      String(replicas),
      "--secret-file",
      secretFile,
      ...workers.flatMap((w) => ["--worker", `${w.name}=${host}:${ports.get(w.name)}`]),
      ...(o.czarArgs ?? []),
    ],
  };
  try {
    // A recorded port another process took meanwhile: that worker moves to a free one (the czar
    // goes by worker id, so its chunks stay its own).
    for (const w of workers) {
      const port = ports.get(w.name);
      if (port === undefined || port === 0 || (await portFree(host, port))) continue;
      ports.delete(w.name);
      o.write(
        `up: ${w.name}'s port ${port} (recorded in ${join(o.dataDir, CLUSTER_FILE)}) is taken by another process; ${w.name} starts on a free port, recorded there instead\n`,
      );
    }
    await Promise.all(workers.map(start));
    for (const w of workers) ports.set(w.name, w.ready.port as number);
    const file: ClusterFile = {
      workers: workers.map((w) => ({ id: w.name, port: ports.get(w.name) as number })),
      replicas,
    };
    writeFileSync(join(o.dataDir, CLUSTER_FILE), `${JSON.stringify(file, null, 2)}\n`);
    await start(czar);
  } catch (e) {
    await stopAll();
    throw e;
  }
  // Children are unref'd by startNodeProcess: this keeps the supervisor alive until stop().
  const keepAlive = setInterval(() => {}, 1 << 30);
  if (o.keepAlive !== true) keepAlive.unref();
  const url = `http://${host}:${czar.ready.httpPort as number}`;
  return {
    url,
    mysqlPort: czar.ready.mysqlPort as number,
    workers: workers.map((w) => ({ id: w.name, address: `${host}:${ports.get(w.name)}` })),
    secret,
    node(name) {
      const node = [czar, ...workers].find((x) => x.name === name);
      if (node?.proc == null) throw new QservError("NOT_FOUND", `no running node ${name}`);
      return node.proc;
    },
    async stop() {
      // The czar first, so that no query is left waiting on a worker that is gone.
      stopping = true;
      clearInterval(keepAlive);
      await czar.proc?.stop("SIGTERM");
      await stopAll();
    },
  };
}
