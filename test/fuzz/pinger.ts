/**
 * The fuzz run's other client, in a thread of its own so that the fuzzer's own work (making
 * inputs, reading answers) never delays its clock: `SELECT 1` over HTTP on one keep-alive
 * connection, back to back, posting `{ at, ms }` (at: when it was answered, ms since the epoch)
 * for each until told "stop".
 */
import http from "node:http";
import { parentPort, workerData } from "node:worker_threads";

const { port } = workerData as { port: number };
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let stop = false;
parentPort?.on("message", (m) => {
  if (m === "stop") stop = true;
});

const ping = () =>
  new Promise<void>((resolve) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: "/query",
        method: "POST",
        agent,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        res.resume();
        res.on("end", resolve);
        res.on("error", () => resolve());
      },
    );
    req.on("error", () => resolve());
    req.end(JSON.stringify({ query: "SELECT 1" }));
  });

while (!stop) {
  const t = performance.now();
  await ping();
  parentPort?.postMessage({ at: performance.timeOrigin + performance.now(), ms: performance.now() - t });
}
agent.destroy();
parentPort?.close();
