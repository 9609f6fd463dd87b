/**
 * The fuzz run: seeded hostile input (test/fuzz/inputs.ts) against a real small cluster
 * (test/support/smallCluster.ts) over every door — SQL over HTTP and the MySQL port, raw MySQL
 * packets, raw HTTP requests, gRPC calls straight to a worker, ingests of mutated configs and
 * catalog files — while one more client asks `SELECT 1` back to back. Counts crashes (a node
 * process gone), hangs (no answer within the bound), INTERNAL answers, 5xx answers, dropped
 * connections; the nodes' peak RSS; and the `SELECT 1` latencies throughout.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import mysql from "mysql2/promise";
import { prng } from "../../bench/generate.js";
import type { NodeProcess } from "../../src/cluster/nodeProcess.js";
import { UPLOAD_CONTENT_TYPE } from "../../src/czar/ingestInput.js";
import { workerService } from "../../src/worker/grpc.js";
import { CASE01, type SmallCluster, startSmallCluster } from "../support/smallCluster.js";
import { bytes, httpRequest, ingestInput, int, mysqlSession, pick, type Rand, sqlInput } from "./inputs.js";

export interface FuzzOptions {
  dir: string;
  seed: number;
  /** SQL texts per transport (HTTP, MySQL). */
  sql: number;
  packets: number;
  http: number;
  grpc: number;
  ingests: number;
  /** Allow the multi-megabyte SQL shapes. */
  big: boolean;
  /** No answer within this many ms is a hang. */
  hangMs: number;
  /** Clients per transport at a time. */
  concurrency: number;
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

