/** The czar's public HTTP API, as the page calls it (same origin: credentials go along). */

export interface ApiErrorBody {
  code: string;
  message: string;
  line?: number;
  column?: number;
}

export class ApiError extends Error {
  constructor(readonly body: ApiErrorBody) {
    super(body.message);
  }
}

async function answer<T>(r: Response): Promise<T> {
  const text = await r.text();
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ApiError({ code: String(r.status), message: text.slice(0, 500) || r.statusText });
  }
  const err = (v as { error?: ApiErrorBody }).error;
  if (!r.ok || err !== undefined) throw new ApiError(err ?? { code: String(r.status), message: r.statusText });
  return v as T;
}

export async function getJson<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { headers: { accept: "application/json" } }));
}

export type Cell = string | number | boolean | null;

export interface QueryResult {
  columns: Array<{ name: string; type: string }>;
  rows: Cell[][];
  stats?: { chunks: number; retries: number; rows: number; elapsedMs: number };
}

/** `POST /query`. */
export async function query(sql: string, database: string | null): Promise<QueryResult> {
  const r = await fetch("/query", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: sql, database }),
  });
  return answer<QueryResult>(r);
}

/** ADQL through `POST /tap/sync` (JSON): columns and rows as `query` gives them. */
export async function adql(text: string): Promise<QueryResult> {
  const body = new URLSearchParams({ REQUEST: "doQuery", LANG: "ADQL", QUERY: text, RESPONSEFORMAT: "json" });
  const r = await fetch("/tap/sync", { method: "POST", body });
  const raw = await r.text();
  if (!r.ok) {
    // A TAP error is a VOTable whose INFO says why.
    const doc = new DOMParser().parseFromString(raw, "application/xml");
    const info = doc.querySelector('INFO[name="QUERY_STATUS"]')?.textContent?.trim();
    const m = /line (\d+),? column (\d+)/i.exec(info ?? "");
    throw new ApiError({
      code: String(r.status),
      message: info || raw.slice(0, 500),
      ...(m === null ? {} : { line: Number(m[1]), column: Number(m[2]) }),
    });
  }
  const v = JSON.parse(raw) as { metadata: Array<{ name: string; datatype?: string }>; data: Cell[][] };
  return { columns: v.metadata.map((f) => ({ name: f.name, type: f.datatype ?? "" })), rows: v.data };
}
