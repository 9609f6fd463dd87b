/**
 * MySQL client/server protocol framing and basic types: packets (3-byte length, sequence id,
 * payload), length-encoded integers and strings, and the generic OK / ERR / EOF packets.
 */

import { QservError } from "../../common/errors.js";

/** Largest payload of one packet; longer ones continue in the next packet. */
const MAX_PAYLOAD = 0xffffff;

export interface Packet {
  seq: number;
  payload: Buffer;
}

/** MySQL's default max_allowed_packet (64 MiB): the largest payload a client may send. */
export const DEFAULT_MAX_PACKET = 64 << 20;

/**
 * Splits a byte stream into packets (joining a payload split over several packets). Bytes are
 * joined once a packet is whole (linear in its size); a payload over `maxPacket` bytes throws
 * TOO_LARGE as soon as its length says so (MySQL's ER_NET_PACKET_TOO_LARGE).
 */
export class PacketParser {
  private chunks: Buffer[] = [];
  private held = 0;
  private partial: Buffer[] = [];
  private partialBytes = 0;

  constructor(private readonly maxPacket: number = DEFAULT_MAX_PACKET) {}

  /** Feeds bytes; returns the packets they complete. */
  push(data: Buffer): Packet[] {
    this.chunks.push(data);
    this.held += data.length;
    const out: Packet[] = [];
    for (;;) {
      if (this.held < 4) break;
      const head = this.peekHead();
      const len = head.readUIntLE(0, 3);
      if (this.partialBytes + len > this.maxPacket) {
        throw new QservError("TOO_LARGE", "Got a packet bigger than 'max_allowed_packet' bytes", {
          limit: this.maxPacket,
        });
      }
      if (this.held < 4 + len) break;
      const whole = this.take(4 + len);
      const seq = whole[3] as number;
      const payload = whole.subarray(4);
      this.partial.push(payload);
      this.partialBytes += len;
      if (len === MAX_PAYLOAD) continue;
      out.push({ seq, payload: this.partial.length === 1 ? payload : Buffer.concat(this.partial) });
      this.partial = [];
      this.partialBytes = 0;
    }
    return out;
  }

  /** The first 4 held bytes (joining the first chunks only when the first is shorter). */
  private peekHead(): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first;
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  /** Removes and returns the first `n` held bytes. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let whole: Buffer;
    if (first.length >= n) {
      whole = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      whole = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.held -= n;
    return whole;
  }
}

/** Frames a payload as packets starting at sequence id `seq`; returns the bytes and the next id. */
export function frame(payload: Buffer, seq: number): { bytes: Buffer; next: number } {
  if (payload.length < MAX_PAYLOAD) {
    const bytes = Buffer.allocUnsafe(4 + payload.length);
    bytes.writeUIntLE(payload.length, 0, 3);
    bytes[3] = seq & 0xff;
    payload.copy(bytes, 4);
    return { bytes, next: (seq + 1) & 0xff };
  }
  const parts: Buffer[] = [];
  let off = 0;
  for (;;) {
    const len = Math.min(MAX_PAYLOAD, payload.length - off);
    const head = Buffer.alloc(4);
    head.writeUIntLE(len, 0, 3);
    head[3] = seq & 0xff;
    seq++;
    parts.push(head, payload.subarray(off, off + len));
    off += len;
    if (len < MAX_PAYLOAD) break;
  }
  return { bytes: Buffer.concat(parts), next: seq & 0xff };
}

/** Builds a payload piece by piece. */
export class PayloadWriter {
  private parts: Buffer[] = [];

  int1(n: number): this {
    this.parts.push(Buffer.from([n & 0xff]));
    return this;
  }
  int2(n: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(n & 0xffff);
    this.parts.push(b);
    return this;
  }
  int4(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    this.parts.push(b);
    return this;
  }
  bytes(b: Uint8Array): this {
    this.parts.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    return this;
  }
  nulString(s: string): this {
    this.parts.push(Buffer.from(s, "utf8"), Buffer.from([0]));
    return this;
  }
  /** Length-encoded integer. */
  lenInt(n: number): this {
    if (n < 251) return this.int1(n);
    if (n < 0x10000) return this.int1(0xfc).int2(n);
    if (n < 0x1000000) {
      const b = Buffer.alloc(4);
      b[0] = 0xfd;
      b.writeUIntLE(n, 1, 3);
      this.parts.push(b);
      return this;
    }
    const b = Buffer.alloc(9);
    b[0] = 0xfe;
    b.writeBigUInt64LE(BigInt(n), 1);
    this.parts.push(b);
    return this;
  }
  /** Length-encoded string (text as UTF-8, or raw bytes). */
  lenString(v: string | Uint8Array): this {
    const b = typeof v === "string" ? Buffer.from(v, "utf8") : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    return this.lenInt(b.length).bytes(b);
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Reads a payload field by field. */
/** Reads a payload's fields; reading past its end throws BAD_ARGUMENT "malformed packet" (never a RangeError). */
export class PayloadReader {
  off = 0;
  constructor(readonly b: Buffer) {}

  get left(): number {
    return this.b.length - this.off;
  }
  private need(n: number): void {
    if (n > this.b.length - this.off) throw new QservError("BAD_ARGUMENT", "malformed packet");
  }
  int1(): number {
    this.need(1);
    return this.b[this.off++] as number;
  }
  int2(): number {
    this.need(2);
    const v = this.b.readUInt16LE(this.off);
    this.off += 2;
    return v;
  }
  int4(): number {
    this.need(4);
    const v = this.b.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  lenInt(): number {
    const first = this.int1();
    if (first < 251) return first;
    if (first === 0xfc) return this.int2();
    if (first === 0xfd) {
      this.need(3);
      const v = this.b.readUIntLE(this.off, 3);
      this.off += 3;
      return v;
    }
    this.need(8);
    const v = Number(this.b.readBigUInt64LE(this.off));
    this.off += 8;
    return v;
  }
  nulString(): string {
    let end = this.b.indexOf(0, this.off);
    if (end < 0) end = this.b.length;
    const s = this.b.toString("utf8", this.off, end);
    this.off = Math.min(end + 1, this.b.length);
    return s;
  }
  rest(): Buffer {
    return this.bytes(this.left);
  }
}

/** Server status flag: autocommit is on (we have no transactions). */
export const SERVER_STATUS_AUTOCOMMIT = 0x0002;

export function okPayload(o: { affectedRows?: number; info?: string } = {}): Buffer {
  const w = new PayloadWriter()
    .int1(0x00)
    .lenInt(o.affectedRows ?? 0)
    .lenInt(0)
    .int2(SERVER_STATUS_AUTOCOMMIT)
    .int2(0);
  if (o.info) w.bytes(Buffer.from(o.info, "utf8"));
  return w.build();
}

export function errPayload(code: number, sqlState: string, message: string): Buffer {
  return new PayloadWriter()
    .int1(0xff)
    .int2(code)
    .bytes(Buffer.from(`#${sqlState.padEnd(5, "0").slice(0, 5)}`, "ascii"))
    .bytes(Buffer.from(message, "utf8"))
    .build();
}

export function eofPayload(): Buffer {
  return new PayloadWriter().int1(0xfe).int2(0).int2(SERVER_STATUS_AUTOCOMMIT).build();
}
