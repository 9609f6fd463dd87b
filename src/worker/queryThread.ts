/**
 * A query executor thread: runs one SELECT at a time on a chunk file (chunkExec.ts), so the main
 * thread's event loop stays free. After each batch the thread waits for a credit from the main
 * thread, which grants one when gRPC has taken the previous batch (backpressure). The main thread
 * cancels by writing the job number to the shared control array; the next row or wait sees it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Cancelled, ChunkExecutor } from "./chunkExec.js";
import { CTRL_CANCEL, CTRL_CREDITS, type FromQueryThread, type ToQueryThread } from "./threadMessages.js";

const port = parentPort!;
const ctrl = new Int32Array(workerData.ctrl as SharedArrayBuffer);
const cancelled = (job: number) => Atomics.load(ctrl, CTRL_CANCEL) === job;

const executor = new ChunkExecutor(workerData.maxConnections as number, {
  post: (m: FromQueryThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer),
  cancelled,
  afterBatch(job) {
    Atomics.sub(ctrl, CTRL_CREDITS, 1);
    for (;;) {
      const credits = Atomics.load(ctrl, CTRL_CREDITS);
      if (credits > 0) return;
      if (cancelled(job)) throw new Cancelled();
      Atomics.wait(ctrl, CTRL_CREDITS, credits, 100);
    }
  },
});

port.on("message", (m: ToQueryThread) => {
  if (m.t === "query") executor.run(m);
  else executor.closeFile(m.file);
});
