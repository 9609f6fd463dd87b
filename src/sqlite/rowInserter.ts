import type Database from "better-sqlite3";
import { QservError } from "../common/errors.js";
import { NUMBER } from "../partitioner/columnChecks.js";
import { type Dialect, fieldValue } from "../partitioner/dialect.js";
import { RowScanner } from "../partitioner/rowScanner.js";
import { insertStatement, rowsPerInsert } from "./multiRowInsert.js";
import { type SqliteType, sqliteType } from "./types.js";

const NON_ASCII = /[\x80-\xff]/;
export const BIT = /^BIT\b/i;

/** A BIT field as MySQL dumps it, its value's raw bytes (big-endian), as a 64-bit integer. */
function bitValue(v: string): bigint {
  let n = 0n;
  for (let i = 0; i < v.length; i++) n = (n << 8n) | BigInt(v.charCodeAt(i) & 0xff);
  return BigInt.asIntN(64, n);
}

/** A file's column: its name and MySQL type. */
export interface FileColumn {
  name: string;
  mysqlType: string;
}

/**
 * A delimited field's value (as read: one char a byte; null for NULL) as SQLite takes it for a
 * column of `kind`: text columns as UTF-8, binary columns as bytes, numbers as text so that column
 * affinity stores them exactly (64-bit ids included); an empty number → NULL. A BIT column takes a
 * number, or else the raw bytes MySQL writes for it (b'1' as byte 0x01). Undefined: not a number.
 */
export function fieldValueFor(v: string | null, kind: SqliteType, bit: boolean): unknown {
  if (v === null || (v === "" && kind !== "TEXT" && kind !== "BLOB")) return null;
  if (kind === "BLOB") return Buffer.from(v, "latin1");
  if (kind === "TEXT") return NON_ASCII.test(v) ? Buffer.from(v, "latin1").toString("utf8") : v;
  if (NUMBER.test(v)) return v;
  if (bit) return bitValue(v);
  return undefined;
}

/** Rows of values inserted through prepared INSERTs of up to 64 rows each (the last, partial batch row by row). */
export class PendingRows {
  /** Inserts `batch` rows at once, and one row (for the last, partial batch). */
  private readonly insertBatch: Database.Statement;
  private readonly insertOne: Database.Statement;
  private readonly batch: number;
  /** Values of the rows taken but not inserted yet, row after row. */
  readonly values: unknown[];
  private pendingRows = 0;
  rows = 0;

  constructor(
    db: Database.Database,
    table: string,
    private readonly names: readonly string[],
  ) {
    const insert = (rows: number) => insertStatement(db, table, names.length, rows, names);
    this.batch = rowsPerInsert(names.length);
    this.insertBatch = insert(this.batch);
    this.insertOne = insert(1);
    this.values = new Array(this.batch * names.length);
  }

  /** Where the next row's values go in `values`. */
  get at(): number {
    return this.pendingRows * this.names.length;
  }

  /** The row at `at` is filled in. */
  done(): void {
    this.rows++;
    if (++this.pendingRows === this.batch) {
      this.insertBatch.run(this.values);
      this.pendingRows = 0;
    }
  }

  flush(): void {
    const n = this.names.length;
    for (let r = 0; r < this.pendingRows; r++) this.insertOne.run(this.values.slice(r * n, (r + 1) * n));
    this.pendingRows = 0;
  }
}

/** What the text and the row batch inserters share: the columns' SQLite kinds and BIT flags, the rows pending. */
export abstract class ColumnInserter {
  protected readonly pending: PendingRows;
  protected readonly kinds: SqliteType[];
  protected readonly bits: boolean[];

  constructor(
    db: Database.Database,
    table: string,
    protected readonly columns: readonly FileColumn[],
    protected readonly label: string,
  ) {
    this.kinds = columns.map((c) => sqliteType(c.mysqlType));
    this.bits = columns.map((c) => BIT.test(c.mysqlType.trim()));
    this.pending = new PendingRows(
      db,
      table,
      columns.map((c) => c.name),
    );
  }

  get rows(): number {
    return this.pending.rows;
  }

  /** The next piece (cut anywhere); `final` inserts every row read. */
  abstract feed(data: Buffer, final: boolean): void;

  /** BAD_INPUT naming the label and where (`line 3`, `record 3`). */
  protected fail(where: string, reason: string, details: Record<string, number>): never {
    throw new QservError("BAD_INPUT", `${this.label}, ${where}: ${reason}`, details);
  }
}

/**
 * Inserts delimited text (MySQL LOAD DATA conventions, pieces cut anywhere) into a SQLite table,
 * each field as fieldValueFor takes it. NULL token and empty numeric fields → NULL. A row with the
 * wrong field count or a non-number in a numeric column → BAD_INPUT naming `label`, line and column.
 */
export class RowInserter extends ColumnInserter {
  private readonly scanner: RowScanner;

  constructor(
    db: Database.Database,
    table: string,
    columns: readonly FileColumn[],
    private readonly dialect: Dialect,
    label: string,
  ) {
    super(db, table, columns, label);
    this.scanner = new RowScanner(dialect);
  }

  /** The next piece; `final` flushes a last row without a newline and inserts every row parsed. */
  feed(data: Buffer, final: boolean): void {
    this.scanner.feed(data, final, (buf, _start, line) => this.row(buf, line));
    if (final) this.pending.flush();
  }

  private row(buf: Buffer, line: number): void {
    const { columns, dialect, scanner: sc } = this;
    if (sc.fieldCount !== columns.length) {
      this.fail(`line ${line}`, `expected ${columns.length} fields, got ${sc.fieldCount}`, { line });
    }
    const values = this.pending.values;
    const at = this.pending.at;
    for (let i = 0; i < columns.length; i++) {
      const raw = fieldValue(sc.field(buf, i), dialect);
      const v = fieldValueFor(raw, this.kinds[i] as SqliteType, this.bits[i] === true);
      if (v === undefined) {
        this.fail(`line ${line}`, `column ${columns[i]?.name}: ${JSON.stringify(raw)} is not a number`, { line });
      }
      values[at + i] = v;
    }
    this.pending.done();
  }
}
