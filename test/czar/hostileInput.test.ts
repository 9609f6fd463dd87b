/**
 * Hostile input on a real cluster (two worker processes and a czar process on loopback, case01's
 * Object and Source uploaded by `mini-qserv ingest`): statements nested past the parser's limits
 * are refused with TOO_LARGE "too deeply nested" and their line and column (never INTERNAL, never
 * a crash); statements just within them are answered as one SQLite database answers them; huge
 * LIMITs work; a text over --max-query-mb is refused. Ingest: paths only under --ingest-root,
 * special files refused without blocking, table names checked before the file system, and every
 * malformed upload a 4xx with the reason.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import mysql from "mysql2/promise";
import { toJsonValue } from "../../src/common/jsonValue.js";
import type { Value } from "../../src/common/rowCodec.js";
import { UPLOAD_CONTENT_TYPE } from "../../src/czar/ingestInput.js";
import { MAX_HEIGHT, MAX_NESTING } from "../../src/czar/sql/limits.js";
import { tempDir } from "../support/fs.js";
import { SKIP_ITEST } from "../support/paths.js";
import { rowSet } from "../support/rows.js";
import { CASE01, postQuery, type SmallCluster, startSmallCluster } from "../support/smallCluster.js";

const rep = (s: string, n: number) => s.repeat(n);

/** Inputs of the issue's sizes, each past a limit: [name, SQL]. */
const TOO_DEEP: Array<[string, string]> = [
  ["10k nested parentheses", `SELECT ${rep("(", 10_000)}1${rep(")", 10_000)} FROM Object`],
  ["5k nested function calls", `SELECT ${rep("ABS(", 5000)}ra_PS${rep(")", 5000)} FROM Object`],
  ["100k NOT", `SELECT objectId FROM Object WHERE ${rep("NOT ", 100_000)}objectId = 1`],
  ["100k unary minus", `SELECT ${rep("- ", 100_000)}1 FROM Object`],
  ["100k unary plus", `SELECT ${rep("+", 100_000)}1 FROM Object`],
  ["50k AND", `SELECT objectId FROM Object WHERE objectId > 0${rep(" AND objectId > 0", 50_000)}`],
  ["50k OR", `SELECT objectId FROM Object WHERE objectId = 0${rep(" OR objectId = 0", 50_000)}`],
  ["50k +", `SELECT 1${rep(" + 1", 50_000)} FROM Object`],
  ["1k nested subqueries", `SELECT ${rep("(SELECT ", 1000)}1${rep(")", 1000)}`],
  ["2k UNION", `SELECT 1${rep(" UNION SELECT 1", 2000)}`],
];

