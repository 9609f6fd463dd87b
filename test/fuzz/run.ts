/**
 * The fuzz run: seeded hostile input (test/fuzz/inputs.ts) against a real small cluster
 * (test/support/smallCluster.ts) over every door — SQL over HTTP and the MySQL port, raw MySQL
 * packets, raw HTTP requests, gRPC calls straight to a worker, ingests of mutated configs and
 * catalog files — while one more client asks `SELECT 1` back to back. Counts crashes (a node
 * process gone), hangs (no answer within the bound), INTERNAL answers, 5xx answers, dropped
 * connections; the nodes' peak RSS; and the `SELECT 1` latencies throughout.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import * as grpc from "@grpc/grpc-js";
import mysql from "mysql2/promise";
import { prng } from "../../bench/generate.js";
import type { NodeProcess } from "../../src/cluster/nodeProcess.js";
import { UPLOAD_CONTENT_TYPE } from "../../src/czar/ingestInput.js";
import { workerService } from "../../src/worker/grpc.js";
import { CASE01, type SmallCluster, startSmallCluster } from "../support/smallCluster.js";
import {
  bytes,
  httpRequest,
  ingestInput,
  int,
  mysqlSession,
  type Rand,
  type SqlKind,
  sqlCase,
  sqlInput,
} from "./inputs.js";

export interface FuzzOptions {
  dir: string;
  seed: number;
  /** SQL texts per transport (HTTP, MySQL). */
  sql: number;
  packets: number;
  http: number;
  grpc: number;
  ingests: number;
  /** The fraction of SQL texts drawn at the issue's sizes (nesting, chains, IN lists, CASE): see sqlCase. */
  heavy: number;
  /** No answer within this many ms is a hang. */
  hangMs: number;
  /** Clients per transport at a time. */
  concurrency: number;
  /** Wall time for all doors (each gets its share; inputs not sent by then are not counted). */
  budgetMs?: number;
  log?: (line: string) => void;
}

export interface FuzzCounts {
  inputs: number;
  crashes: number;
  hangs: number;
  internal: number;
  /** 5xx answers other than INTERNAL (e.g. IO), by code. */
  serverErrors: Record<string, number>;
  /** Connections the server closed without an answer. */
  dropped: number;
}

/** SQL inputs of one kind through one door: how many, how many answered without an error, the slowest. */
export interface KindCounts {
  inputs: number;
  ok: number;
  errors: number;
  p50Ms: number;
  maxMs: number;
}

/**
 * The czar's event loop late past 50 ms (its `--log-loop-stalls` warnings): `count` all of them,
 * `busy` those where the loop ran code for over 50 ms of it (a block, not the machine's load).
 */
export interface LoopStalls {
  count: number;
  busy: number;
  maxMs: number;
  /** The longest busy ones, with the statements in flight then. */
  worst: Array<{ blockedMs: number; activeMs: number; statements: unknown }>;
}

export interface FuzzReport {
  seed: number;
  counts: Record<string, FuzzCounts>;
  /** SQL inputs per door and kind. */
  kinds: Record<string, Record<string, KindCounts>>;
  loopStalls: LoopStalls;
  /** Examples of what went wrong (at most a few per kind). */
  examples: string[];
  rssMb: Record<string, number>;
  ping: PingStats;
  /** The same, per kind of input. */
  pingByKind: Record<string, PingStats>;
  seconds: number;
}

export interface PingStats {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

function pingStats(xs: number[]): PingStats {
  return {
    n: xs.length,
    p50: Math.round(percentile(xs, 50) * 10) / 10,
    p99: Math.round(percentile(xs, 99) * 10) / 10,
    max: Math.round(percentile(xs, 100)),
  };
}

const zero = (): FuzzCounts => ({ inputs: 0, crashes: 0, hangs: 0, internal: 0, serverErrors: {}, dropped: 0 });

/** Resolves to `p`'s value, or to "hang" after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | "hang"> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<"hang">((res) => (t = setTimeout(() => res("hang"), ms)))]).finally(() =>
    clearTimeout(t),
  );
}

function rssMb(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return Math.round(Number(m?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

const alive = (p: NodeProcess) => p.proc.exitCode === null && p.proc.signalCode === null;

/** Runs up to `n` tasks, `concurrency` at a time, starting none after `end` (ms since the epoch). */
async function pool(n: number, concurrency: number, end: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n && Date.now() < end) await task(next++);
    }),
  );
}

