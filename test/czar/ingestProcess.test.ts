/**
 * Ingest through a czar process over three worker processes: progress as NDJSON when asked, plain
 * JSON otherwise; a client that goes away mid-ingest (an HTTP client, or `mini-qserv ingest` on
 * Ctrl-C) rolls the load back, and the table is as it was.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { WorkerClient } from "../../src/worker/client.js";
import { tempDir } from "../support/fs.js";
import { CLI } from "../support/paths.js";
import { SYN_DATABASE_JSON, SYN_TABLE_JSON, writeObjects } from "../support/synthetic.js";
import { waitFor } from "../support/waitFor.js";

describe("ingest through a czar process", () => {
  const dir = tempDir();
  const workers: WorkerProcess[] = [];
  const clients: WorkerClient[] = [];
  let czar: CzarProcess;
  const body = (file: string, progress = false) =>
    JSON.stringify({
      database: SYN_DATABASE_JSON,
      table: SYN_TABLE_JSON,
      files: [file],
      ...(progress ? { progress } : {}),
    });
  const query = async (sql: string) => {
    const r = await fetch(`${czar.url}/query`, { method: "POST", body: JSON.stringify({ query: sql }) });
    return (await r.json()) as { rows?: unknown[][]; error?: { code: string; message: string } };
  };
  /** Whether any worker holds a stage of qsyn. */
  const stagedAnywhere = async () => {
    for (const c of clients) if (((await c.list("qsyn")).databases[0]?.staged.length ?? 0) > 0) return true;
    return false;
  };
  /** Waits for the czar to finish every ingest; then no worker may hold a stage of qsyn. */
  const rolledBack = async () => {
    await waitFor("the ingest to end", async () => {
      const s = (await (await fetch(`${czar.url}/status`)).json()) as { ingests: unknown[] };
      return s.ingests.length === 0 ? true : undefined;
    });
    assert.equal(await stagedAnywhere(), false, "stages are left on the workers");
  };
  /** A plain JSON ingest, retried while the czar still finishes an earlier one of the table. */
  const ingest = async (file: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const r = await fetch(`${czar.url}/ingest`, { method: "POST", body: body(file) });
      const v = (await r.json()) as Record<string, unknown> & { error?: { message: string } };
      if (r.status === 409 && /being ingested/.test(v.error?.message ?? "")) {
        await sleep(50);
        continue;
      }
      assert.equal(r.status, 200, JSON.stringify(v));
      return v;
    }
  };

  before(async () => {
    for (let i = 1; i <= 3; i++) {
      const w = await startWorkerProcess(join(dir, `w${i}`));
      workers.push(w);
      clients.push(new WorkerClient(w.address));
    }
    czar = await startCzarProcess(
      join(dir, "czar"),
      workers.map((w, i) => `w${i + 1}=${w.address}`),
      ["--ingest-root", dir],
    );
  });
  after(async () => {
    for (const c of clients) c.close();
    await czar?.stop();
    for (const w of workers) await w.stop();
  });

  test("an HTTP client that goes away during the upload: nothing loaded; the retry streams its progress", async () => {
    const file = join(dir, "a.csv");
    writeObjects(file, 1, 20000);
    const abort = new AbortController();
    const res = await fetch(`${czar.url}/ingest`, { method: "POST", body: body(file, true), signal: abort.signal });
    assert.equal(res.headers.get("content-type"), "application/x-ndjson; charset=utf-8");
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const line of Buffer.from(piece)
          .toString()
          .split("\n")
          .filter((l) => l !== "")) {
          const v = JSON.parse(line) as { progress?: { phase: string } };
          seen.push(v.progress?.phase ?? "end");
          if (v.progress?.phase === "upload") abort.abort();
        }
      }
    });
    assert.deepEqual([seen[0], seen.at(-1)], ["partition", "upload"]);
    await rolledBack();
    assert.match((await query("SELECT COUNT(*) FROM qsyn.Obj")).error?.message ?? "", /Unknown database|qsyn/);

    const again = await fetch(`${czar.url}/ingest`, {
      method: "POST",
      body: body(file),
      headers: { accept: "application/x-ndjson" },
    });
    const lines = (await again.text())
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { progress?: { phase: string }; result?: Record<string, unknown> });
    const phases = [...new Set(lines.map((l) => l.progress?.phase ?? "result"))];
    assert.deepEqual(phases, ["partition", "upload", "publish", "result"]);
    assert.deepEqual(lines.at(-1)?.result?.rows, 20000);
    assert.deepEqual((await query("SELECT COUNT(*) FROM qsyn.Obj")).rows, [[20000]]);
    assert.equal((await ingest(file)).duplicate, true, "plain JSON: the same file again");
  });

  test("mini-qserv ingest interrupted (Ctrl-C) during the upload: rolled back, exit status non-zero", async () => {
    const file = join(dir, "b.csv");
    writeObjects(file, 100001, 20000);
    const dbJson = join(dir, "database.json");
    const tableJson = join(dir, "Obj.json");
    writeFileSync(dbJson, JSON.stringify(SYN_DATABASE_JSON));
    writeFileSync(tableJson, JSON.stringify(SYN_TABLE_JSON));
    const cli = spawn(
      process.execPath,
      [CLI, "ingest", "--czar", czar.url, "--database", dbJson, "--table", tableJson, file],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    cli.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = once(cli, "exit");
    await waitFor("the load to stage", async () => {
      assert.equal(cli.exitCode, null, `the CLI ended before its load staged: ${stderr}`);
      return (await stagedAnywhere()) ? true : undefined;
    });
    cli.kill("SIGINT");
    const [code] = (await exited) as [number | null];
    assert.notEqual(code, 0);
    assert.match(stderr, /CANCELLED.*rolls back/);
    await rolledBack();
    assert.deepEqual((await query("SELECT COUNT(*) FROM qsyn.Obj")).rows, [[20000]]);
    assert.equal((await ingest(file)).tableRows, 40000);
  });
});
