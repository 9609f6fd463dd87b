import { type NodeProcess, type NodeProcessOptions, startNodeProcess } from "./nodeProcess.js";

export interface CzarProcess extends NodeProcess {
  /** The HTTP API, e.g. http://127.0.0.1:8080. */
  url: string;
  /** The MySQL protocol port. */
  mysqlPort: number;
}

/** Starts `mini-qserv czar --http-port 0 --mysql-port 0` over the given workers ("HOST:PORT" or "ID=HOST:PORT"). */
export async function startCzarProcess(
  dataDir: string,
  workers: string[],
  extra: string[] = [],
  o: NodeProcessOptions = {},
): Promise<CzarProcess> {
  const args = [
    "czar",
    "--http-port",
    "0",
    "--mysql-port",
    "0",
    "--data-dir",
    dataDir,
    ...workers.flatMap((w) => ["--worker", w]),
    ...extra,
  ];
  const p = await startNodeProcess(args, "czar listening", o);
  return { ...p, url: `http://127.0.0.1:${p.ready.httpPort as number}`, mysqlPort: p.ready.mysqlPort as number };
}
