/** The czar's HTTP API as the conformance runner uses it: POST /ingest and POST /query. */
import type { JsonValue } from "../../src/common/jsonValue.js";
import type { Result } from "./compare.js";

export type QueryReply =
  | { kind: "answer"; result: Result }
  | { kind: "error"; status: number; code: string; message: string; where: string }
  /** Timed out, unreachable, or a body that is not the API's. */
  | { kind: "failed"; detail: string };

interface Posted {
  status: number;
  body: unknown;
}

async function post(url: string, body: unknown, timeoutMs: number): Promise<Posted | string> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as unknown };
    } catch {
      return `HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`;
    }
  } catch (e) {
    const err = e as Error;
    if (err.name === "TimeoutError" || err.name === "AbortError") return `timed out after ${timeoutMs / 1000} s`;
    const cause = (err as { cause?: Error }).cause;
    return `request failed: ${err.message}${cause ? ` (${cause.message})` : ""}`;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The API's error body `{"error": {"code", "message", "line", "column"}}`, or null. */
function errorBody(body: unknown): { code: string; message: string; where: string } | null {
  if (!isObject(body) || !isObject(body.error)) return null;
  const { code, message, line, column } = body.error;
  if (typeof code !== "string" || code === "" || typeof message !== "string" || message === "") return null;
  return { code, message, where: typeof line === "number" ? ` at line ${line}, column ${String(column)}` : "" };
}

const isCell = (v: unknown): v is JsonValue => v === null || typeof v === "number" || typeof v === "string";

/** The API's answer body `{"columns": [{name, type}], "rows": [[...]]}`, or why it is not one. */
function answerBody(body: unknown): Result | string {
  if (!isObject(body) || !Array.isArray(body.columns) || !Array.isArray(body.rows)) {
    return "answer lacks columns or rows";
  }
  const columns = body.columns.map((c) => (isObject(c) && typeof c.name === "string" ? c.name : null));
  if (columns.some((c) => c === null)) return "a column has no name";
  for (const r of body.rows as unknown[]) {
    if (!Array.isArray(r) || !r.every(isCell))
      return `a row is not an array of null/number/string: ${JSON.stringify(r)}`;
  }
  return { columns: columns as string[], rows: body.rows as JsonValue[][] };
}

/** POST {url}/query. */
export async function czarQuery(url: string, query: string, database: string, timeoutMs: number): Promise<QueryReply> {
  const r = await post(`${url}/query`, { query, database }, timeoutMs);
  if (typeof r === "string") return { kind: "failed", detail: r };
  if (r.status !== 200) {
    const err = errorBody(r.body);
    if (err === null) {
      return {
        kind: "failed",
        detail: `HTTP ${r.status} without an error code and message: ${JSON.stringify(r.body)}`,
      };
    }
    return { kind: "error", status: r.status, ...err };
  }
  const result = answerBody(r.body);
  return typeof result === "string" ? { kind: "failed", detail: `HTTP 200: ${result}` } : { kind: "answer", result };
}

/** POST {url}/ingest; the number of rows loaded, or why not. */
export async function czarIngest(
  url: string,
  body: { database: unknown; table: unknown; files: string[] },
  timeoutMs: number,
): Promise<{ rows: number; chunks: number } | string> {
  const r = await post(`${url}/ingest`, body, timeoutMs);
  if (typeof r === "string") return r;
  if (r.status !== 200) {
    const err = errorBody(r.body);
    return err === null ? `HTTP ${r.status}: ${JSON.stringify(r.body)}` : `${err.code}: ${err.message}`;
  }
  if (!isObject(r.body) || typeof r.body.rows !== "number") return `HTTP 200 without rows: ${JSON.stringify(r.body)}`;
  return { rows: r.body.rows, chunks: typeof r.body.chunks === "number" ? r.body.chunks : 0 };
}
