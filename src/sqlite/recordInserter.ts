import type Database from "better-sqlite3";
import { type BatchValue, decodeRecord, RecordReader } from "../common/rowBatch.js";
import { ColumnInserter, type FileColumn, fieldValueFor } from "./rowInserter.js";
import type { SqliteType } from "./types.js";

/** Past this, a double's shortest digits are not its exact integer value: an integer column takes the digits, as a text load does. */
const EXACT = 2 ** 53;

/**
 * Inserts binary row batches (src/common/rowBatch.ts; pieces cut anywhere) into a SQLite table,
 * one decode per record, values bound straight into the prepared INSERTs; each value stored as
 * a text load of the same value stores it. A record with the wrong value count or a FIELD that is
 * not a number in a numeric column → BAD_INPUT naming `label` and the record's number.
 */
export class RecordInserter extends ColumnInserter {
  private readonly reader = new RecordReader();
  private readonly row: BatchValue[];

  constructor(db: Database.Database, table: string, columns: readonly FileColumn[], label: string) {
    super(db, table, columns, label);
    this.row = new Array(columns.length + 1);
  }

  /** The next piece; `final` inserts every record read (and refuses a record cut short). */
  feed(data: Buffer, final: boolean): void {
    this.reader.feed(data, final, (buf, start, end) => this.record(buf, start, end));
    if (final) this.pending.flush();
  }

  private record(buf: Buffer, start: number, end: number): void {
    const { columns, row, kinds } = this;
    const n = decodeRecord(buf, start, end, row);
    if (n !== columns.length) this.bad(`expected ${columns.length} values, got ${n}`);
    const values = this.pending.values;
    const at = this.pending.at;
    for (let i = 0; i < n; i++) {
      const v = row[i] as BatchValue;
      const kind = kinds[i] as SqliteType;
      if (v === null) values[at + i] = null;
      else if (typeof v === "string") {
        const x = fieldValueFor(v, kind, this.bits[i] === true);
        if (x === undefined) this.bad(`column ${columns[i]?.name}: ${JSON.stringify(v)} is not a number`);
        values[at + i] = x;
      } else if (kind === "TEXT" || kind === "BLOB") {
        const s = String(v);
        values[at + i] = kind === "BLOB" ? Buffer.from(s, "latin1") : s;
      } else if (typeof v === "number" && kind !== "REAL" && (v >= EXACT || v <= -EXACT)) values[at + i] = String(v);
      else values[at + i] = v;
    }
    this.pending.done();
  }

  /** The record being inserted is refused. */
  private bad(reason: string): never {
    const record = this.pending.rows + 1;
    return this.fail(`record ${record}`, reason, { record });
  }
}
