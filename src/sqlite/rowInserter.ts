import type Database from "better-sqlite3";
import { QservError } from "../common/errors.js";
import { type Dialect, fieldValue } from "../partitioner/dialect.js";
import { RowScanner } from "../partitioner/rowScanner.js";
import { quoteIdent, type SqliteType, sqliteType } from "./types.js";

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
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
 * one prepared INSERT per row: text columns as UTF-8, binary columns as bytes, numbers handed to
 * SQLite as text so that column affinity stores them exactly (64-bit ids included). A BIT column
 * takes a number, or else the raw bytes MySQL writes for it (b'1' as byte 0x01). NULL token
 * and empty numeric fields → NULL. A row with the wrong field count or a non-number in a numeric
 * column → BAD_INPUT naming `label`, line and column.
 */
export class RowInserter {
  private readonly scanner: RowScanner;
  private readonly insert: Database.Statement;
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
    const names = columns.map((c) => quoteIdent(c.name)).join(", ");
    const marks = columns.map(() => "?").join(", ");
    this.insert = db.prepare(`INSERT INTO ${quoteIdent(table)} (${names}) VALUES (${marks})`);
  }

  /** The next piece; `final` flushes a last row without a newline. */
  feed(data: Buffer, final: boolean): void {
    this.scanner.feed(data, final, (buf, _start, line) => this.row(buf, line));
  }

  private row(buf: Buffer, line: number): void {
    const { columns, dialect, scanner: sc } = this;
    if (sc.fieldCount !== columns.length) this.fail(line, `expected ${columns.length} fields, got ${sc.fieldCount}`);
    const values: unknown[] = new Array(columns.length);
    for (let i = 0; i < columns.length; i++) {
      const v = fieldValue(sc.field(buf, i), dialect);
      const kind = this.kinds[i] as SqliteType;
      if (v === null || (v === "" && kind !== "TEXT" && kind !== "BLOB")) values[i] = null;
      else if (kind === "BLOB") values[i] = Buffer.from(v, "latin1");
      else if (kind === "TEXT") values[i] = NON_ASCII.test(v) ? Buffer.from(v, "latin1").toString("utf8") : v;
      else if (NUMBER.test(v)) values[i] = v;
      else if (this.bits[i]) values[i] = bitValue(v);
      else this.fail(line, `column ${columns[i]?.name}: ${JSON.stringify(v)} is not a number`);
    }
    this.insert.run(values);
    this.rows++;
  }

  private fail(line: number, reason: string): never {
    throw new QservError("BAD_INPUT", `${this.label}, line ${line}: ${reason}`, { line });
  }
}
