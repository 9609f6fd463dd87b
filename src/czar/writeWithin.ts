/**
 * Writing a result to a client that may stop reading: a write whose buffer is full waits for it
 * to drain at most the connection's write timeout (MySQL's net_write_timeout), then gives the
 * client up (the stream is destroyed); a stream closed meanwhile fails the write at once.
 */
import type { Writable } from "node:stream";
import { QservError } from "../common/errors.js";

export const DEFAULT_NET_WRITE_TIMEOUT_S = 60;

const gone = () => new QservError("CANCELLED", "the client went away");

/** Writes `data`; resolves once the stream can take more. `timeoutMs` 0: no limit. */
export async function writeWithin(stream: Writable, data: Buffer | string, timeoutMs: number): Promise<void> {
  if (stream.destroyed) throw gone();
  if (stream.write(data)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: QservError) => {
      if (timer !== undefined) clearTimeout(timer);
      stream.off("drain", onDrain);
      stream.off("close", onClose);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = () => done();
    const onClose = () => done(gone());
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            const s = timeoutMs / 1000;
            done(
              new QservError("CANCELLED", `the client read nothing for ${s} s (net_write_timeout): connection closed`),
            );
            stream.destroy();
          }, timeoutMs)
        : undefined;
    stream.on("drain", onDrain);
    stream.once("close", onClose);
    if (stream.destroyed) onClose();
  });
}
