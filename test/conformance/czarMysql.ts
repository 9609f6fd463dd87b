/** The czar's MySQL front end as the conformance runner uses it (`--via mysql`), through mysql2. */
import mysql from "mysql2/promise";
import type { JsonValue } from "../../src/common/jsonValue.js";
import type { QueryReply } from "./czarHttp.js";

/** A value as the HTTP API gives it: big integers as decimal strings, blobs as upper-case hex. */
function cell(v: unknown): JsonValue {
  if (v === null || typeof v === "number" || typeof v === "string") return v;
  if (Buffer.isBuffer(v)) return v.toString("hex").toUpperCase();
  return String(v);
}

/** One statement on a new connection to `port`, with `database` as the default database. */
export async function mysqlQuery(
  port: number,
  query: string,
  database: string,
  timeoutMs: number,
): Promise<QueryReply> {
  let c: mysql.Connection;
  try {
    c = await mysql.createConnection({
      host: "127.0.0.1",
      port,
      user: "qsmaster",
      database,
      rowsAsArray: true,
      supportBigNumbers: true,
      connectTimeout: timeoutMs,
    });
  } catch (e) {
    return { kind: "failed", detail: `cannot connect: ${(e as Error).message}` };
  }
  try {
    const [rows, fields] = (await c.query({ sql: query, timeout: timeoutMs })) as unknown as [
      unknown[][] | unknown,
      Array<{ name: string }> | undefined,
    ];
    if (!Array.isArray(rows) || fields === undefined) return { kind: "answer", result: { columns: [], rows: [] } };
    return {
      kind: "answer",
      result: { columns: fields.map((f) => f.name), rows: (rows as unknown[][]).map((r) => r.map(cell)) },
    };
  } catch (e) {
    const err = e as Error & { errno?: number; sqlState?: string; code?: string };
    if (err.errno === undefined || err.sqlState === undefined) {
      return { kind: "failed", detail: `${err.code ?? "error"}: ${err.message}` };
    }
    return {
      kind: "error",
      status: err.errno,
      code: `${err.errno} (${err.sqlState})`,
      message: err.message,
      where: "",
    };
  } finally {
    await c.end().catch(() => {});
  }
}
