import type Database from "better-sqlite3";
import { QservError } from "../common/errors.js";
import { type BatchValue, decodeRecord, RecordReader } from "../common/rowBatch.js";
import { BIT, type FileColumn, fieldValueFor, PendingRows } from "./rowInserter.js";
import { type SqliteType, sqliteType } from "./types.js";

/** Past this, a double's shortest digits are not its exact integer value: an integer column takes the digits, as a text load does. */
const EXACT = 2 ** 53;

/**
 * Inserts binary row batches (src/common/rowBatch.ts; pieces cut anywhere) into a SQLite table,
 * one decode per record, values bound straight into the prepared INSERTs; each value stored as
 * a text load of the same value stores it. A record with the wrong value count or a FIELD that is
 * not a number in a numeric column → BAD_INPUT naming `label` and the record's number.
 */
export class RecordInserter {
  private readonly reader = new RecordReader();
  private readonly pending: PendingRows;
  private readonly kinds: SqliteType[];
  private readonly bits: boolean[];
  private readonly row: BatchValue[];

  constructor(
    db: Database.Database,
    table: string,
    private readonly columns: readonly FileColumn[],
    private readonly label: string,
  ) {
    this.kinds = columns.map((c) => sqliteType(c.mysqlType));
    this.bits = columns.map((c) => BIT.test(c.mysqlType.trim()));
    this.row = new Array(columns.length + 1);
    this.pending = new PendingRows(
      db,
      table,
      columns.map((c) => c.name),
    );
  }

  get rows(): number {
    return this.pending.rows;
  }

  /** The next piece; `final` inserts every record read (and refuses a record cut short). */
  feed(data: Buffer, final: boolean): void {
    this.reader.feed(data, final, (buf, start, end) => this.record(buf, start, end));
    if (final) this.pending.flush();
  }

  private record(buf: Buffer, start: number, end: number): void {
    const { columns, row, kinds } = this;
    const n = decodeRecord(buf, start, end, row);
    const record = this.pending.rows + 1;
    if (n !== columns.length) this.fail(record, `expected ${columns.length} values, got ${n}`);
    const values = this.pending.values;
    const at = this.pending.at;
    for (let i = 0; i < n; i++) {
      const v = row[i] as BatchValue;
      const kind = kinds[i] as SqliteType;
      if (v === null) values[at + i] = null;
      else if (typeof v === "string") {
        const x = fieldValueFor(v, kind, this.bits[i] === true);
        if (x === undefined) this.fail(record, `column ${columns[i]?.name}: ${JSON.stringify(v)} is not a number`);
        values[at + i] = x;
      } else if (kind === "TEXT" || kind === "BLOB") {
        const s = String(v);
        values[at + i] = kind === "BLOB" ? Buffer.from(s, "latin1") : s;
      } else if (typeof v === "number" && kind !== "REAL" && (v >= EXACT || v <= -EXACT)) values[at + i] = String(v);
      else values[at + i] = v;
    }
    this.pending.done();
  }

  private fail(record: number, reason: string): never {
    throw new QservError("BAD_INPUT", `${this.label}, record ${record}: ${reason}`, { record });
  }
}
