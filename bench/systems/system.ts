import type { Dialect } from "../suite.js";

/** A system under test, loaded with the catalog and ready for queries. */
export interface System {
  /** Report label, e.g. "mini-qserv 85/12 ×2". */
  name: string;
  dialect: Dialect;
  /** Seconds the whole catalog took to load and index. */
  ingestSeconds: number;
  /** The rows of one query. */
  query(sql: string): Promise<unknown[][]>;
  /** `n` independent clients (connections) for concurrent queries. */
  clients(n: number): Promise<Array<(sql: string) => Promise<unknown[][]>>>;
  close(): Promise<void>;
}
