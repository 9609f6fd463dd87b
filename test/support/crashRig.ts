/**
 * A czar process over three worker processes (R = 2) on loopback, holding the demo catalog's
 * Object table, for crash tests: the czar is SIGKILLed at a chosen point of an append's publish
 * (a test point it halts at, MINI_QSERV_HALT_AT, or the moment the ingest reports its publish
 * phase), restarted, optionally repaired, and the append retried, while a sampler asks
 * `SELECT COUNT(*), SUM(objectId) FROM Object` every 150 ms and checks each answer is one the
 * table really had (before or after the append) or a clear error.
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as nextTick } from "node:timers/promises";
import { generateCatalog } from "../../bench/generate.js";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startNodeProcess } from "../../src/cluster/nodeProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { HALT_ENV } from "../../src/common/haltPoint.js";
import { WorkerClient } from "../../src/worker/client.js";
import { waitFor } from "./waitFor.js";

/** Where the czar dies: a test point of the publish, or on the ingest's publish progress line. */
export type CrashPoint =
  | "publish:locked"
  | "publish:journal"
  | "publish:partial"
  | "publish:workers"
  | "publish:committed"
  | "publish:recorded"
  | "progress";

export const CRASH_POINTS: readonly CrashPoint[] = [
  "publish:locked",
  "publish:journal",
  "publish:partial",
  "publish:workers",
  "publish:committed",
  "publish:recorded",
  "progress",
];

/** The points past the publish's point of no return (every worker published): the restart finishes it. */
export const FORWARD: ReadonlySet<CrashPoint> = new Set(["publish:workers", "publish:committed", "publish:recorded"]);

/** What the table holds after some parts: rows and the sum of objectId. */
interface Content {
  count: number;
  sum: number;
}

const key = (c: Content) => `${c.count}/${c.sum}`;

/** Resolves `halted` once a process whose logs go to `onLog` halts at the test point `point`. */
export function haltWatch(point: string): {
  onLog: (line: Record<string, unknown> | string) => void;
  halted: Promise<void>;
} {
  let halted!: () => void;
  return {
    halted: new Promise<void>((r) => {
      halted = r;
    }),
    onLog: (l) => {
      if (typeof l === "object" && l.msg === "halted at a test point" && l.point === point) halted();
    },
  };
}

export interface Sample {
  at: number;
  /** What the rig was doing (see `phase`). */
  phase: string;
  answer: string;
}

export class CrashRig {
  czar!: CzarProcess;
  /** Answers that were not allowed when they came (wrong counts, unexpected errors). */
  readonly violations: Sample[] = [];
  samples = 0;
  /** What the rig is doing, for the report of a wrong answer. */
  phase = "start";
  errors = 0;
  /** Answers the sampler accepts (replaced, never changed: a query checks what held when it started). */
  allowed = new Set<string>();
  private sampling: Promise<void> | null = null;
  /** The test point the running czar halts at (started so by the last case), if any. */
  private armed: string | null = null;
  /** Where the running czar's log lines go. */
  private onLog: ((line: Record<string, unknown> | string) => void) | null = null;
  private stopSampling = false;
  readonly clients: WorkerClient[];

  private constructor(
    readonly dir: string,
    readonly workers: WorkerProcess[],
    /** Object.csv split into parts: part 0 is the first load, each later one an append. */
    readonly parts: Array<{ file: string; content: Content }>,
    private readonly dbJson: unknown,
    private readonly tableJson: unknown,
    /** Repair and health intervals of the czar, in seconds (0: only on demand). */
    private readonly intervals: { repair: number; health: number },
    /** More options of the czar. */
    private readonly czarExtra: readonly string[],
  ) {
    this.clients = workers.map((w) => new WorkerClient(w.address));
  }

  /**
   * Generates the catalog (`objects` rows split into `parts` files; `stripes` 18 is the demo's
   * layout, fewer make fewer chunks), starts 3 workers and a czar, loads part 0.
   */
  static async start(
    dir: string,
    objects: number,
    parts: number,
    stripes = 18,
    intervals = { repair: 0, health: 0 },
    czarExtra: readonly string[] = [],
  ): Promise<CrashRig> {
    const cat = await generateCatalog({
      outDir: join(dir, "catalog"),
      objects,
      sourcesPerObject: 0,
      database: "demo",
      numStripes: stripes,
      numSubStripes: 6,
      overlap: 0.01667,
    });
    const lines = readFileSync(cat.objectCsv, "utf8").split("\n").filter(Boolean);
    const split = Array.from({ length: parts }, (_, p) => {
      const mine = lines.filter((_, i) => i % parts === p);
      const file = join(dir, "catalog", `Object.part${p}.csv`);
      writeFileSync(file, `${mine.join("\n")}\n`);
      const sum = mine.reduce((n, l) => n + Number(l.slice(0, l.indexOf(","))), 0);
      return { file, content: { count: mine.length, sum } };
    });
    const workers: WorkerProcess[] = [];
    for (let i = 1; i <= 3; i++) workers.push(await startWorkerProcess(join(dir, `w${i}`), ["--threads", "1"]));
    const rig = new CrashRig(
      dir,
      workers,
      split,
      JSON.parse(readFileSync(cat.databaseJson, "utf8")),
      JSON.parse(readFileSync(cat.objectJson, "utf8")),
      intervals,
      czarExtra,
    );
    await rig.startCzar();
    const r = await rig.ingest(0);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    rig.allowed = rig.states(1);
    return rig;
  }

