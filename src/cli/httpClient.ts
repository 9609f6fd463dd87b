import { QservError } from "../common/errors.js";

/** POSTs JSON to the czar; a czar error body becomes a QservError with its code. */
export function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  return requestJson(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** GETs JSON from the czar; a czar error body becomes a QservError with its code. */
export function getJson(url: string): Promise<Record<string, unknown>> {
  return requestJson(url, { method: "GET" });
}

async function requestJson(url: string, init: RequestInit): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new QservError(
      "UNAVAILABLE",
      `cannot reach the czar at ${url}: ${(e as Error).cause ?? (e as Error).message}`,
    );
  }
  const text = await res.text();
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new QservError("INTERNAL", `${url}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  const err = v.error as { code?: string; message?: string } | undefined;
  if (!res.ok || err !== undefined) {
    throw new QservError((err?.code ?? "INTERNAL") as never, err?.message ?? `HTTP ${res.status}`);
  }
  return v;
}
