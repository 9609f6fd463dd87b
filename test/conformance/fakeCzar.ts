/**
 * An in-process stand-in for the czar's HTTP API (POST /ingest, POST /query) that answers each
 * itest query from its own SQLite: lets the runner's plumbing be tested without a czar.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type Database from "better-sqlite3";
import { parseDatabaseConfig, parseTableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { type QueryFile, queryFiles } from "../support/itest.js";
import { caseData } from "../support/itestData.js";
import { loadReference, referenceDb } from "../support/referenceDb.js";
import { expectedAnswer } from "./expected.js";
import type { SystemUnderTest } from "./runner.js";

export interface FakeCzarOptions {
  /** Answers (an empty result) where an error is due. */
  answerUnsupported?: boolean;
  /** Query files (rel paths) never answered. */
  hang?: ReadonlySet<string>;
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
}

const error = (code: string, message: string) => ({ error: { code, message, line: 1, column: 1 } });

/** Starts the fake on a free loopback port. */
export async function startFakeCzar(opts: FakeCzarOptions = {}): Promise<SystemUnderTest> {
  const dbs = new Map<string, { db: Database.Database; tables: Set<string> }>();
  // Identical texts recur across cases: key by database too.
  const key = (database: unknown, text: unknown) => `${String(database)}\n${String(text)}`;
  const byText = new Map<string, QueryFile>(queryFiles().map((q) => [key(`q${q.case}`, q.qserv), q]));
  const ingest = (b: Record<string, unknown>) => {
    const database = parseDatabaseConfig(b.database as Record<string, unknown>);
    const table = parseTableConfig(b.table as Record<string, unknown>);
    const held = dbs.get(database.database) ?? { db: referenceDb(), tables: new Set<string>() };
    dbs.set(database.database, held);
    const t = b.table as Record<string, unknown>;
    for (const d of [t.director_table, t.director_table2]) {
      if (typeof d === "string" && d !== "" && !held.tables.has(d))
        return { status: 409, value: error("CONFLICT", `${d} first`) };
    }
    let rows = 0;
    for (const f of b.files as string[]) rows += loadReference(held.db, f, table, tableDialect(table, f), database);
    held.tables.add(table.table);
    return { status: 200, value: { table: table.table, rows, chunks: 0, elapsedMs: 0 } };
  };
  const query = (b: Record<string, unknown>) => {
    const q = byText.get(key(b.database, b.query));
    const held = dbs.get(b.database as string);
    if (q === undefined || held === undefined) return { status: 400, value: error("BAD_QUERY", "unknown query") };
    if (q.expect === "error" && !opts.answerUnsupported) return { status: 400, value: error("UNSUPPORTED", q.rel) };
    if (q.expect !== "answer") return { status: 200, value: { columns: [], rows: [], stats: {} } };
    const r = expectedAnswer(held.db, q, caseData(q.case)).result;
    return { status: 200, value: { columns: r.columns.map((name) => ({ name, type: "TEXT" })), rows: r.rows } };
  };
  const server = createServer((req, res) => {
    body(req)
      .then((b) => {
        if (req.url === "/query" && opts.hang?.has(byText.get(key(b.database, b.query))?.rel ?? "")) return;
        const r = req.url === "/ingest" ? ingest(b) : req.url === "/query" ? query(b) : null;
        if (r === null) send(res, 404, error("NOT_FOUND", String(req.url)));
        else send(res, r.status, r.value);
      })
      .catch((e: Error) => send(res, 500, error("INTERNAL", e.message)));
  });
  // As the real czar: idle connections outlive the client's own keep-alive (undici's 4 s), so a
  // client never reuses a socket the server is closing (ECONNRESET on a busy machine).
  server.keepAliveTimeout = 65_000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      server.close();
      for (const { db } of dbs.values()) db.close();
    },
  };
}