  /** The answers of the table after each of `n` parts loaded. */
  states(...n: number[]): Set<string> {
    return new Set(n.map((k) => this.key(k)));
  }

  /** The answer of the table after `n` parts loaded. */
  key(n: number): string {
    return key(this.content(n));
  }

  /** The table's content once parts 0..n-1 are loaded. */
  content(n: number): Content {
    return this.parts
      .slice(0, n)
      .reduce((a, p) => ({ count: a.count + p.content.count, sum: a.sum + p.content.sum }), { count: 0, sum: 0 });
  }

  private czarArgs(): string[] {
    return [
      "--ingest-root",
      this.dir,
      "--replicas",
      "2",
      "--repair-interval",
      String(this.intervals.repair),
      "--health-interval",
      String(this.intervals.health),
      ...this.czarExtra,
    ];
  }

  async startCzar(env: Record<string, string> = {}, onLog?: (line: Record<string, unknown> | string) => void) {
    this.onLog = onLog ?? null;
    this.czar = await startCzarProcess(
      join(this.dir, "czar"),
      this.workers.map((w, i) => `w${i + 1}=${w.address}`),
      this.czarArgs(),
      { env, keepLogs: false, onLog: (l) => this.onLog?.(l) },
    );
  }

  /**
   * Starts the czar (none running) to halt at `point` of its start (the journal's replay, before
   * it listens), and SIGKILLs it there; fails if it starts listening instead.
   */
  async killInReplay(point: string): Promise<void> {
    let listening!: (e: Error) => void;
    const fails = new Promise<never>((_, reject) => {
      listening = reject;
    });
    const args = ["czar", "--http-port", "0", "--mysql-port", "0", "--data-dir", join(this.dir, "czar")];
    const started = startNodeProcess(
      [...args, ...this.workers.flatMap((w, i) => ["--worker", `w${i + 1}=${w.address}`]), ...this.czarArgs()],
      "halted at a test point",
      {
        env: { [HALT_ENV]: point },
        keepLogs: false,
        onLog: (l) => {
          if (typeof l === "object" && l.msg === "czar listening")
            listening(new Error(`the czar never halted at ${point}`));
        },
      },
    );
    const p = await Promise.race([started, fails]);
    await p.stop("SIGKILL");
  }

  /**
   * Appends part `part` with the czar SIGKILLed at `point` and started again (first halted and
   * killed at `replayHalt` of the replay, when given): right after, the table holds the append
   * entirely (a point past the commit point) or not at all. Returns whether it holds it.
   */
  async killAt(part: number, point: CrashPoint, replayHalt?: string, next?: CrashPoint): Promise<boolean> {
    const forward = FORWARD.has(point);
    this.phase = `append of part ${part} killed at ${point}${replayHalt ? `, then at ${replayHalt}` : ""}`;
    this.allowed = this.states(part, part + 1);
    await this.haltIngest(part, point);
    if (replayHalt !== undefined) await this.killInReplay(replayHalt);
    // The czar that replays is armed for the next case already (it answers as any czar does).
    await this.startCzar(next === undefined ? {} : { [HALT_ENV]: next });
    this.armed = next ?? null;
    const now = forward ? part + 1 : part;
    await this.expectExact(now, `after the restart (killed at ${point}${replayHalt ? `, ${replayHalt}` : ""})`);
    this.allowed = this.states(now);
    return forward;
  }

  /** Starts the czar to halt at `point`, posts the append of `part`, and SIGKILLs the czar once halted there. */
  async haltIngest(part: number, point: string): Promise<void> {
    const halt = haltWatch(point);
    if (this.armed !== point) {
      await this.czar.stop("SIGKILL");
      await this.startCzar({ [HALT_ENV]: point });
    }
    this.armed = null;
    this.onLog = halt.onLog;
    const pending = this.ingest(part).catch(() => null);
    await halt.halted;
    await this.czar.stop("SIGKILL");
    assert.equal(await pending, null, "the halted ingest answered");
  }

