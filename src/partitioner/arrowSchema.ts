/**
 * Field metadata of the Arrow schema that Arrow's Parquet writers (pyarrow, arrow-rs, parquet-wasm)
 * store in a Parquet file's `ARROW:schema` key: base64 of an Arrow IPC Schema message, a
 * FlatBuffer (format/Message.fbs, Schema.fbs). Only what `describe` uses is read: each top-level
 * field's name and custom_metadata.
 */
import type { ColumnMeta } from "./astropyMeta.js";

/** A FlatBuffer table at `pos`: its fields by index (absent: undefined). */
class Table {
  private readonly vtable: number;
  private readonly vsize: number;

  constructor(
    private readonly b: Buffer,
    readonly pos: number,
  ) {
    this.vtable = pos - b.readInt32LE(pos);
    this.vsize = b.readUInt16LE(this.vtable);
  }

  private field(i: number): number | undefined {
    const at = 4 + 2 * i;
    if (at >= this.vsize) return undefined;
    const off = this.b.readUInt16LE(this.vtable + at);
    return off === 0 ? undefined : this.pos + off;
  }

  /** The object an offset field points to. */
  private ref(i: number): number | undefined {
    const at = this.field(i);
    return at === undefined ? undefined : at + this.b.readUInt32LE(at);
  }

  table(i: number): Table | undefined {
    const at = this.ref(i);
    return at === undefined ? undefined : new Table(this.b, at);
  }

  string(i: number): string | undefined {
    const at = this.ref(i);
    return at === undefined ? undefined : this.b.toString("utf8", at + 4, at + 4 + this.b.readUInt32LE(at));
  }

  tables(i: number): Table[] {
    const at = this.ref(i);
    if (at === undefined) return [];
    const n = this.b.readUInt32LE(at);
    return Array.from({ length: n }, (_, k) => {
      const e = at + 4 + 4 * k;
      return new Table(this.b, e + this.b.readUInt32LE(e));
    });
  }
}

const UNIT = /^(unit|units)$/i;
const DESCRIPTION = /^(description|desc|doc|comment)$/i;
const UCD = /^ucd$/i;

/**
 * Units, descriptions and UCDs of the top-level fields, by name, from an `ARROW:schema` value
 * (keys `unit`/`units`, `description`/`doc`/`comment`, `ucd`, any case); empty when it holds none
 * or cannot be read (the metadata is a courtesy: the columns come from the Parquet schema).
 */
export function arrowFieldMeta(base64: string): Map<string, ColumnMeta & { ucd?: string }> {
  const out = new Map<string, ColumnMeta & { ucd?: string }>();
  try {
    let b = Buffer.from(base64, "base64");
    // An IPC message: 0xFFFFFFFF (continuation, since Arrow 0.15), its length, then the Message.
    if (b.readUInt32LE(0) === 0xffffffff) b = b.subarray(8);
    else b = b.subarray(4);
    const message = new Table(b, b.readUInt32LE(0));
    const schema = message.table(2); // Message.header (a Schema: header_type 1)
    for (const f of schema?.tables(1) ?? []) {
      const name = f.string(0);
      if (name === undefined) continue;
      const meta: ColumnMeta & { ucd?: string } = {};
      for (const kv of f.tables(6)) {
        const k = kv.string(0) ?? "";
        const v = kv.string(1) ?? "";
        if (v === "") continue;
        if (UNIT.test(k)) meta.unit = v;
        else if (DESCRIPTION.test(k)) meta.description = v;
        else if (UCD.test(k)) meta.ucd = v;
      }
      if (Object.keys(meta).length > 0) out.set(name, meta);
    }
  } catch {
    out.clear();
  }
  return out;
}
