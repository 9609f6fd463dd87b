/**
 * MySQL's answers, not SQLite's: every query of queries.ts is asked, through mysql2, of a real
 * MariaDB server and of a mini-qserv cluster (czar + 2 workers on loopback) holding the same
 * catalog (catalog.ts), and the answers compared (compare.ts). Prints the counts; fails on any
 * difference not in KNOWN below, and on a KNOWN entry that no longer differs.
 * MSEM_VERBOSE=1 prints every difference and refusal.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import mysql from "mysql2/promise";
import { postJson } from "../../src/cli/httpClient.js";
import { type UpCluster, up } from "../../src/cluster/up.js";
import { makeTempDir } from "../support/fs.js";
import { ensureMariadbServer, type MariadbServer, startMariadb } from "../support/mariadb.js";
import { type Cell, catalogRows, DATABASE, mariadbDdl, SP_CLASS_ROWS, writeIngest } from "./catalog.js";
import { type Answer, ask, judge, type Verdict } from "./compare.js";
import { allQueries } from "./queries.js";

/**
 * Differences left, each with why. A query here must still differ (or be refused by us): when
 * it agrees, take it off the list.
 */
const KNOWN: Record<string, string> = {
  ...Object.fromEntries(
    [
      "SELECT spType, COUNT(DISTINCT name) FROM Object GROUP BY spType",
      "SELECT name, COUNT(DISTINCT name) FROM Object GROUP BY name",
      "SELECT UPPER(spType), COUNT(DISTINCT name) FROM Object GROUP BY UPPER(spType)",
      "SELECT LOWER(name), COUNT(DISTINCT name) FROM Object GROUP BY LOWER(name)",
      "SELECT spType, name, COUNT(DISTINCT name) FROM Object GROUP BY spType, name",
    ].map((sql) => [
      sql,
      // Same groups and counts; only the spelling shown for a group differs. With COUNT(DISTINCT)
      // MariaDB groups by sorting (filesort, not stable), so it shows an arbitrary row's spelling
      // (not the first by primary key, which it shows otherwise and mini-qserv always shows).
      "which spelling of a case-insensitive group MariaDB shows under COUNT(DISTINCT) is its sort's accident",
    ]),
  ),
  "SELECT spType, GROUP_CONCAT(objectId ORDER BY objectId) FROM Object GROUP BY spType":
    "the group's spelling of spType: with GROUP_CONCAT ... ORDER BY, MariaDB groups by sorting (filesort, not stable) and shows that sort's first row; mini-qserv the first by objectId (the values agree)",
  "SELECT spType, GROUP_CONCAT(name, ':', nObs ORDER BY objectId DESC SEPARATOR '; ') FROM Object GROUP BY spType":
    "as above: the group key's spelling after MariaDB's sort (the concatenations agree)",
  ...Object.fromEntries(
    [
      "SELECT spType, COUNT(*), SUM(nObs) FROM Object GROUP BY spType WITH ROLLUP",
      "SELECT spType, nObs % 2 AS p, COUNT(*) FROM Object GROUP BY spType, p WITH ROLLUP",
      "SELECT spType, COUNT(*) AS n FROM Object GROUP BY spType WITH ROLLUP HAVING n > 50",
      "SELECT UPPER(spType), COUNT(*), MAX(vMag) FROM Object GROUP BY UPPER(spType) WITH ROLLUP LIMIT 4",
    ].map((sql) => [
      sql,
      // Same groups, order, subtotals and values: MariaDB groups a ROLLUP by sorting (filesort), so
      // the spelling it shows for a case-insensitive group is its sort's first row, not the scan's.
      "the spelling of a group under WITH ROLLUP is MariaDB's sort's accident",
    ]),
  ),
  "SELECT objectId, REPEAT(spType, 2), CONCAT('[', SPACE(nObs % 4), ']'), ASCII(name), ORD(name) FROM Object":
    "type metadata only: MariaDB types CONCAT with SPACE(<column>) as LONGTEXT (251), mini-qserv as VARCHAR (253); the values agree",
};

/**
 * Queries we refuse ("not supported") where MariaDB answers, each with why. Any other refusal
 * fails the test: a construct that stops being supported must not pass unnoticed.
 */