export interface FuzzReport {
  seed: number;
  counts: Record<string, FuzzCounts>;
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

/** Runs `n` tasks, `concurrency` at a time. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const c: SmallCluster = await startSmallCluster(o.dir, ["--query-timeout", "20", "--max-result-mb", "256"]);
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

  // The other client: SELECT 1 over HTTP on a keep-alive connection, back to back.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const pings: number[] = [];
  /** The latencies by the phase they were measured in. */
  const phasePings: Record<string, number[]> = {};
  let phase = "start";
  let stopPing = false;
  const port = Number(new URL(c.czar.url).port);
  const ping = () =>
    new Promise<void>((resolve) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          path: "/query",
          method: "POST",
          agent,
          headers: { "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          res.on("end", resolve);
          res.on("error", () => resolve());
        },
      );
      req.on("error", () => resolve());
      req.end(JSON.stringify({ query: "SELECT 1" }));
    });
  const pinger = (async () => {
    while (!stopPing) {
      const t = performance.now();
      await ping();
      const ms = performance.now() - t;
      pings.push(ms);
      (phasePings[phase] ??= []).push(ms);
    }
  })();

  const rand = (k: number): Rand => prng(o.seed * 1000 + k);
  try {
    // SQL over HTTP.
    {
      const kind = "sql/http";
      counts[kind] = zero();
      phase = kind;
      const r = rand(1);
      const inputs = Array.from({ length: o.sql }, () => sqlInput(r, o.big));
      await pool(inputs.length, o.concurrency, async (i) => {
        const sql = inputs[i]!;
        counts[kind]!.inputs++;
        const res = await within(
          fetch(`${c.czar.url}/query`, { method: "POST", body: JSON.stringify({ query: sql, database: "qcase01" }) })
            .then(async (x) => ({ status: x.status, text: await x.text() }))
            .catch((e: Error) => ({ status: 0, text: String(e.cause ?? e.message) })),
          o.hangMs,
        );
        if (res === "hang") {
          counts[kind]!.hangs++;
          note(kind, "hang", sql);
        } else if (res.status === 0) {
          counts[kind]!.dropped++;
          note(kind, "dropped", sql);
        } else if (res.status >= 500 || /"code":"INTERNAL"/.test(res.text)) {
          const code = /"code":"(\w+)"/.exec(res.text)?.[1] ?? String(res.status);
          if (code === "INTERNAL") counts[kind]!.internal++;
          else counts[kind]!.serverErrors[code] = (counts[kind]!.serverErrors[code] ?? 0) + 1;
          note(kind, code, `${sql} → ${res.text.slice(0, 200)}`);
        }
        if (i % 200 === 0) {
          checkCrash(kind, sql);
          log(`${kind}: ${i}/${inputs.length}`);
        }
      });
      checkCrash(kind, "(end)");
    }

    // SQL over the MySQL port (mysql2), one connection per client, reopened when dropped.
    {
      const kind = "sql/mysql";
      counts[kind] = zero();
      phase = kind;
      const r = rand(2);
      const inputs = Array.from({ length: o.sql }, () => sqlInput(r, o.big));
      const connect = () =>
        mysql.createConnection({
          host: "127.0.0.1",
          port: c.czar.mysqlPort,
          database: "qcase01",
          maxPreparedStatements: 1,
        });
      const conns = await Promise.all(Array.from({ length: o.concurrency }, connect));
      let slot = 0;
      await pool(inputs.length, o.concurrency, async (i) => {
        const sql = inputs[i]!;
        const me = slot++ % conns.length;
        counts[kind]!.inputs++;
        const res = await within(
          conns[me]!.query({ sql, rowsAsArray: true }).then(
            () => "ok",
            (e: { message?: string; fatal?: boolean; code?: string }) =>
              e.fatal === true ? `fatal ${e.code}: ${e.message}` : (e.message ?? ""),
          ),
          o.hangMs,
        );
        if (res === "hang" || res.startsWith("fatal")) {
          if (res === "hang") counts[kind]!.hangs++;
          else counts[kind]!.dropped++;
          note(kind, res === "hang" ? "hang" : "dropped", `${sql} → ${res}`);
          conns[me]!.destroy();
          conns[me] = await connect();
        } else if (res.startsWith("INTERNAL")) {
          counts[kind]!.internal++;
          note(kind, "INTERNAL", `${sql} → ${res}`);
        }
        if (i % 200 === 0) {
          checkCrash(kind, sql);
          log(`${kind}: ${i}/${inputs.length}`);
        }
      });
      for (const x of conns) x.destroy();
      checkCrash(kind, "(end)");
    }

    // Raw MySQL packets: after the greeting, the session's bytes, then our side closes; the
    // server must answer or close (never hold the connection).
    {
      const kind = "mysql/packets";
      counts[kind] = zero();
      phase = kind;
      const r = rand(3);
      const inputs = Array.from({ length: o.packets }, () => mysqlSession(r));
      await pool(inputs.length, o.concurrency, async (i) => {
        const payload = inputs[i]!;
        counts[kind]!.inputs++;
        const res = await within(rawExchange(c.czar.mysqlPort, payload, true), o.hangMs);
        if (res === "hang") {
          counts[kind]!.hangs++;
          note(kind, "hang", payload.toString("latin1"));
        } else if (/INTERNAL/.test(res)) {
          counts[kind]!.internal++;
          note(kind, "INTERNAL", res);
        }
        if (i % 100 === 0) checkCrash(kind, payload.toString("hex"));
      });
      checkCrash(kind, "(end)");
    }

    // Raw HTTP requests.
    {
      const kind = "http/raw";
      counts[kind] = zero();
      phase = kind;
      const r = rand(4);
      const inputs = Array.from({ length: o.http }, () => httpRequest(r));
      await pool(inputs.length, o.concurrency, async (i) => {
        const req = inputs[i]!;
        counts[kind]!.inputs++;
        const res = await within(rawExchange(port, req, false), o.hangMs);
        const text = req.toString("latin1");
        if (res === "hang") {
          counts[kind]!.hangs++;
          note(kind, "hang", text);
        } else {
          const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(res)?.[1] ?? 0);
          if (/"code":"INTERNAL"/.test(res)) {
            counts[kind]!.internal++;
            note(kind, "INTERNAL", `${text} → ${res.slice(0, 300)}`);
          } else if (status >= 500) {
            const code = /"code":"(\w+)"/.exec(res)?.[1] ?? String(status);
            counts[kind]!.serverErrors[code] = (counts[kind]!.serverErrors[code] ?? 0) + 1;
            note(kind, code, `${text} → ${res.slice(0, 300)}`);
          }
        }
        if (i % 100 === 0) checkCrash(kind, text);
      });
      checkCrash(kind, "(end)");
    }

    // gRPC straight to a worker: garbage bytes to every method, and well-formed calls with hostile fields.
    {
      const kind = "grpc/worker";
      counts[kind] = zero();
      phase = kind;
      const r = rand(5);
      const address = c.workers[0]!.address;
      const raw = new grpc.Client(address, grpc.credentials.createInsecure());
      const Typed = workerService();
      const typed = new Typed(address, grpc.credentials.createInsecure()) as unknown as Record<
        string,
        (...a: unknown[]) => unknown
      >;
      const methods = ["Query", "Load", "List", "Drop", "Publish", "Unpublish", "DropStage", "Status"];
      await pool(o.grpc, o.concurrency, async (i) => {
        counts[kind]!.inputs++;
        const deadline = Date.now() + o.hangMs;
        let call: Promise<string>;
        let what: string;
        if (i % 2 === 0) {
          const m = pick(r, methods);
          const body = bytes(r, int(r, 300));
          what = `${m} raw ${body.toString("hex").slice(0, 80)}`;
          call = new Promise((resolve) => {
            const path = `/miniqserv.worker.v1.Worker/${m}`;
            const id = (b: Buffer) => b;
            if (m === "Query") {
              const s = raw.makeServerStreamRequest(path, id, id, body, { deadline });
              s.on("data", () => {});
              s.on("error", (e: grpc.ServiceError) => resolve(`${e.code} ${e.details}`));
              s.on("end", () => resolve("end"));
            } else if (m === "Load") {
              const s = raw.makeClientStreamRequest(path, id, id, { deadline }, (e) =>
                resolve(e ? `${e.code} ${e.details}` : "ok"),
              );
              s.write(body);
              s.end();
            } else {
              raw.makeUnaryRequest(path, id, id, body, { deadline }, (e) =>
                resolve(e ? `${e.code} ${e.details}` : "ok"),
              );
            }
          });
        } else {
          const name = pick(r, ["../x", "", "a/b", "x".repeat(500), "fz_none", "qcase01/../..", "\u0000", "."]);
          const req = {
            queryId: String(i),
            database: name,
            chunkId: pick(r, [-1, 0, 2 ** 31 - 1, -(2 ** 31), 6630, 1234567]),
            subChunkIds: [int(r, 100), -5],
            sql: sqlInput(r, false),
            maxBatchRows: pick(r, [0, 1, 2 ** 32 - 1]),
            maxBatchBytes: pick(r, [0, 1, 2 ** 32 - 1]),
            table: name,
            stage: name,
            chunkIds: [int(r, 10000), -1],
          };
          const m = pick(r, ["query", "list", "drop", "dropStage", "publish", "unpublish", "status"]);
          what = `${m} ${JSON.stringify(req).slice(0, 120)}`;
          call = new Promise((resolve) => {
            if (m === "query") {
              const s = typed.query!(req, { deadline }) as grpc.ClientReadableStream<unknown>;
              s.on("data", () => {});
              s.on("error", (e: grpc.ServiceError) => resolve(`${e.code} ${e.details}`));
              s.on("end", () => resolve("end"));
            } else {
              typed[m]!(req, { deadline }, (e: grpc.ServiceError | null) =>
                resolve(e ? `${e.code} ${e.details}` : "ok"),
              );
            }
          });
        }
        const res = await within(call, o.hangMs + 1000);
        // DEADLINE_EXCEEDED (4): the worker held the call past the bound.
        if (res === "hang" || res.startsWith("4 ")) {
          counts[kind]!.hangs++;
          note(kind, "hang", what);
        } else if (res.startsWith("13 ") && !/deserializ|parse/i.test(res)) {
          counts[kind]!.internal++;
          note(kind, "INTERNAL", `${what} → ${res}`);
        }
        if (i % 100 === 0) checkCrash(kind, what);
      });
      raw.close();
      (typed as unknown as grpc.Client).close();
      checkCrash(kind, "(end)");
    }

    // Ingests of mutated configs and catalog files, uploaded, into databases of their own.
    {
      const kind = "ingest";
      counts[kind] = zero();
      phase = kind;
      const r = rand(6);
      const base = {
        database: JSON.parse(readFileSync(join(CASE01, "ingest", "database.json"), "utf8")) as Record<string, unknown>,
        table: JSON.parse(readFileSync(join(CASE01, "ingest", "Filter.json"), "utf8")) as Record<string, unknown>,
        file: readFileSync(join(CASE01, "Filter.tsv.gz")),
        name: "Filter.tsv.gz",
      };
      const objectBase = {
        ...base,
        table: JSON.parse(readFileSync(join(CASE01, "ingest", "Object.json"), "utf8")) as Record<string, unknown>,
        file: readFileSync(join(CASE01, "Object.tsv.gz")),
        name: "Object.tsv.gz",
      };
      for (let i = 0; i < o.ingests; i++) {
        counts[kind]!.inputs++;
        const x = ingestInput(r, `fz${i % 5}`, r() < 0.5 ? base : objectBase);
        const head = { ...x.head, uploads: [{ name: x.name, bytes: x.file.length }] };
        const body = Buffer.concat([Buffer.from(`${JSON.stringify(head)}\n`), x.file]);
        const res = await within(
          fetch(`${c.czar.url}/ingest`, { method: "POST", headers: { "content-type": UPLOAD_CONTENT_TYPE }, body })
            .then(async (y) => ({ status: y.status, text: await y.text() }))
            .catch((e: Error) => ({ status: 0, text: String(e.cause ?? e.message) })),
          o.hangMs * 2,
        );
        const what = JSON.stringify(head).slice(0, 300);
        if (res === "hang") {
          counts[kind]!.hangs++;
          note(kind, "hang", what);
        } else if (res.status === 0) {
          counts[kind]!.dropped++;
          note(kind, "dropped", what);
        } else if (res.status >= 500) {
          const code = /"code":"(\w+)"/.exec(res.text)?.[1] ?? String(res.status);
          if (code === "INTERNAL") counts[kind]!.internal++;
          else counts[kind]!.serverErrors[code] = (counts[kind]!.serverErrors[code] ?? 0) + 1;
          note(kind, code, `${what} → ${res.text.slice(0, 300)}`);
        }
        checkCrash(kind, what);
      }
    }
  } finally {
    stopPing = true;
    await pinger;
    agent.destroy();
    clearInterval(sampler);
    sample();
    await c.stop();
  }
  return {
    seed: o.seed,
    counts,
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
