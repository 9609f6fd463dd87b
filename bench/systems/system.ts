import type { Dialect } from "../suite.js";

/** One query's answer: its rows and, for mini-qserv, the chunks it ran on. */
export interface Answer {
  rows: unknown[][];
  chunks?: number;
}

/** A system under test, loaded with the catalog and ready for queries. */
export interface System {
  /** Report label, e.g. "mini-qserv 85/12 ×2". */
  name: string;
  dialect: Dialect;
  /** Seconds the whole catalog took to load and index. */
  ingestSeconds: number;
  /** What the report should say about its layout (e.g. chunk counts). */
  detail: string;
  query(sql: string): Promise<Answer>;
  /** `n` independent clients (connections) for concurrent queries. */
  clients(n: number): Promise<Array<(sql: string) => Promise<Answer>>>;
  close(): Promise<void>;
}
