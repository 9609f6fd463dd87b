/**
 * A web console rig: worker processes and a czar (in this process) on loopback with the demo
 * catalog loaded through its HTTP API, and headless Chromium (Debian's, installed when missing)
 * driven by playwright-core on its page. Every console message of level error and every failed
 * request or 4xx/5xx answer the browser sees is collected in `problems`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { postJson } from "../../src/cli/httpClient.js";
import { cachedCatalog, loadDemo } from "../../src/cluster/demo.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { createLogger } from "../../src/common/log.js";
import { type CzarServer, type CzarServerOptions, startCzar } from "../../src/czar/server.js";
import { ensureDebianPackages } from "./debianPackages.js";

export const CHROMIUM = "/usr/bin/chromium";

/** Makes sure Debian's chromium is installed; why it cannot be used, or null. */
export function ensureChromium(): string | null {
  return ensureDebianPackages(["chromium"], () => existsSync(CHROMIUM));
}

export interface ConsoleRig {
  url: string;
  czar: CzarServer;
  workers: WorkerProcess[];
  browser: Browser;
  page: Page;
  /** Console errors, failed requests and error answers the browser saw. */
  problems: string[];
  /** The demo catalog's files (its CSVs and configs). */
  catalogDir: string;
  query(sql: string, database?: string): Promise<Record<string, unknown>>;
  /** Restarts the czar on the same data dir (the page is reloaded). */
  restartCzar(): Promise<void>;
  stop(): Promise<void>;
}

export interface RigOptions {
  workers: number;
  objects: number;
  czar?: Partial<CzarServerOptions>;
  /** Environment of the worker processes, by index. */
  workerEnv?: (i: number) => Record<string, string>;
  viewport?: { width: number; height: number };
}

export async function startConsoleRig(dir: string, o: RigOptions): Promise<ConsoleRig> {
  const workers = await Promise.all(
    Array.from({ length: o.workers }, (_, i) =>
      startWorkerProcess(join(dir, `w${i + 1}`), ["--threads", "2"], { env: o.workerEnv?.(i) ?? {} }),
    ),
  );
  const czarOptions: CzarServerOptions = {
    dataDir: join(dir, "czar"),
    workers: workers.map((w, i) => ({ id: `w${i + 1}`, address: w.address })),
    httpPort: 0,
    repairIntervalMs: 0,
    gcIntervalMs: 0,
    healthIntervalMs: 5000,
    log: createLogger("czar", "warn"),
    ...o.czar,
  };
  let czar = await startCzar(czarOptions);
  const base = () => `http://127.0.0.1:${czar.httpPort}`;
  const catalogDir = join(dir, "catalog");
  await cachedCatalog(catalogDir, o.objects, () => {});
  await loadDemo({ czarUrl: base(), dataDir: catalogDir, objects: o.objects });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: o.viewport ?? { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => {
    // A request the browser dropped because the test navigated away (an event stream, a fetch
    // under way) is not a failure of the page.
    if (r.failure()?.errorText !== "net::ERR_ABORTED") {
      problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
    }
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`answer ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  const rig: ConsoleRig = {
    get url() {
      return base();
    },
    get czar() {
      return czar;
    },
    workers,
    browser,
    page,
    problems,
    catalogDir,
    query: (sql, database = "demo") => postJson(`${base()}/query`, { query: sql, database }),
    async restartCzar() {
      // The page is left first: while the czar is down its requests would fail, as they should.
      const at = page.url();
      await page.goto("about:blank");
      await czar.close();
      czar = await startCzar({ ...czarOptions, httpPort: czar.httpPort });
      await page.goto(at);
    },
    async stop() {
      await browser.close();
      await czar.close();
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
  return rig;
}