/** Each door's share of the time budget. */
const SHARE: Record<string, number> = {
  "sql/http": 0.36,
  "sql/mysql": 0.36,
  "mysql/packets": 0.06,
  "http/raw": 0.06,
  "grpc/worker": 0.06,
  ingest: 0.1,
};

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const c: SmallCluster = await startSmallCluster(o.dir, [
    "--query-timeout",
    "20",
    "--max-result-mb",
    "256",
    "--log-loop-stalls",
    "50",
  ]);
  const counts: Record<string, FuzzCounts> = {};
  const examples: string[] = [];
  const peak: Record<string, number> = {};
  const nodes: Array<[string, NodeProcess]> = [
    ["czar", c.czar],
    ...c.workers.map((w, i) => [`w${i + 1}`, w] as [string, NodeProcess]),
  ];
  const sample = () => {
    for (const [name, p] of nodes) peak[name] = Math.max(peak[name] ?? 0, rssMb(p.proc.pid));
  };
  const sampler = setInterval(sample, 500);
  const note = (kind: string, what: string, input: string) => {
    if (examples.filter((e) => e.startsWith(`${kind} ${what}`)).length < 3) {
      const shown = input.length > 400 ? `${input.slice(0, 200)} ... ${input.slice(-200)}` : input;
      examples.push(`${kind} ${what}: ${JSON.stringify(shown)}${input.length > 400 ? ` (${input.length} chars)` : ""}`);
    }
  };
  const checkCrash = (kind: string, input: string) => {
    for (const [name, p] of nodes) {
      if (!alive(p) && !examples.some((e) => e.includes(`crash of ${name}`))) {
        counts[kind]!.crashes++;
        note(kind, `crash of ${name}`, input);
      }
    }
  };

  // The other client (pinger.ts, a thread of its own): SELECT 1 over HTTP, back to back.
  const pings: number[] = [];
  /** The latencies by the phase they were measured in (phases by start time, in order). */
  const phasePings: Record<string, number[]> = {};
  const phases: Array<[number, string]> = [[0, "start"]];
  const setPhase = (p: string) => {
    phases.push([performance.timeOrigin + performance.now(), p]);
  };
  const port = Number(new URL(c.czar.url).port);
  const pinger = new Worker(new URL("./pinger.js", import.meta.url), { workerData: { port } });
  pinger.on("message", ({ at, ms }: { at: number; ms: number }) => {
    pings.push(ms);
    let p = "start";
    for (const [t, name] of phases) if (t <= at - ms) p = name;
    const mine = phasePings[p] ?? [];
    phasePings[p] = mine;
    mine.push(ms);
  });
  const pingerDone = new Promise<void>((resolve) => pinger.once("exit", () => resolve()));
  /** SQL inputs by door and kind, with their times. */
  const kinds: Record<string, Record<string, { n: number; ok: number; ms: number[] }>> = {};
  const kindDone = (door: string, kind: SqlKind, ok: boolean, ms: number) => {
    const byKind = kinds[door] ?? {};
    kinds[door] = byKind;
    const k = byKind[kind] ?? { n: 0, ok: 0, ms: [] };
    byKind[kind] = k;
    k.n++;
    if (ok) k.ok++;
    k.ms.push(ms);
  };

  const rand = (k: number): Rand => prng(o.seed * 1000 + k);
  /**
   * One door: `n` inputs made by `make` from its own seeded stream, each sent by `send`, which
   * classifies the answer; crashes checked as it goes.
   */
  const door = async <T>(
    kind: string,
    stream: number,
    n: number,
    make: (r: Rand) => T,
    send: (input: T, count: FuzzCounts) => Promise<string>,
    concurrency = o.concurrency,
  ): Promise<void> => {
    const count = zero();
    counts[kind] = count;
    setPhase(kind);
    const r = rand(stream);
    const inputs = Array.from({ length: n }, () => make(r));
    const end = Date.now() + (o.budgetMs ?? Number.POSITIVE_INFINITY) * (SHARE[kind] ?? 0.1);
    await pool(n, concurrency, end, async (i) => {
      count.inputs++;
      const what = await send(inputs[i]!, count);
      if (i % 100 === 0) {
        checkCrash(kind, what);
        log(`${kind}: ${i}/${n}`);
      }
    });
    checkCrash(kind, "(end)");
  };
  /** Counts an HTTP answer (status 0: no answer, the connection dropped): 5xx and INTERNAL are faults. */
  const httpVerdict = (
    kind: string,
    count: FuzzCounts,
    res: { status: number; text: string } | "hang",
    what: string,
  ) => {
    if (res === "hang") {
      count.hangs++;
      note(kind, "hang", what);
    } else if (res.status === 0) {
      count.dropped++;
      note(kind, "dropped", what);
    } else if (res.status >= 500 || /"code":"INTERNAL"/.test(res.text)) {
      const code = /"code":"(\w+)"/.exec(res.text)?.[1] ?? String(res.status);
      if (code === "INTERNAL") count.internal++;
      else count.serverErrors[code] = (count.serverErrors[code] ?? 0) + 1;
      note(kind, code, `${what} → ${res.text.slice(0, 300)}`);
    }
  };
  const post = (path: string, body: string | Buffer, headers: Record<string, string>, ms: number) =>
    within(
      fetch(`${c.czar.url}${path}`, { method: "POST", body, headers })
        .then(async (x) => ({ status: x.status, text: await x.text() }))
        .catch((e: Error) => ({ status: 0, text: String(e.cause ?? e.message) })),
      ms,
    );
  try {
    await door(
      "sql/http",
      1,
      o.sql,
      (r) => sqlCase(r, o.heavy),
      async ({ kind, sql }, count) => {
        const body = JSON.stringify({ query: sql, database: "qcase01" });
        const t = performance.now();
        const res = await post("/query", body, {}, o.hangMs);
        kindDone("sql/http", kind, res !== "hang" && res.status === 200, performance.now() - t);
        httpVerdict("sql/http", count, res, sql);
        return sql;
      },
    );

    // SQL over the MySQL port (mysql2), one connection per client, reopened when dropped.
    const connect = () =>
      mysql.createConnection({
        host: "127.0.0.1",
        port: c.czar.mysqlPort,
        database: "qcase01",
        maxPreparedStatements: 1,
      });
    const conns = await Promise.all(Array.from({ length: o.concurrency }, connect));
    let slot = 0;
    await door(
      "sql/mysql",
      2,
      o.sql,
      (r) => sqlCase(r, o.heavy),
      async ({ kind, sql }, count) => {
        const me = slot++ % conns.length;
        const t = performance.now();
        const res = await within(
          conns[me]!.query({ sql, rowsAsArray: true }).then(
            () => "ok",
            (e: { message?: string; fatal?: boolean; code?: string }) =>
              e.fatal === true ? `fatal ${e.code}: ${e.message}` : (e.message ?? ""),
          ),
          o.hangMs,
        );
        kindDone("sql/mysql", kind, res === "ok", performance.now() - t);
        if (res === "hang" || res.startsWith("fatal")) {
          if (res === "hang") count.hangs++;
          else count.dropped++;
          note("sql/mysql", res === "hang" ? "hang" : "dropped", `${sql} → ${res}`);
          conns[me]!.destroy();
          conns[me] = await connect();
        } else if (res.startsWith("INTERNAL")) {
          count.internal++;
          note("sql/mysql", "INTERNAL", `${sql} → ${res}`);
        }
        return sql;
      },
    );
    for (const x of conns) x.destroy();

    // Raw MySQL sessions and raw HTTP requests: after the bytes our side closes; the server must
    // answer or close, never hold the connection.
    const raw = (kind: string, port: number, greeting: boolean) => async (bytes: Buffer, count: FuzzCounts) => {
      const res = await within(rawExchange(port, bytes, greeting), o.hangMs);
      const text = bytes.toString("latin1");
      if (res === "hang") {
        count.hangs++;
        note(kind, "hang", text);
      } else if (/INTERNAL/.test(res)) {
        count.internal++;
        note(kind, "INTERNAL", `${text} → ${res.slice(0, 300)}`);
      } else if (!greeting && Number(/^HTTP\/1\.[01] (\d{3})/.exec(res)?.[1] ?? 0) >= 500) {
        const code = /"code":"(\w+)"/.exec(res)?.[1] ?? "5xx";
        count.serverErrors[code] = (count.serverErrors[code] ?? 0) + 1;
        note(kind, code, `${text} → ${res.slice(0, 300)}`);
      }
      return text;
    };
    await door("mysql/packets", 3, o.packets, mysqlSession, raw("mysql/packets", c.czar.mysqlPort, true));
    await door("http/raw", 4, o.http, httpRequest, raw("http/raw", port, false));

    // gRPC straight to a worker: garbage bytes to every method, and well-formed calls with hostile fields.
    const address = c.workers[0]!.address;
    const rawClient = new grpc.Client(address, grpc.credentials.createInsecure());
    const Typed = workerService();
    const typed = new Typed(address, grpc.credentials.createInsecure()) as unknown as Record<
      string,
      (...a: unknown[]) => unknown
    >;
    let grpcCalls = 0;
    await door(
      "grpc/worker",
      5,
      o.grpc,
      (r) => ({ r: r(), body: bytes(r, int(r, 300)), sql: sqlInput(r, false), k: [r(), r(), r(), r(), r(), r()] }),
      async (x, count) => {
        const deadline = Date.now() + o.hangMs;
        const id = (b: Buffer) => b;
        const [call, what] = grpcCall(rawClient, typed, x, grpcCalls++, deadline, id);
        const res = await within(call, o.hangMs + 1000);
        // DEADLINE_EXCEEDED (4): the worker held the call past the bound.
        if (res === "hang" || res.startsWith("4 ")) {
          count.hangs++;
          note("grpc/worker", "hang", what);
        } else if (res.startsWith("13 ") && !/deserializ|parse/i.test(res)) {
          count.internal++;
          note("grpc/worker", "INTERNAL", `${what} → ${res}`);
        }
        return what;
      },
    );
    rawClient.close();
    (typed as unknown as grpc.Client).close();

    // Ingests of mutated configs and catalog files, uploaded, into databases of their own.
    const config = (f: string) =>
      JSON.parse(readFileSync(join(CASE01, "ingest", f), "utf8")) as Record<string, unknown>;
    const filter = {
      database: config("database.json"),
      table: config("Filter.json"),
      file: readFileSync(join(CASE01, "Filter.tsv.gz")),
      name: "Filter.tsv.gz",
    };
    const object = {
      ...filter,
      table: config("Object.json"),
      file: readFileSync(join(CASE01, "Object.tsv.gz")),
      name: "Object.tsv.gz",
    };
    // One load at a time: a table being loaded refuses another (CONFLICT).
    await door(
      "ingest",
      6,
      o.ingests,
      (r) => ingestInput(r, `fz${int(r, 5)}`, r() < 0.5 ? filter : object),
      async (x, count) => {
        const head = { ...x.head, uploads: [{ name: x.name, bytes: x.file.length }] };
        const body = Buffer.concat([Buffer.from(`${JSON.stringify(head)}\n`), x.file]);
        const what = JSON.stringify(head);
        httpVerdict(
          "ingest",
          count,
          await post("/ingest", body, { "content-type": UPLOAD_CONTENT_TYPE }, o.hangMs * 2),
          what,
        );
        return what;
      },
      1,
    );
  } finally {
    pinger.postMessage("stop");
    await pingerDone;
    clearInterval(sampler);
    sample();
    await c.stop();
  }
  const stalls = c.czar.logs
    .filter((l) => l.msg === "event loop blocked")
    .map((l) => ({ blockedMs: Number(l.blockedMs), activeMs: Number(l.activeMs), statements: l.statements }))
    .sort((a, b) => b.activeMs - a.activeMs);
  const busy = stalls.filter((x) => x.activeMs > 50);
  return {
    seed: o.seed,
    counts,
    kinds: Object.fromEntries(
      Object.entries(kinds).map(([d, byKind]) => [
        d,
        Object.fromEntries(
          Object.entries(byKind).map(([k, v]) => [
            k,
            {
              inputs: v.n,
              ok: v.ok,
              errors: v.n - v.ok,
              p50Ms: Math.round(percentile(v.ms, 50)),
              maxMs: Math.round(percentile(v.ms, 100)),
            },
          ]),
        ),
      ]),
    ),
    loopStalls: {
      count: stalls.length,
      busy: busy.length,
      maxMs: busy[0]?.activeMs ?? 0,
      worst: busy.slice(0, 10),
    },
    examples,
    rssMb: peak,
    ping: pingStats(pings),
    pingByKind: Object.fromEntries(Object.entries(phasePings).map(([k, v]) => [k, pingStats(v)])),
    seconds: Math.round((performance.now() - t0) / 1000),
  };
}

