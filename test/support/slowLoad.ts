/**
 * A load client that never commits: sends a header and some rows to each chunk given, prints
 * "sent", then waits to be killed. Used to check that a load whose client dies leaves nothing.
 * Usage: node slowLoad.js ADDRESS DATABASE TABLE CHUNK...
 */
import { WorkerClient } from "../../src/worker/client.js";
import { idXHeader } from "./loads.js";

const [address, database, table, ...chunks] = process.argv.slice(2) as [string, string, string, ...string[]];
const client = new WorkerClient(address);
const rows = Buffer.from(Array.from({ length: 5000 }, (_, i) => `${1_000_000 + i},${i / 10}\n`).join(""));
for (const chunk of chunks) {
  const header = idXHeader(`never-${chunk}`, database, table, Number(chunk));
  void client.load(
    header,
    (async function* () {
      yield { part: "ROWS" as const, data: rows };
      await new Promise(() => {}); // never commits
    })(),
  );
}
process.stdout.write("sent\n");
setInterval(() => {}, 1000);
