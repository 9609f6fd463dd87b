/** The benchmarks' cluster: a czar and two workers (`up()`, one replica) on free loopback ports. */
import { type UpCluster, up } from "../src/cluster/up.js";

export function upTwoWorkers(
  dataDir: string,
  czarArgs: string[],
  write: (s: string) => void = () => {},
): Promise<UpCluster> {
  return up({ dataDir, workers: 2, replicas: 1, httpPort: 0, mysqlPort: 0, write, czarArgs });
}
