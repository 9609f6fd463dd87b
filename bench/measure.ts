/** Runs the query suite on one system: latencies per query, rows checked against a reference system's. */
import { rowSet, rowSetDiff } from "./stats.js";
import type { QueryText, SuiteQuery } from "./suite.js";
import type { System } from "./systems/system.js";

export interface QueryResult {
  /** Milliseconds of each timed run, in run order. */
  ms: number[];
  /** Rows returned by each run. */
  rows: number[];
  /** Chunks each run ran on (mini-qserv). */
  chunks: number[];
  /** Runs whose rows differ from the reference system's, with how. */
  mismatches: string[];
}

export interface ConcurrentResult {
  clients: number;
  queries: number;
  seconds: number;
  qps: number;
}

/** The first system measured: its row sets, to say how another system's differ. */
export type Reference = Map<string, string[][]>;

export interface Progress {
  tick(step: string): void;
}

export async function measureQuery(
  sys: System,
  q: SuiteQuery,
  ref: Reference,
  progress: Progress,
): Promise<QueryResult> {
  const r: QueryResult = { ms: [], rows: [], chunks: [], mismatches: [] };
  const text = (t: QueryText) => t[sys.dialect];
  if (q.runs[0] !== undefined) await sys.query(text(q.runs[0])); // warm-up: caches, plans, connections
  const mine: string[][] = [];
  for (const [i, t] of q.runs.entries()) {
    const t0 = performance.now();
    const { rows, chunks } = await sys.query(text(t));
    r.ms.push(performance.now() - t0);
    if (chunks !== undefined) r.chunks.push(chunks);
    const set = rowSet(rows);
    r.rows.push(rows.length);
    const theirs = ref.get(q.id)?.[i];
    const diff = theirs === undefined ? null : rowSetDiff(set, theirs);
    if (diff !== null) r.mismatches.push(`run ${i}: ${diff}`);
    mine.push(set);
    progress.tick(`${sys.name}: ${q.id}`);
  }
  if (!ref.has(q.id)) ref.set(q.id, mine);
  return r;
}

/** `clients` clients sharing the queries, each running its share back to back: queries per second overall. */
export async function measureConcurrent(
  sys: System,
  texts: QueryText[],
  clients: number,
  progress: Progress,
): Promise<ConcurrentResult> {
  const conns = await sys.clients(clients);
  await Promise.all(conns.map((c, i) => c(texts[i % texts.length]?.[sys.dialect] as string)));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      while (next < texts.length) {
        await c((texts[next++] as QueryText)[sys.dialect]);
        progress.tick(`${sys.name}: ${clients} clients`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { clients, queries: texts.length, seconds, qps: texts.length / seconds };
}
