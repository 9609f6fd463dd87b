/**
 * Partial aggregation across the chunks of a batched query call (QueryRequest.combine_ops): the
 * chunks' partial rows are combined by group (common/partialCombine.ts) as they come from the
 * executor threads, and the combined rows are sent once the last chunk is done, followed by every
 * chunk's ChunkDone, so that the czar receives one partial per group from the call, not one per
 * chunk, and the batch completes as a whole (a call that fails completes none of its chunks).
 */
import { type CombineSpec, combineSpecOf, FlushingCombiner } from "../common/partialCombine.js";
import { decodeRows, RowEncoder, type Value } from "../common/rowCodec.js";
import type { QueryRequest } from "./messages.js";

/** The combination a request asks for: a batch with combine_ops this worker knows; else null. */
export function requestedCombine(req: QueryRequest): CombineSpec | null {
  if (req.chunks.length < 2 || req.combineOps === undefined || req.combineOps.length === 0) return null;
  return combineSpecOf(req.combineOps, req.combineOrder ?? -1);
}

export class BatchCombine {
  private readonly combiner: FlushingCombiner;
  private readonly encoder = new RowEncoder();
  private readonly done: Array<{ chunkId: number; rowCount: number }> = [];
  /** Rows sent (combined or refused). */
  rowsOut = 0;

  /** `send`: one encoded batch of rows to the caller. */
  constructor(
    spec: CombineSpec,
    private readonly ncols: () => number,
    private readonly send: (rowCount: number, rows: Buffer) => void,
    private readonly maxBatchRows: number,
  ) {
    this.combiner = new FlushingCombiner(spec, (rows) => this.write(rows));
  }

  /** A batch of one chunk's rows, as the executor thread encoded them. */
  rows(count: number, data: Buffer): void {
    this.combiner.add(decodeRows(data, this.ncols(), count));
  }

  /** A chunk is done: its ChunkDone waits for the end; an empty batch tells the caller the call is alive. */
  chunkDone(chunkId: number, rowCount: number): void {
    this.done.push({ chunkId, rowCount });
    this.send(0, Buffer.alloc(0));
  }

  /** The combined rows, sent; then the ChunkDones, in order, to write. */
  end(): Array<{ chunkId: number; rowCount: number }> {
    this.combiner.end();
    return this.done;
  }

  private write(rows: readonly Value[][]): void {
    for (const r of rows) {
      this.encoder.append(r);
      if (this.encoder.rows >= this.maxBatchRows) this.flush();
    }
    this.flush();
  }

  private flush(): void {
    if (this.encoder.rows === 0) return;
    const n = this.encoder.rows;
    this.rowsOut += n;
    this.send(n, this.encoder.take());
  }
}