/**
 * Connects, (for MySQL) reads the greeting, sends `payload`, half-closes, and collects what comes
 * back until the server closes: resolves with it (as latin1 text).
 */
function rawExchange(port: number, payload: Buffer, greeting: boolean): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    const got: Buffer[] = [];
    let sent = false;
    const send = () => {
      if (sent) return;
      sent = true;
      s.write(payload);
      s.end();
    };
    s.on("connect", () => {
      if (!greeting) send();
    });
    s.on("data", (d: Buffer) => {
      got.push(d);
      if (greeting) send();
    });
    s.on("error", () => {});
    s.on("close", () => resolve(Buffer.concat(got).toString("latin1")));
  });
}

/** One gRPC call to a worker from a drawn input: garbage bytes (even calls) or hostile fields; its outcome and a description. */
function grpcCall(
  raw: grpc.Client,
  typed: Record<string, (...a: unknown[]) => unknown>,
  x: { r: number; body: Buffer; sql: string; k: number[] },
  i: number,
  deadline: number,
  id: (b: Buffer) => Buffer,
): [Promise<string>, string] {
  const at = <T>(xs: readonly T[], u: number) => xs[Math.floor(u * xs.length)] as T;
  const errText = (e: grpc.ServiceError | null) => (e ? `${e.code} ${e.details}` : "ok");
  if (i % 2 === 0) {
    const m = at(["Query", "Load", "List", "Drop", "Publish", "Unpublish", "DropStage", "Status"], x.r);
    const path = `/miniqserv.worker.v1.Worker/${m}`;
    const what = `${m} raw ${x.body.toString("hex").slice(0, 80)}`;
    return [
      new Promise((resolve) => {
        if (m === "Query") {
          const s = raw.makeServerStreamRequest(path, id, id, x.body, { deadline });
          s.on("data", () => {});
          s.on("error", (e: grpc.ServiceError) => resolve(errText(e)));
          s.on("end", () => resolve("end"));
        } else if (m === "Load") {
          const s = raw.makeClientStreamRequest(path, id, id, { deadline }, (e) => resolve(errText(e)));
          s.write(x.body);
          s.end();
        } else {
          raw.makeUnaryRequest(path, id, id, x.body, { deadline }, (e) => resolve(errText(e)));
        }
      }),
      what,
    ];
  }
  const [a, b, c2, d, e2, f] = x.k as [number, number, number, number, number, number];
  const name = at(["../x", "", "a/b", "x".repeat(500), "fz_none", "qcase01/../..", "\u0000", "."], a);
  const req = {
    queryId: String(i),
    database: name,
    chunkId: at([-1, 0, 2 ** 31 - 1, -(2 ** 31), 6630, 1234567], b),
    subChunkIds: [Math.floor(c2 * 100), -5],
    sql: x.sql,
    maxBatchRows: at([0, 1, 2 ** 32 - 1], d),
    maxBatchBytes: at([0, 1, 2 ** 32 - 1], e2),
    table: name,
    stage: name,
    chunkIds: [Math.floor(c2 * 10000), -1],
  };
  const m = at(["query", "list", "drop", "dropStage", "publish", "unpublish", "status"], f);
  const what = `${m} ${JSON.stringify(req).slice(0, 120)}`;
  return [
    new Promise((resolve) => {
      if (m === "query") {
        const s = typed.query!(req, { deadline }) as grpc.ClientReadableStream<unknown>;
        s.on("data", () => {});
        s.on("error", (e: grpc.ServiceError) => resolve(errText(e)));
        s.on("end", () => resolve("end"));
      } else {
        typed[m]!(req, { deadline }, (e: grpc.ServiceError | null) => resolve(errText(e)));
      }
    }),
    what,
  ];
}