  /** POST /ingest of a part (its NDJSON progress lines with `progress`). */
  postIngest(part: number, progress = false): Promise<Response> {
    return fetch(`${this.czar.url}/ingest`, {
      method: "POST",
      body: JSON.stringify({
        database: this.dbJson,
        table: this.tableJson,
        files: [this.parts[part]!.file],
        ...(progress ? { progress: true } : {}),
      }),
    });
  }

  async ingest(part: number): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await this.postIngest(part);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  }

  async post(path: string, body?: unknown): Promise<Record<string, unknown>> {
    const r = await fetch(`${this.czar.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await r.json()) as Record<string, unknown>;
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(json)}`);
    return json;
  }

  /** The table's count and sum now, as "count/sum", or the error. */
  async sample(): Promise<{ ok: boolean; answer: string; code?: string }> {
    let r: Response;
    try {
      r = await fetch(`${this.czar.url}/query`, {
        method: "POST",
        body: JSON.stringify({ query: "SELECT COUNT(*), SUM(objectId) FROM Object", database: "demo" }),
      });
    } catch (e) {
      return { ok: false, answer: `no answer: ${(e as Error).message}`, code: "DOWN" };
    }
    const body = (await r.json()) as { rows?: number[][]; error?: { code: string; message: string } };
    if (r.status !== 200) {
      const code = body.error?.code ?? String(r.status);
      return { ok: false, answer: `${r.status} ${code}: ${body.error?.message}`, code };
    }
    const [count, sum] = body.rows![0]!;
    return { ok: true, answer: key({ count: Number(count), sum: Number(sum) }) };
  }

  /** Samples back to back (each sample waits for its answer) until stopped; answers must be allowed ones, or UNAVAILABLE / the czar down. */
  startSampler(): void {
    this.stopSampling = false;
    this.sampling = (async () => {
      while (!this.stopSampling) {
        // What the table may hold when the query starts (the set is replaced, never changed).
        const allowed = this.allowed;
        const s = await this.sample();
        this.samples++;
        if (!s.ok) this.errors++;
        const fine = s.ok ? allowed.has(s.answer) : ["DOWN", "UNAVAILABLE", "CANCELLED"].includes(s.code ?? "");
        if (!fine) this.violations.push({ at: Date.now(), phase: this.phase, answer: s.answer });
        await nextTick(); // let the test's own work run between samples
      }
    })();
  }

  async stopSampler(): Promise<void> {
    this.stopSampling = true;
    await this.sampling;
  }

  /** The answer must be exactly the table after `n` parts. */
  async expectExact(n: number, what: string): Promise<void> {
    const s = await this.sample();
    assert.equal(s.answer, key(this.content(n)), what);
  }

  /**
   * Appends part `part` (parts 0..part-1 loaded) with the czar SIGKILLed at `point`; restarts it,
   * checks the answer right away (the append rolled back, or recorded at "publish:recorded"), runs a
   * repair pass when asked (nothing to drop), retries the append and checks it is exact and whole.
   */
  async crashAppend(part: number, point: CrashPoint, repair: boolean, replayHalt?: string): Promise<void> {
    this.phase = `append of part ${part} killed at ${point}`;
    const before = this.content(part);
    const after = this.content(part + 1);
    this.allowed = new Set([key(before), key(after)]);
    const halt = haltWatch(point);
    await this.czar.stop("SIGTERM");
    if (point === "progress") {
      await this.startCzar();
      // Killed the moment the ingest says it publishes: the workers are publishing or about to.
      const r = await this.postIngest(part, true);
      const reader = r.body!.getReader();
      let text = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString("utf8");
        if (text.includes('"phase":"publish"')) break;
      }
      assert.ok(text.includes('"phase":"publish"'), `the ingest never reached its publish: ${text}`);
      await this.czar.stop("SIGKILL");
      reader.cancel().catch(() => {});
    } else {
      await this.startCzar({ [HALT_ENV]: point }, halt.onLog);
      const pending = this.ingest(part).catch(() => null);
      await halt.halted;
      await this.czar.stop("SIGKILL");
      assert.equal(await pending, null, "the halted ingest answered");
      if (replayHalt !== undefined) await this.killInReplay(replayHalt);
    }
    await this.startCzar();
    const recorded = FORWARD.has(point);
    const now = await this.sample();
    if (point === "progress") assert.ok(this.allowed.has(now.answer), `after the restart: ${now.answer}`);
    else await this.expectExact(recorded ? part + 1 : part, `after the restart at ${point}`);
    assert.deepEqual(
      readdirSync(join(this.dir, "czar", "scratch")).filter((n) => n.startsWith("ingest-")),
      [],
      "the dead ingest's scratch directory is left",
    );
    if (repair) {
      const rep = (await this.post("/replicate", {})) as Record<string, unknown[]>;
      assert.deepEqual([rep.dropped, rep.unavailable, rep.failed], [[], [], []], JSON.stringify(rep));
    }
    const r = await this.ingest(part);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.tableRows, after.count);
    if (point !== "progress") assert.equal(r.body.duplicate, recorded);
    this.allowed = new Set([key(after)]);
    await this.expectExact(part + 1, `after the retry of the append killed at ${point}`);
    await this.expectWhole();
  }

  /**
   * The czar halted once every worker published part `part`, SIGKILLed together with a worker
   * that published it; restarted while that worker is down, so the publish stays undecided.
   * Returns that worker's index.
   */
  async crashWithWorkerDown(part: number): Promise<number> {
    const published = async (i: number) =>
      ((await this.clients[i]!.list("demo")).databases[0]?.published ?? []).map((s) => s.stage);
    const before = new Set((await Promise.all(this.clients.map((_, i) => published(i)))).flat());
    await this.haltIngest(part, "publish:workers");
    let holder = -1;
    for (let i = 0; i < this.clients.length && holder < 0; i++) {
      if ((await published(i)).some((stage) => !before.has(stage))) holder = i;
    }
    assert.ok(holder >= 0, "no worker shows the publish");
    await this.killWorker(holder);
    await this.startCzar();
    return holder;
  }

  /** Appends part `part` (parts 0..part-1 loaded): exact after, every chunk on 2 replicas, no stage left. */
  async appendWhole(part: number): Promise<void> {
    this.allowed = this.states(part, part + 1);
    const r = await this.ingest(part);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    this.allowed = this.states(part + 1);
    await this.expectExact(part + 1, `after the append of part ${part}`);
    await this.expectWhole();
  }

  /**
   * Repair passes leave every chunk on 2 live replicas and no worker keeps a stage (a pass whose
   * probe timed out on a busy machine is followed by another; bounded).
   */
  async expectWhole(): Promise<void> {
    const whole = async () => {
      await this.post("/replicate", {});
      const status = (await this.post("/status")) as {
        databases: Array<{ database: string; chunks: number; replicas: { histogram: Record<string, number> } }>;
      };
      const demo = status.databases.find((d) => d.database === "demo")!;
      const staged = (await Promise.all(this.clients.map((c) => c.list("demo")))).flatMap((l) =>
        l.databases.flatMap((d) => d.staged),
      );
      return { histogram: demo.replicas.histogram, want: { 2: demo.chunks }, staged };
    };
    let last = await whole();
    const done = (w: typeof last) => JSON.stringify(w.histogram) === JSON.stringify(w.want) && w.staged.length === 0;
    if (!done(last)) {
      await waitFor(
        "every chunk on 2 live replicas, no stage left",
        async () => {
          last = await whole();
          return done(last) ? true : undefined;
        },
        120_000,
      ).catch(() => undefined); // the asserts below say what is still wrong
    }
    assert.deepEqual(last.histogram, last.want, "chunks by live replicas");
    assert.deepEqual(last.staged, [], "stages left on a worker");
  }

  /** Worker i (0-based) SIGKILLed and started again on its port and data dir. */
  async restartWorker(
    i: number,
    env: Record<string, string> = {},
    onLog?: (line: Record<string, unknown> | string) => void,
  ): Promise<void> {
    await this.killWorker(i);
    await this.startWorker(i, env, onLog);
  }

  /** Waits (polling the czar's status, which probes the workers) until the czar sees worker i up. */
  async waitUp(i: number): Promise<void> {
    await waitFor(
      `the czar sees w${i + 1} up`,
      async () => {
        const s = (await this.post("/status")) as { workers: Array<{ id: string; up: boolean }> };
        return s.workers.find((w) => w.id === `w${i + 1}`)?.up === true ? true : undefined;
      },
      120_000,
    );
  }

  async killWorker(i: number): Promise<void> {
    await this.workers[i]!.stop("SIGKILL");
  }

  async startWorker(
    i: number,
    env: Record<string, string> = {},
    onLog?: (line: Record<string, unknown> | string) => void,
  ): Promise<void> {
    const port = this.workers[i]!.address.split(":")[1]!;
    this.workers[i] = await startWorkerProcess(join(this.dir, `w${i + 1}`), ["--threads", "1", "--port", port], {
      env,
      ...(onLog === undefined ? {} : { onLog }),
    });
  }

  /** What worker i holds of the demo database: chunk files and stages. */
  async held(i: number): Promise<{ chunks: number[]; staged: number }> {
    const d = (await this.clients[i]!.list("demo")).databases[0];
    return { chunks: d?.chunks.map((c) => c.chunkId) ?? [], staged: d?.staged.length ?? 0 };
  }

  async stop(): Promise<void> {
    await this.stopSampler();
    for (const c of this.clients) c.close();
    await this.czar?.stop("SIGTERM");
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}