describe("hostile input on a real cluster", { skip: SKIP_ITEST }, () => {
  const dir = tempDir();
  const root = join(dir, "root");
  let c: SmallCluster;

  const expected = (sql: string) =>
    rowSet(
      (c.ref.prepare(sql).raw(true).safeIntegers(true).all() as Value[][]).map((r) => r.map(toJsonValue)),
      false,
      12,
    );
  const answered = async (sql: string, ref = sql) => {
    const r = await postQuery(c.czar.url, sql);
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    assert.deepEqual(rowSet(r.body.rows as never, false, 12), expected(ref), sql.slice(0, 80));
  };
  const refused = async (sql: string, status: number, code: string, message: RegExp) => {
    const r = await postQuery(c.czar.url, sql);
    const err = r.body.error as { code: string; message: string; line?: number; column?: number };
    assert.equal(r.status, status, JSON.stringify(r.body).slice(0, 300));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return err;
  };

  before(async () => {
    mkdirSync(root);
    c = await startSmallCluster(dir, ["--max-query-mb", "1", "--ingest-root", root]);
  });
  after(() => c?.stop());

  test("past the limits: TOO_LARGE 'too deeply nested' with line and column, over HTTP and MySQL", async () => {
    for (const [name, sql] of TOO_DEEP) {
      const err = await refused(sql, 413, "TOO_LARGE", /^too deeply nested at line 1, column \d+/);
      assert.equal(err.line, 1, name);
      assert.ok(typeof err.column === "number" && err.column > 1, name);
      assert.match(err.message, new RegExp(`more than (${MAX_NESTING}|${MAX_HEIGHT}) levels`), name);
    }
    const conn = await mysql.createConnection({ host: "127.0.0.1", port: c.czar.mysqlPort, database: "qcase01" });
    try {
      for (const [, sql] of TOO_DEEP.slice(0, 3)) {
        await assert.rejects(conn.query(sql), (e: { errno?: number; message?: string }) => {
          assert.equal(e.errno, 1105);
          assert.match(e.message ?? "", /^TOO_LARGE: too deeply nested at line 1, column \d+/);
          return true;
        });
      }
      // The connection is still good.
      const [rows] = await conn.query("SELECT COUNT(*) AS n FROM Object");
      assert.deepEqual(rows, [{ n: 88 }]);
    } finally {
      await conn.end();
    }
  });

  test("within the limits: deep and long expressions are answered as the single database answers", async () => {
    const depth = MAX_NESTING - 20;
    const terms = MAX_HEIGHT - 100;
    await answered(`SELECT objectId FROM Object WHERE ${rep("(", depth)}objectId > 0${rep(")", depth)}`);
    await answered(`SELECT objectId FROM Object WHERE ${rep("NOT ", 2 * Math.floor(depth / 2))}ra_PS > 1`);
    await answered(`SELECT ${rep("ABS(", depth)}ra_PS${rep(")", depth)} FROM Object`);
    const ids = (c.ref.prepare("SELECT objectId FROM Object").pluck().safeIntegers(true).all() as bigint[]).slice(
      0,
      30,
    );
    await answered(
      `SELECT objectId FROM Object WHERE objectId = 0${ids.map((id) => ` OR objectId = ${id}`).join("")}${rep(" OR objectId = 1", terms - ids.length)}`,
    );
    await answered(`SELECT objectId FROM Object WHERE objectId > 0${rep(" AND ra_PS > -1", terms)}`);
    // Printed for SQLite with parentheses, an arithmetic chain meets SQLite's parser stack sooner.
    await answered(`SELECT COUNT(*), SUM(1${rep(" + 1", 300)}) FROM Object`);
  });

  test("huge LIMIT and OFFSET values work as in MySQL", async () => {
    const all = "SELECT objectId FROM Object";
    for (const n of ["9223372036854775807", "18446744073709551615", "9007199254740993"]) {
      await answered(`${all} LIMIT ${n}`, all);
      await answered(`SELECT COUNT(*) FROM Object LIMIT ${n}`, "SELECT COUNT(*) FROM Object");
      const r = await postQuery(c.czar.url, `${all} LIMIT ${n} OFFSET ${n}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.rows, []);
    }
    await answered(
      `${all} ORDER BY objectId LIMIT 3, 18446744073709551615`,
      `${all} ORDER BY objectId LIMIT -1 OFFSET 3`,
    );
    await refused(`${all} LIMIT 18446744073709551616`, 400, "SYNTAX_ERROR", /at most 18446744073709551615/);
  });

  test("found by the fuzz run: a subquery in SHOW ... WHERE is refused, not INTERNAL", async () => {
    await refused(
      "SHOW COLUMNS FROM Object WHERE objectId IN (SELECT objectId FROM Source)",
      400,
      "UNSUPPORTED",
      /^subqueries in SHOW \.\.\. WHERE are not supported at line 1, column 41$/,
    );
  });

  test("found by the fuzz run: a request target that is no URL path ('//') is a 4xx; the czar lives", async () => {
    const { port } = new URL(c.czar.url);
    for (const target of ["//", "//a:b@[", "/ingest/%"]) {
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = net.connect(Number(port), "127.0.0.1");
        let got = "";
        sock.on("data", (d: Buffer) => {
          got += d.toString("latin1");
        });
        sock.on("error", reject);
        sock.on("close", () => resolve(got));
        sock.end(`GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
      });
      assert.match(answer, /^HTTP\/1\.1 4\d\d/, `${target}: ${answer.slice(0, 80)}`);
    }
    const r = await fetch(`${c.czar.url}/query`, { method: "POST", body: JSON.stringify({ query: "SELECT 1" }) });
    assert.equal(r.status, 200);
  });

  test("a query text over --max-query-mb is refused with TOO_LARGE", async () => {
    const list = Array.from({ length: 200_000 }, (_, i) => i).join(",");
    assert.ok(list.length > 1 << 20);
    await refused(
      `SELECT COUNT(*) FROM Object WHERE objectId IN (${list})`,
      413,
      "TOO_LARGE",
      /^query text of \d+ bytes is over the limit of 1048576 bytes$/,
    );
  });

  const ingest = async (body: unknown, init: RequestInit = {}) => {
    const r = await fetch(`${c.czar.url}/ingest`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      ...init,
    });
    const text = await r.text();
    return { status: r.status, body: JSON.parse(text) as Record<string, unknown> };
  };
  const configs = () => ({
    database: JSON.parse(readFileSync(join(CASE01, "ingest", "database.json"), "utf8")) as Record<string, unknown>,
    table: JSON.parse(readFileSync(join(CASE01, "ingest", "Filter.json"), "utf8")) as Record<string, unknown>,
  });
  const bad = async (body: unknown, status: number, code: string, message: RegExp, init: RequestInit = {}) => {
    const r = await ingest(body, init);
    assert.equal(r.status, status, JSON.stringify(r.body));
    const err = r.body.error as { code: string; message: string };
    assert.equal(err.code, code);
    assert.match(err.message, message);
  };

  test("ingest by path: only regular files under --ingest-root; special files refused at once", async () => {
    const filter = join(root, "Filter.tsv.gz");
    copyFileSync(join(CASE01, "Filter.tsv.gz"), filter);
    execFileSync("mkfifo", [join(root, "fifo.tsv")]);
    symlinkSync("/dev/zero", join(root, "zero.tsv"));
    mkdirSync(join(root, "sub.tsv"));
    const outside = join(CASE01, "Filter.tsv.gz");
    await bad({ ...configs(), files: [outside] }, 400, "BAD_ARGUMENT", /not under an ingest root of the czar/);
    await bad({ ...configs(), files: ["/dev/zero"] }, 400, "BAD_ARGUMENT", /not under an ingest root/);
    await bad({ ...configs(), files: [join(root, "zero.tsv")] }, 400, "BAD_ARGUMENT", /not under an ingest root/);
    await bad({ ...configs(), files: [join(root, "fifo.tsv")] }, 400, "BAD_ARGUMENT", /fifo\.tsv: not a regular file/);
    await bad({ ...configs(), files: [join(root, "sub.tsv")] }, 400, "BAD_ARGUMENT", /not a regular file/);
    await bad({ ...configs(), files: [join(root, "..", "root", "nothing.tsv")] }, 400, "BAD_ARGUMENT", /cannot read/);
    await bad({ ...configs(), files: ["Filter.tsv.gz"] }, 400, "BAD_ARGUMENT", /not an absolute path/);
    const ok = await ingest({ ...configs(), files: [join(root, "..", "root", "Filter.tsv.gz")] });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.rows, 9);
  });

  test("ingest: names checked as identifiers before the file system; malformed requests are 4xx", async () => {
    const { database, table } = configs();
    const file = [join(root, "Filter.tsv.gz")];
    for (const name of ["../x", "a/b", "x y", "", "`x`", "a".repeat(65)]) {
      await bad(
        { database, table: { ...table, table: name }, files: file },
        400,
        "BAD_CONFIG",
        /is not a valid identifier/,
      );
    }
    await bad({ database: { ...database, database: "../db" }, table, files: file }, 400, "BAD_CONFIG", /identifier/);
    await bad({ database: { ...database, num_stripes: 1e9 }, table, files: file }, 400, "BAD_CONFIG", /num_stripes/);
    await bad("{not json", 400, "BAD_ARGUMENT", /not JSON/);
    await bad({ database, table, files: "x" }, 400, "BAD_ARGUMENT", /"files" must be/);
    await bad({ database, table, files: file, dialect: 3 }, 400, "BAD_ARGUMENT", /"dialect" must be/);
  });

  test("ingest by upload: the bytes in the body; malformed uploads are 4xx with the reason", async () => {
    const bytes = readFileSync(join(CASE01, "Filter.tsv.gz"));
    const upload = (head: unknown, payload: Buffer) =>
      Buffer.concat([Buffer.from(`${typeof head === "string" ? head : JSON.stringify(head)}\n`), payload]);
    const init = { headers: { "content-type": UPLOAD_CONTENT_TYPE } };
    const good = { ...configs(), uploads: [{ name: "Filter.tsv.gz", bytes: bytes.length }] };
    const send = (body: Buffer) =>
      fetch(`${c.czar.url}/ingest`, { method: "POST", body, ...init }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { error?: { code: string; message: string }; rows?: number; duplicate?: boolean },
      }));
    const refusedUpload = async (body: Buffer, message: RegExp) => {
      const r = await send(body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error?.code, "BAD_ARGUMENT");
      assert.match(r.body.error?.message ?? "", message);
    };
    await refusedUpload(
      upload(good, bytes.subarray(0, 10)),
      /upload ended inside Filter\.tsv\.gz: 10 of \d+ bytes came/,
    );
    await refusedUpload(upload(good, Buffer.concat([bytes, Buffer.from("x")])), /bytes past the files/);
    await refusedUpload(upload("{oops", bytes), /first line is not JSON/);
    await refusedUpload(upload({ ...good, uploads: [{ name: "../x.tsv", bytes: 1 }] }, bytes), /plain file name/);
    await refusedUpload(upload({ ...good, uploads: [{ name: "x.tsv", bytes: -1 }] }, bytes), /non-negative integer/);
    await refusedUpload(upload({ ...good, files: ["/etc/passwd"] }, bytes), /names no "files"/);
    await refusedUpload(Buffer.from("no newline"), /ended before its JSON line/);
    // A cut gzip file: the input's fault (BAD_INPUT), for a replicated table (sent as it is) too.
    const cut = bytes.subarray(0, 40);
    const r0 = await send(upload({ ...good, uploads: [{ name: "Filter.tsv.gz", bytes: cut.length }] }, cut));
    assert.equal(r0.status, 400, JSON.stringify(r0.body));
    assert.equal(r0.body.error?.code, "BAD_INPUT");
    assert.match(r0.body.error?.message ?? "", /not a valid gzip file/);
    const first = await send(upload(good, bytes));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.rows, 9);
    const again = await send(upload(good, bytes));
    assert.equal(again.body.duplicate, true, "the same bytes again are the same load");
    const r = await postQuery(c.czar.url, "SELECT COUNT(*) FROM Filter");
    assert.deepEqual(r.body.rows, [[18]]);
  });
});
