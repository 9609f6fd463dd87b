import type Database from "better-sqlite3";
import { QservError } from "../common/errors.js";
import { NUMBER } from "../partitioner/columnChecks.js";
import { type Dialect, fieldValue } from "../partitioner/dialect.js";
import { RowScanner } from "../partitioner/rowScanner.js";
import { insertStatement, rowsPerInsert } from "./multiRowInsert.js";
import { type SqliteType, sqliteType } from "./types.js";

const NON_ASCII = /[\x80-\xff]/;
const BIT = /^BIT\b/i;

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
 * Inserts delimited text (MySQL LOAD DATA conventions, pieces cut anywhere) into a SQLite table,
 * through prepared INSERTs of up to 64 rows each: text columns as UTF-8, binary columns as bytes, numbers handed to
 * SQLite as text so that column affinity stores them exactly (64-bit ids included). A BIT column
 * takes a number, or else the raw bytes MySQL writes for it (b'1' as byte 0x01). NULL token
 * and empty numeric fields → NULL. A row with the wrong field count or a non-number in a numeric
 * column → BAD_INPUT naming `label`, line and column.
 */
export class RowInserter {
  private readonly scanner: RowScanner;
  /** Inserts `batch` rows at once, and one row (for the last, partial batch). */
  private readonly insertBatch: Database.Statement;
  private readonly insertOne: Database.Statement;
  private readonly batch: number;
  /** Values of the rows parsed but not inserted yet, row after row. */
  private readonly pending: unknown[];
  private pendingRows = 0;
  private readonly kinds: SqliteType[];
  private readonly bits: boolean[];
  rows = 0;

  constructor(
    db: Database.Database,
    table: string,
    private readonly columns: readonly FileColumn[],
    private readonly dialect: Dialect,
    private readonly label: string,
  ) {
    this.scanner = new RowScanner(dialect);
    this.kinds = columns.map((c) => sqliteType(c.mysqlType));
    this.bits = columns.map((c) => BIT.test(c.mysqlType.trim()));
    const names = columns.map((c) => c.name);
    const insert = (rows: number) => insertStatement(db, table, names.length, rows, names);
    this.batch = rowsPerInsert(names.length);
    this.insertBatch = insert(this.batch);
    this.insertOne = insert(1);
    this.pending = new Array(this.batch * columns.length);
  }

  /** The next piece; `final` flushes a last row without a newline and inserts every row parsed. */
  feed(data: Buffer, final: boolean): void {
    this.scanner.feed(data, final, (buf, _start, line) => this.row(buf, line));
    if (final) this.flush();
  }

  private flush(): void {
    const n = this.columns.length;
    for (let r = 0; r < this.pendingRows; r++) this.insertOne.run(this.pending.slice(r * n, (r + 1) * n));
    this.pendingRows = 0;
  }

  private row(buf: Buffer, line: number): void {
    const { columns, dialect, scanner: sc } = this;
    if (sc.fieldCount !== columns.length) this.fail(line, `expected ${columns.length} fields, got ${sc.fieldCount}`);
    const values = this.pending;
    const at = this.pendingRows * columns.length;
    for (let i = 0; i < columns.length; i++) {
      const v = fieldValue(sc.field(buf, i), dialect);
      const kind = this.kinds[i] as SqliteType;
      if (v === null || (v === "" && kind !== "TEXT" && kind !== "BLOB")) values[at + i] = null;
      else if (kind === "BLOB") values[at + i] = Buffer.from(v, "latin1");
      else if (kind === "TEXT") values[at + i] = NON_ASCII.test(v) ? Buffer.from(v, "latin1").toString("utf8") : v;
      else if (NUMBER.test(v)) values[at + i] = v;
      else if (this.bits[i]) values[at + i] = bitValue(v);
      else this.fail(line, `column ${columns[i]?.name}: ${JSON.stringify(v)} is not a number`);
    }
    this.rows++;
    if (++this.pendingRows === this.batch) {
      this.insertBatch.run(values);
      this.pendingRows = 0;
    }
  }

  private fail(line: number, reason: string): never {
    throw new QservError("BAD_INPUT", `${this.label}, line ${line}: ${reason}`, { line });
  }
}
