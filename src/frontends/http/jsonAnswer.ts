/**
 * A query's answer over HTTP, written as it comes: `{"columns":[...],"rows":[` then the rows
 * batch by batch, then `],"stats":{...}}`; the whole text is never built. Up to the first
 * `FLUSH_BYTES` nothing is sent, so a small answer (or an error before it) goes out whole with
 * its status and a content-length; past that the body is chunked. An error after the body has
 * started is written as `],"error":{...}}` (no "stats") and the connection is closed without
 * the final chunk, so a client sees an incomplete transfer.
 */
import type http from "node:http";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { type ColumnType, toJsonValue, valueType } from "../../common/jsonValue.js";
import type { Value } from "../../common/rowCodec.js";
import type { ResultColumnInfo } from "../../czar/czar.js";
import { writeWithin } from "../../czar/writeWithin.js";

/** Bytes of JSON gathered before they are written (each write may wait for the client). */
const FLUSH_BYTES = 256 << 10;

export interface JsonAnswerStats {
  chunks: number;
  retries: number;
  elapsedMs: number;
}

export class JsonAnswer {
  private pending: string[] = [];
  private pendingBytes = 0;
  private count = 0;
  private columns: Array<{ name: string; type: ColumnType }> = [];
  /** The status line and part of the body are out: an error can no longer be a status. */
  started = false;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly timeoutMs: number,
  ) {}

  async header(columns: readonly ResultColumnInfo[]): Promise<void> {
    this.columns = columns.map(({ name, type }) => ({ name, type }));
  }

  async rows(rows: readonly Value[][]): Promise<void> {
    // Until the header goes out, a column typed NULL takes the type of its first value.
    if (!this.started) {
      for (const [i, c] of this.columns.entries()) {
        if (c.type !== "NULL") continue;
        const v = rows.find((r) => (r[i] ?? null) !== null)?.[i];
        if (v !== undefined && v !== null) c.type = valueType(v);
      }
    }
    for (const r of rows) this.put(`${this.count++ === 0 ? "" : ","}${JSON.stringify(r.map(toJsonValue))}`);
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
    // A turn of the event loop between batches: other clients are answered while a large one is written.
    await yieldToLoop();
  }

  /** The answer's end: stats (with the row count), then the response is finished. */
  async end(stats: JsonAnswerStats): Promise<void> {
    const { chunks, retries } = stats;
    const elapsedMs = Math.round(stats.elapsedMs * 10) / 10;
    this.put(`],"stats":${JSON.stringify({ chunks, retries, rows: this.count, elapsedMs })}}`);
    if (!this.started) {
      const body = Buffer.from(this.head() + this.pending.join(""), "utf8");
      this.res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": body.length });
      this.started = true;
      this.pending = [];
      await writeWithin(this.res, body, this.timeoutMs);
    } else {
      await this.flush();
    }
    this.res.end();
  }

  /** An error after the body started: its `error` member, then the connection cut short. */
  async fail(error: unknown): Promise<void> {
    this.pending = [`],"error":${JSON.stringify(error)}}`];
    this.pendingBytes = 0;
    try {
      if (!this.res.destroyed) await this.flush();
    } finally {
      const socket = this.res.socket;
      if (socket === null) this.res.destroy();
      else socket.destroySoon();
    }
  }

  private head(): string {
    return `{"columns":${JSON.stringify(this.columns)},"rows":[`;
  }

  private put(s: string): void {
    this.pending.push(s);
    this.pendingBytes += s.length;
  }

  private async flush(): Promise<void> {
    let data = "";
    if (!this.started) {
      this.res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      this.started = true;
      data = this.head();
    }
    data += this.pending.join("");
    this.pending = [];
    this.pendingBytes = 0;
    await writeWithin(this.res, data, this.timeoutMs);
  }
}
