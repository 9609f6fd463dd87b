/**
 * Text result sets: column definitions from the czar's column types (MySQL's type of the item
 * where the planner derived one, else the values' storage class), rows as length-encoded text
 * printed as MySQL prints them.
 */
import type { ColumnType } from "../../common/jsonValue.js";
import { formatDecimal, formatDouble } from "../../common/mysqlFormat.js";
import type { Value } from "../../common/rowCodec.js";
import type { ResultColumnInfo } from "../../czar/czar.js";
import { type MysqlType, T } from "../../czar/sql/resultTypes.js";
import { UTF8_CHARSET } from "./handshake.js";
import { PayloadWriter } from "./packets.js";

const BINARY_CHARSET = 63;
const FLAG = { BLOB: 16, UNSIGNED: 32, BINARY: 128, NUM: 32768 } as const;

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

/** The column definition of a derived MySQL type. */
function derived(m: MysqlType): { type: number; length: number; charset: number; flags: number; decimals: number } {
  const text = m.type === T.VAR_STRING || m.type === T.STRING || m.type === T.BLOB;
  if (text) {
    const flags = (m.type === T.BLOB ? FLAG.BLOB : 0) | (m.binary ? FLAG.BINARY : 0);
    return { type: m.type, length: 65535, charset: m.binary ? BINARY_CHARSET : UTF8_CHARSET, flags, decimals: 0 };
  }
  const numeric = m.type !== T.NULL && m.type !== T.DATE && m.type !== T.DATETIME;
  const flags = FLAG.BINARY | (numeric ? FLAG.NUM : 0) | (m.unsigned ? FLAG.UNSIGNED : 0);
  return { type: m.type, length: 22, charset: BINARY_CHARSET, flags, decimals: m.decimals };
}

export function columnPayload(c: ResultColumnInfo, schema: string): Buffer {
  const t = c.mysql === undefined || c.mysql === null ? TYPES[c.type] : derived(c.mysql);
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
function text(v: Exclude<Value, null>, type: ColumnType, m: MysqlType | null | undefined): string | Uint8Array {
  if (m !== undefined && m !== null && (typeof v === "number" || typeof v === "bigint" || m.type === T.NEWDECIMAL)) {
    if (m.type === T.DOUBLE || m.type === T.FLOAT) return formatDouble(Number(v), m.decimals);
    if (m.type === T.NEWDECIMAL && !(v instanceof Uint8Array)) return formatDecimal(v, m.decimals);
    // A hexadecimal literal: SQLite computed its number, MySQL shows its bytes.
    if (m.binary && typeof v === "bigint") return Buffer.from(hexBytes(v), "hex");
  }
  if (typeof v === "number" && type === "INTEGER" && Number.isInteger(v)) return v.toFixed(0);
  if (typeof v === "number") return formatDouble(v);
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  return v;
}

function hexBytes(v: bigint): string {
  const h = BigInt.asUintN(64, v).toString(16);
  return h.length % 2 === 0 ? h : `0${h}`;
}

/** Bytes of a length-encoded integer. */
const lenIntSize = (n: number) => (n < 251 ? 1 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 9);

/** One text row; built in a single allocation (this runs once per row of every result). */
export function rowPayload(row: ReadonlyArray<Value>, columns: ReadonlyArray<ResultColumnInfo>): Buffer {
  const parts: Array<Buffer | null> = row.map((v, i) => {
    if (v === null) return null;
    const c = columns[i];
    const t = text(v, c?.type ?? "TEXT", c?.mysql);
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
