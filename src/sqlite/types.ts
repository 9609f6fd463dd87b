/** SQLite storage classes a column is declared with. */
export type SqliteType = "INTEGER" | "REAL" | "TEXT" | "BLOB";

/**
 * The SQLite type for a MySQL column type of an ingest config, chosen for its affinity: integer
 * types (and BIT, BOOL, YEAR) → INTEGER; FLOAT/DOUBLE/REAL/DECIMAL/NUMERIC → REAL; binary
 * types → BLOB; everything else (CHAR, TEXT, ENUM, dates and times) → TEXT.
 */
export function sqliteType(mysqlType: string): SqliteType {
  const t = mysqlType.trim().toUpperCase();
  if (/^(TINY|SMALL|MEDIUM|BIG)?INT(EGER)?\b|^BIT\b|^BOOL(EAN)?\b|^YEAR\b|^SERIAL\b/.test(t)) return "INTEGER";
  if (/^(FLOAT|DOUBLE|REAL|DECIMAL|DEC|NUMERIC|FIXED)\b/.test(t)) return "REAL";
  if (/^((TINY|MEDIUM|LONG)?BLOB|BINARY|VARBINARY)\b/.test(t)) return "BLOB";
  return "TEXT";
}

/** `"name"` quoted for SQLite. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
