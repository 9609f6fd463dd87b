import type * as grpc from "@grpc/grpc-js";
import { QservError } from "../common/errors.js";
import { type CallOptions, callOptions } from "./client.js";
import { fromGrpcError, ServiceClient, transferService } from "./grpc.js";
import type { ExportResponse, FileHeader, ImportRequest, ImportResponse } from "./messages.js";
import { TRANSFER_PIECE_BYTES } from "./transfer.js";

/** The methods grpc-js generates for the ChunkTransfer service. */
interface RawClient extends grpc.Client {
  export(req: unknown, o: grpc.CallOptions): grpc.ClientReadableStream<ExportResponse>;
  import(
    o: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, r: ImportResponse) => void,
  ): grpc.ClientWritableStream<ImportRequest>;
}

/** A typed client of one worker's ChunkTransfer service. */
export class TransferClient extends ServiceClient<RawClient> {
  /** `secret`: the cluster secret, sent with every call. */
  constructor(address: string, secret?: string) {
    super(address, transferService(), secret);
  }

  /** A snapshot of a chunk file: its header, then its bytes as they arrive. */
  async *exportChunk(database: string, chunkId: number, o: CallOptions = {}): AsyncGenerator<ExportResponse> {
    const call = this.client.export({ database, chunkId }, callOptions(o));
    const abort = () => call.cancel();
    o.signal?.addEventListener("abort", abort, { once: true });
    let ended = false;
    try {
      for await (const m of call as AsyncIterable<ExportResponse>) yield m;
      ended = true;
    } catch (e) {
      if (o.signal?.aborted) throw new QservError("CANCELLED", "export cancelled");
      throw fromGrpcError(e, this.address);
    } finally {
      o.signal?.removeEventListener("abort", abort);
      if (!ended) call.cancel();
    }
  }

  /** Sends a chunk file; the worker checks it against `header` and installs it. */
  importChunk(
    header: FileHeader,
    pieces: AsyncIterable<Buffer> | Iterable<Buffer>,
    o: CallOptions = {},
  ): Promise<ImportResponse> {
    return new Promise((resolve, reject) => {
      const call = this.client.import(callOptions(o), (err, r) =>
        err ? reject(fromGrpcError(err, this.address)) : resolve(r),
      );
      const abort = () => call.cancel();
      o.signal?.addEventListener("abort", abort, { once: true });
      const send = async () => {
        const write = async (m: ImportRequest) => {
          if (!call.write(m)) await new Promise((r) => call.once("drain", r));
        };
        await write({ part: "header", header });
        for await (const p of pieces) {
          for (let off = 0; off < p.length; off += TRANSFER_PIECE_BYTES) {
            await write({ part: "data", data: p.subarray(off, off + TRANSFER_PIECE_BYTES) });
          }
        }
        call.end();
      };
      send()
        .catch((e) => {
          call.cancel();
          reject(e);
        })
        .finally(() => o.signal?.removeEventListener("abort", abort));
    });
  }
}

/** Copies a chunk file from one worker to another, streamed through this process. */
export async function copyChunk(
  from: TransferClient,
  to: TransferClient,
  database: string,
  chunkId: number,
  o: CallOptions = {},
): Promise<ImportResponse> {
  const stream = from.exportChunk(database, chunkId, o);
  const first = await stream.next();
  if (first.done === true || first.value.part !== "header") {
    await stream.return(undefined);
    throw new QservError("INTERNAL", `${from.address}: export of chunk ${chunkId} did not start with a header`);
  }
  const header = first.value.header;
  async function* pieces(): AsyncGenerator<Buffer> {
    for await (const m of stream) {
      if (m.part !== "data") throw new QservError("INTERNAL", `${from.address}: a second export header`);
      yield m.data;
    }
  }
  try {
    return await to.importChunk(header, pieces(), o);
  } finally {
    await stream.return(undefined);
  }
}
