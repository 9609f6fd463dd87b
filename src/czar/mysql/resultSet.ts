/** Text result sets: column definitions from the czar's column types, rows as length-encoded text. */
import type { ColumnType } from "../../common/jsonValue.js";
import type { Value } from "../../common/rowCodec.js";
import type { ResultColumnInfo } from "../czar.js";
import { UTF8_CHARSET } from "./handshake.js";
import { PayloadWriter } from "./packets.js";

const BINARY_CHARSET = 63;
const FLAG = { BLOB: 16, BINARY: 128, NUM: 32768 } as const;

/** MySQL column type, length, charset, flags and decimals of each storage class. */
const TYPES: Record<ColumnType, { type: number; length: number; charset: number; flags: number; decimals: number }> = {
  INTEGER: { type: 0x08, length: 20, charset: BINARY_CHARSET, flags: FLAG.BINARY | FLAG.NUM, decimals: 0 },
  REAL: { type: 0x05, length: 22, charset: BINARY_CHARSET, flags: FLAG.BINARY | FLAG.NUM, decimals: 31 },
  TEXT: { type: 0xfd, length: 65535 * 3, charset: UTF8_CHARSET, flags: 0, decimals: 0 },
  BLOB: { type: 0xfc, length: 65535, charset: BINARY_CHARSET, flags: FLAG.BLOB | FLAG.BINARY, decimals: 0 },
  NULL: { type: 0x06, length: 0, charset: BINARY_CHARSET, flags: FLAG.BINARY, decimals: 0 },
};

export function columnCountPayload(n: number): Buffer {
  return new PayloadWriter().lenInt(n).build();
}

export function columnPayload(c: ResultColumnInfo, schema: string): Buffer {
  const t = TYPES[c.type];
  return new PayloadWriter()
    .lenString("def")
    .lenString(schema)
    .lenString("")
    .lenString("")
    .lenString(c.name)
    .lenString(c.name)
    .lenInt(0x0c)
    .int2(t.charset)
    .int4(t.length)
    .int1(t.type)
    .int2(t.flags)
    .int1(t.decimals)
    .int2(0)
    .build();
}

/** A value as MySQL's text protocol sends it (an integral REAL in an INTEGER column as an integer). */
function text(v: Exclude<Value, null>, type: ColumnType): string | Uint8Array {
  if (typeof v === "number" && type === "INTEGER" && Number.isInteger(v)) return v.toFixed(0);
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  return v;
}

/** Bytes of a length-encoded integer. */
const lenIntSize = (n: number) => (n < 251 ? 1 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 9);

/** One text row; built in a single allocation (this runs once per row of every result). */
export function rowPayload(row: ReadonlyArray<Value>, columns: ReadonlyArray<ResultColumnInfo>): Buffer {
  const parts: Array<Buffer | null> = row.map((v, i) => {
    if (v === null) return null;
    const t = text(v, columns[i]?.type ?? "TEXT");
    return typeof t === "string" ? Buffer.from(t, "utf8") : Buffer.from(t.buffer, t.byteOffset, t.byteLength);
  });
  let size = 0;
  for (const p of parts) size += p === null ? 1 : lenIntSize(p.length) + p.length;
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (const p of parts) {
    if (p === null) {
      out[off++] = 0xfb;
      continue;
    }
    const n = p.length;
    if (n < 251) out[off++] = n;
    else if (n < 0x10000) {
      out[off] = 0xfc;
      out.writeUInt16LE(n, off + 1);
      off += 3;
    } else if (n < 0x1000000) {
      out[off] = 0xfd;
      out.writeUIntLE(n, off + 1, 3);
      off += 4;
    } else {
      out[off] = 0xfe;
      out.writeBigUInt64LE(BigInt(n), off + 1);
      off += 9;
    }
    off += p.copy(out, off);
  }
  return out;
}