const REFUSED: Record<string, string> = {
  "SELECT CONCAT(0x41, 'b'), 0x41 = 'A'":
    "a hexadecimal literal used as a string: SQLite would read it as a number; refused rather than answered differently",
};

const skip = ensureMariadbServer();

describe("differential: mini-qserv answers as MariaDB does", { skip: skip ?? false }, () => {
  const dir = makeTempDir("mq-msem-");
  let cluster: UpCluster;
  let maria: MariadbServer;
  let mc: mysql.Connection;
  let uc: mysql.Connection;

  before(async () => {
    const rows = catalogRows();
    const files = writeIngest(dir, rows);
    [cluster, maria] = await Promise.all([
      up({
        dataDir: join(dir, "cluster"),
        workers: 2,
        replicas: 1,
        httpPort: 0,
        mysqlPort: 0,
        write: () => {},
        czarArgs: ["--ingest-root", dir],
      }),
      startMariadb(join(dir, "mariadb")),
    ]);
    mc = await mysql.createConnection({ socketPath: maria.socketPath, user: "root", charset: "utf8mb4" });
    for (const s of mariadbDdl()) await mc.query(s);
    await mc.query(`USE ${DATABASE}`);
    const text = (rs: readonly Cell[][]) => rs.map((r) => r.map((v) => (typeof v === "bigint" ? v.toString() : v)));
    await mc.query("INSERT INTO Object VALUES ?", [text(rows)]);
    await mc.query("INSERT INTO SpClass VALUES ?", [text(SP_CLASS_ROWS)]);
    for (const t of files.tables) {
      await postJson(`${cluster.url}/ingest`, {
        database: JSON.parse(readFileSync(files.databaseJson, "utf8")) as unknown,
        table: JSON.parse(readFileSync(t.json, "utf8")) as unknown,
        files: [t.tsv],
      });
    }
    uc = await mysql.createConnection({
      host: "127.0.0.1",
      port: cluster.mysqlPort,
      user: "qsmaster",
      database: DATABASE,
      charset: "utf8mb4",
    });
  });
  after(async () => {
    await uc?.end();
    await mc?.end();
    await cluster?.stop();
    await maria?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("every query MariaDB answers, mini-qserv answers identically (or the difference is a known exception)", async () => {
    const verdicts: Array<{ sql: string; topic: string; v: Verdict; m: Answer; u: Answer }> = [];
    for (const q of allQueries()) {
      const m = await ask(mc, q.sql);
      const u = await ask(uc, q.sql);
      verdicts.push({ sql: q.sql, topic: q.topic, v: judge(q, m, u), m, u });
    }
    const count = (k: Verdict["kind"]) => verdicts.filter((x) => x.v.kind === k).length;
    const unexpected = verdicts.filter((x) => x.v.kind === "differ" && KNOWN[x.sql] === undefined);
    const refused = verdicts.filter((x) => x.v.kind === "refusedByUs" && REFUSED[x.sql] === undefined);
    const stale = Object.keys(KNOWN).filter((sql) => {
      const x = verdicts.find((y) => y.sql === sql);
      return x === undefined || (x.v.kind !== "differ" && x.v.kind !== "refusedByUs");
    });
    console.log(
      `differential: ${verdicts.length} queries: ${count("agree")} agree, ${count("bothRefuse")} refused by both, ` +
        `${count("differ")} differ (${count("differ") - unexpected.length} known), ${count("refusedByUs")} refused by us`,
    );
    for (const x of verdicts) {
      const shown =
        process.env.MSEM_VERBOSE === "1" ||
        (x.v.kind === "differ" && KNOWN[x.sql] === undefined) ||
        (x.v.kind === "refusedByUs" && REFUSED[x.sql] === undefined);
      if (!shown || x.v.kind === "agree" || x.v.kind === "bothRefuse") continue;
      const why = x.v.kind === "differ" ? x.v.what : `refused: ${x.v.message}`;
      console.log(`  [${x.topic}] ${x.sql}\n      ${why}`);
    }
    assert.deepEqual(
      unexpected.map((x) => x.sql),
      [],
      "answers that differ from MariaDB's",
    );
    assert.deepEqual(
      refused.map((x) => x.sql),
      [],
      "queries MariaDB answers that we refuse",
    );
    assert.deepEqual(stale, [], "KNOWN exceptions that no longer differ");
  });
});
