/**
 * PostgreSQL 15 + q3c under test: a private server (bench/pg/setup.sh), the catalog loaded with
 * COPY, Object clustered on its q3c index; queries through `psql` sessions (one per client).
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { QservError } from "../../src/common/errors.js";
import { inputColumns, loadTableConfig } from "../../src/common/ingestConfig.js";
import type { GeneratedCatalog } from "../generate.js";
import type { System } from "./system.js";

const run = promisify(execFile);
const SETUP = resolve("bench/pg/setup.sh");
const MARK = "__mq_bench_done__";

/** The PostgreSQL type holding what the MySQL type holds (floats as double, as SQLite stores them). */
function pgType(mysqlType: string): string {
  const t = mysqlType.trim().toLowerCase();
  if (t.startsWith("bigint")) return "bigint";
  if (t.startsWith("double") || t.startsWith("float")) return "double precision";
  if (t.startsWith("tinyint") || t.startsWith("smallint")) return "smallint";
  if (t.startsWith("int")) return "integer";
  throw new QservError("BAD_CONFIG", `no PostgreSQL type for ${mysqlType}`);
}

function copyScript(json: string, csv: string): string {
  const t = loadTableConfig(json);
  const cols = inputColumns(t).map((c) => `${c.name} ${pgType(c.type)}`);
  return `BEGIN;\nDROP TABLE IF EXISTS ${t.table};\nCREATE TABLE ${t.table} (${cols.join(", ")});\n\\copy ${t.table} FROM '${resolve(csv)}' WITH (FORMAT text, DELIMITER ',')\nCOMMIT;\n`;
}

/** One psql process answering one statement at a time: rows as text fields. */
class PsqlSession {
  private readonly proc: ChildProcessWithoutNullStreams;
  private out = "";
  private err = "";
  private waiting: { resolve: (rows: unknown[][]) => void; reject: (e: Error) => void } | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(args: string[]) {
    this.proc = spawn("psql", [...args, "-X", "-q", "-A", "-t", "-F", "\t", "-P", "null=NULL"]);
    this.proc.stdout.setEncoding("utf8").on("data", (s: string) => {
      this.out += s;
      this.settle();
    });
    this.proc.stderr.setEncoding("utf8").on("data", (s: string) => {
      this.err += s;
      this.settle();
    });
  }

  /** Done when both streams show the marker: stdout carries the rows, stderr any error. */
  private settle(): void {
    const end = `${MARK}\n`;
    if (this.waiting === null || !this.out.endsWith(end) || !this.err.endsWith(end)) return;
    const lines = this.out.slice(0, -end.length).split("\n");
    const error = this.err.slice(0, -end.length).trim();
    const w = this.waiting;
    this.waiting = null;
    this.out = "";
    this.err = "";
    if (error !== "") w.reject(new QservError("SQL_ERROR", error));
    else w.resolve(lines.filter((l) => l !== "").map((l) => l.split("\t")));
  }

  query(sql: string): Promise<unknown[][]> {
    const next = this.chain.then(
      () =>
        new Promise<unknown[][]>((resolve, reject) => {
          this.waiting = { resolve, reject };
          this.proc.stdin.write(`${sql};\n\\echo ${MARK}\n\\warn ${MARK}\n`);
        }),
    );
    this.chain = next.catch(() => {});
    return next;
  }

  close(): void {
    this.proc.stdin.end();
  }
}

export interface PgOptions {
  dir: string;
  port: number;
}

/** Starts the server and loads the catalog; null (with the reason said) when PostgreSQL is not available. */
export async function startPg(
  cat: GeneratedCatalog,
  o: PgOptions,
  say: (line: string) => void,
): Promise<System | null> {
  try {
    await run("bash", [SETUP, "start", o.dir, String(o.port)]);
  } catch (e) {
    say(`PostgreSQL+q3c skipped: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`);
    return null;
  }
  const conn = ["-h", join(resolve(o.dir), "sock"), "-p", String(o.port), "-U", "postgres", "-d", "bench"];
  const script = join(o.dir, "load.sql");
  let sql = copyScript(cat.objectJson, cat.objectCsv);
  if (cat.sourceJson !== null && cat.sourceCsv !== null) sql += copyScript(cat.sourceJson, cat.sourceCsv);
  const hsc = (cat.hscJson ?? null) !== null && (cat.hscCsv ?? null) !== null;
  if (hsc) sql += copyScript(cat.hscJson as string, cat.hscCsv as string);
  sql += [
    "CREATE INDEX object_q3c ON Object (q3c_ang2ipix(ra, decl));",
    "CLUSTER Object USING object_q3c;",
    "ALTER TABLE Object ADD PRIMARY KEY (objectId);",
    cat.sourceJson === null ? "" : "CREATE INDEX source_objectId ON Source (objectId);",
    hsc ? "CREATE INDEX hsc_q3c ON Hsc (q3c_ang2ipix(ra, decl));\nCLUSTER Hsc USING hsc_q3c;" : "",
    "ANALYZE;",
    "",
  ].join("\n");
  writeFileSync(script, sql);
  say("PostgreSQL: COPY, q3c index, CLUSTER, ANALYZE");
  const t0 = performance.now();
  await run("psql", [...conn, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", script], { maxBuffer: 1 << 24 });
  const ingestSeconds = (performance.now() - t0) / 1000;
  const sessions: PsqlSession[] = [];
  const open = () => {
    const s = new PsqlSession(conn);
    sessions.push(s);
    return s;
  };
  const main = open();
  const version = readFileSync(join(o.dir, "data", "PG_VERSION"), "utf8").trim();
  return {
    name: `PostgreSQL ${version} + q3c`,
    dialect: "pg",
    ingestSeconds,
    detail: "psql sessions over a Unix socket",
    query: async (q) => ({ rows: await main.query(q) }),
    clients: async (n) =>
      Array.from({ length: n }, () => {
        const s = open();
        return async (q: string) => ({ rows: await s.query(q) });
      }),
    close: async () => {
      for (const s of sessions) s.close();
      await run("bash", [SETUP, "stop", o.dir]);
    },
  };
}
