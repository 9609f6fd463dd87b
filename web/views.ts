/** The workers, queries and ingest views, drawn from status events and the history API. */

import type { ChunkCell, QueryRecord } from "../src/frontends/web/apiTypes.js";
import { getJson, query } from "./api.js";

export interface Status {
  workers: Array<{
    id: string;
    address: string;
    up: boolean;
    lastSeen: string | null;
    lastError?: string;
    chunks: number;
    bytes: number;
    queriesRunning: number;
  }>;
  databases: Array<{
    database: string;
    tables: Array<{ name: string; kind: string; rows: number }>;
    chunks: number;
    snapshot: number;
    replicas: { target: number; underReplicated: number[] };
  }>;
  repair: unknown;
  queries: Array<{
    id: number;
    user: string;
    query: string;
    chunksDone: number;
    chunksTotal: number;
    elapsedMs: number;
  }>;
  ingests: Array<{
    table: string;
    phase: string;
    elapsedMs: number;
    phases: Array<{ phase: string; done?: number; total?: number; bytes?: number; totalBytes?: number; rows?: number }>;
  }>;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** A table cell holding `text` (never parsed as HTML). */
function td(text: string | number, cls = ""): HTMLTableCellElement {
  const c = document.createElement("td");
  c.textContent = String(text);
  if (cls !== "") c.className = cls;
  return c;
}

function tr(cells: HTMLElement[], cls = ""): HTMLTableRowElement {
  const r = document.createElement("tr");
  r.append(...cells);
  if (cls !== "") r.className = cls;
  return r;
}

const bytes = (n: number) =>
  n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
const ms = (n: number) => (n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`);
const ago = (iso: string | null) =>
  iso === null ? "never" : `${Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))} s ago`;

function bar(done: number, total: number): HTMLElement {
  const p = document.createElement("progress");
  p.max = Math.max(1, total);
  p.value = done;
  const s = document.createElement("span");
  s.className = "progress";
  s.append(p, ` ${done}/${total}`);
  return s;
}

export function renderWorkers(s: Status, chunks: ChunkCell[]): void {
  const rowsOf = (w: string) =>
    chunks.filter((c) => c.live.includes(w)).reduce((a, c) => a + Object.values(c.rows).reduce((x, y) => x + y, 0), 0);
  $("workers")
    .querySelector("tbody")!
    .replaceChildren(
      ...s.workers.map((w) =>
        tr(
          [
            td(w.id),
            td(w.address),
            td(w.up ? "up" : "down", w.up ? "up" : "down"),
            td(w.chunks),
            td(rowsOf(w.id)),
            td(bytes(w.bytes)),
            td(w.queriesRunning),
            td(ago(w.lastSeen)),
          ],
          `worker ${w.up ? "up" : "down"}`,
        ),
      ),
    );
  const r = s.repair as {
    passRunning?: boolean;
    copiesRunning?: number;
    totals?: { passes: number; copies: number; bytes: number; failures: number };
  };
  const t = r.totals;
  $("repair").textContent =
    `repair: ${r.passRunning === true ? "a pass is running" : "idle"}, ${r.copiesRunning ?? 0} copies running` +
    (t === undefined
      ? ""
      : `; so far ${t.passes} passes copied ${t.copies} chunks (${bytes(t.bytes)}), ${t.failures} failed`);
}

export function renderRunning(s: Status, onError: (e: unknown) => void): void {
  $("running")
    .querySelector("tbody")!
    .replaceChildren(
      ...s.queries.map((q) => {
        const kill = document.createElement("button");
        kill.textContent = "kill";
        kill.className = "kill";
        kill.addEventListener("click", () => {
          kill.disabled = true;
          query(`KILL QUERY ${q.id}`, null).catch(onError);
        });
        const cell = document.createElement("td");
        cell.append(bar(q.chunksDone, q.chunksTotal));
        const k = document.createElement("td");
        k.append(kill);
        return tr([td(q.id), td(q.user), td(q.query, "sql"), cell, td(ms(q.elapsedMs)), k], "query");
      }),
    );
}

export class History {
  private records: QueryRecord[] = [];

  constructor(private readonly onError: (e: unknown) => void) {
    for (const id of ["hist-slowest", "hist-failed"]) $(id).addEventListener("change", () => this.ended());
  }

  private filter(): string {
    const slowest = ($("hist-slowest") as HTMLInputElement).checked;
    const failed = ($("hist-failed") as HTMLInputElement).checked;
    return `?limit=100${slowest ? "&slowest=1" : ""}${failed ? "&failed=1" : ""}`;
  }

  async load(): Promise<void> {
    this.records = (await getJson<{ queries: QueryRecord[] }>(`/history${this.filter()}`)).queries;
    this.render();
  }

  /** A query just ended: the list is asked again (its order and filter are the server's). */
  ended(): void {
    this.load().catch(this.onError);
  }

  private render(): void {
    $("history")
      .querySelector("tbody")!
      .replaceChildren(
        ...this.records.map((r) =>
          tr(
            [
              td(r.seq),
              td(r.startedAt.replace("T", " ").slice(0, 19)),
              td(r.user),
              td(r.query, "sql"),
              td(ms(r.elapsedMs)),
              td(r.rows),
              td(r.chunks),
              td(r.retries),
              td(r.error === undefined ? "" : `${r.error.code}: ${r.error.message}`, "error"),
            ],
            r.error === undefined ? "" : "failed",
          ),
        ),
      );
  }
}

interface Load {
  loadId: string;
  database: string;
  table: string;
  rows: number;
  loadedAt: string | null;
  files: string[];
  state: string;
}

export function renderIngests(s: Status): void {
  $("ingests").replaceChildren(
    ...(s.ingests.length === 0
      ? [Object.assign(document.createElement("p"), { textContent: "no load in progress" })]
      : s.ingests.map((i) => {
          const d = document.createElement("div");
          d.className = "ingest";
          const h = document.createElement("h3");
          h.textContent = `${i.table} — ${i.phase} (${ms(i.elapsedMs)})`;
          d.append(h);
          for (const p of i.phases) {
            const row = document.createElement("div");
            row.className = `phase ${p.phase}${p.phase === i.phase ? " current" : " done"}`;
            row.dataset.phase = p.phase;
            row.append(`${p.phase} `);
            if (p.total !== undefined) row.append(bar(p.done ?? 0, p.total));
            else if (p.totalBytes !== undefined) {
              row.append(bar(p.bytes ?? 0, p.totalBytes), ` bytes, ${p.rows ?? 0} rows`);
            }
            d.append(row);
          }
          return d;
        })),
  );
}

export async function loadHistory(): Promise<void> {
  const loads = (await getJson<{ loads: Load[] }>("/loads")).loads;
  const byTable = new Map<string, Load[]>();
  for (const l of loads) {
    const k = `${l.database}.${l.table}`;
    byTable.set(k, [...(byTable.get(k) ?? []), l]);
  }
  $("loads").replaceChildren(
    ...[...byTable].map(([table, ls]) => {
      const d = document.createElement("details");
      d.open = true;
      const sm = document.createElement("summary");
      sm.textContent = `${table}: ${ls.length} load${ls.length === 1 ? "" : "s"}, ${ls.reduce((a, l) => a + l.rows, 0)} rows`;
      const t = document.createElement("table");
      t.className = "loads";
      t.append(
        tr(
          ["load", "loaded at", "rows", "files", "state"].map((h) =>
            Object.assign(document.createElement("th"), { textContent: h }),
          ),
        ),
        ...ls.map((l) => tr([td(l.loadId), td(l.loadedAt ?? ""), td(l.rows), td(l.files.join(", ")), td(l.state)])),
      );
      d.append(sm, t);
      return d;
    }),
  );
}
