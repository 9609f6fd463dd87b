/** What the czar's planner needs to know about the cluster's databases, tables and chunks. */
import type { DatabaseConfig, TableConfig } from "../common/ingestConfig.js";

export type TableKind = "director" | "child" | "replicated";

export interface TableMeta {
  database: string;
  name: string;
  kind: TableKind;
  config: TableConfig;
  rows: number;
}

export type Key = bigint | number | string;

/** Read access to the czar's metadata (implemented by `Metadata`; tests may use a fake). */
export interface CzarCatalog {
  database(name: string): DatabaseConfig | null;
  databases(): DatabaseConfig[];
  /** Exact name match. */
  table(db: string, name: string): TableMeta | null;
  tables(db: string): TableMeta[];
  /** Chunk ids holding any partitioned table of the database, ascending. */
  chunks(db: string): number[];
  /** Chunk ids where the table has rows, ascending. */
  tableChunks(db: string, table: string): readonly number[];
  /** Director index: the chunks holding these keys of the director table. */
  lookupKeys(db: string, directorTable: string, keys: ReadonlyArray<Key>): number[];
  /** Director index: the chunks holding each key, in the keys' order. */
  keyChunks(db: string, directorTable: string, keys: ReadonlyArray<Key>): number[][];
  /** Director index: the chunks holding keys in a range (null bound: unbounded). */
  lookupRange(
    db: string,
    directorTable: string,
    lo: bigint | number | null,
    loInclusive: boolean,
    hi: bigint | number | null,
    hiInclusive: boolean,
  ): number[];
  /**
   * Changes whenever the metadata does (a load, a drop, a replica moved): plans made under one
   * generation hold under it (the plan cache's key); absent: plans are not cached.
   */
  generation?(): string;
  /** The database's snapshot for queries planned now (Metadata.snapshotSeq); absent: none. */
  snapshotSeq?(db: string): number;
}
