/**
 * Loading a user's own catalog through `mini-qserv ingest` against a czar process over two worker
 * processes: declared constraints (NOT NULL, numeric ranges) refused with the user's file and
 * line, nothing half-loaded; header lines; chunk columns the config leaves out; the input options
 * shared with `partition`; columns named by reserved words.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { startWorkerProcess, type WorkerProcess } from "../../src/cluster/workerProcess.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/fs.js";
import { SYN_TABLE_JSON } from "../support/synthetic.js";

const DB = { database: "qmine", num_stripes: 85, num_sub_stripes: 12, overlap: 0.01667 };

/** A director table Obj(objectId, ra, decl, mjd NOT NULL, flags tinyint unsigned, mag decimal(5,2)). */
const OBJ = {
  ...SYN_TABLE_JSON,
  database: "qmine",
  schema: [
    { name: "objectId", type: "bigint(20) unsigned NOT NULL" },
    { name: "ra", type: "double NOT NULL" },
    { name: "decl", type: "double NOT NULL" },
    { name: "mjd", type: "double NOT NULL" },
    { name: "flags", type: "tinyint unsigned" },
    { name: "mag", type: "decimal(5,2)" },
  ],
};

describe("ingest checks rows as the schema declares them, errors name the user's file and line", () => {
  const dir = tempDir();
  const workers: WorkerProcess[] = [];
  let czar: CzarProcess;
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const config = (name: string, v: unknown): string => file(name, JSON.stringify(v));
  const dbJson = () => config("database.json", DB);
  const ingest = (table: unknown, files: string[], extra: string[] = []) =>
    runCli([
      "ingest",
      "--czar",
      czar.url,
      "--database",
      dbJson(),
      "--table",
      config("table.json", table),
      ...extra,
      ...files,
    ]);
  const query = async (sql: string) => {
    const r = await fetch(`${czar.url}/query`, {
      method: "POST",
      body: JSON.stringify({ query: sql, database: "qmine" }),
    });
    return (await r.json()) as { rows?: unknown[][]; error?: { code: string; message: string } };
  };
  /** Rows of a table, or the error's message when it cannot be read. */
  const rowsOf = async (sql: string): Promise<unknown[][] | string> => {
    const r = await query(sql);
    return r.rows ?? r.error?.message ?? "no answer";
  };
  const GOOD = "1,10.5,2.5,60000.5,3,12.34\n2,11,3,60001,255,-999.99\n";

  before(async () => {
    for (let i = 1; i <= 2; i++) workers.push(await startWorkerProcess(join(dir, `w${i}`)));
    czar = await startCzarProcess(
      join(dir, "czar"),
      workers.map((w, i) => `w${i + 1}=${w.address}`),
      ["--ingest-root", dir],
    );
  });
  after(async () => {
    await czar?.stop();
    for (const w of workers) await w.stop();
  });

  test("NOT NULL and out-of-range values are refused with file:line and column; nothing is loaded", async () => {
    const cases: [string, RegExp][] = [
      ["3,12,4,,1,1\n", /objs\.csv:3: column mjd cannot be NULL \(declared NOT NULL\)/],
      ["3,12,4,\\N,1,1\n", /objs\.csv:3: column mjd cannot be NULL/],
      ["3,12,4,60002,256,1\n", /objs\.csv:3: column flags: 256 is out of range for tinyint unsigned/],
      ["3,12,4,60002,-1,1\n", /objs\.csv:3: column flags: -1 is out of range for tinyint unsigned/],
      ["3,12,4,60002,1.5,1\n", /objs\.csv:3: column flags: 1\.5 is not an integer \(tinyint unsigned\)/],
      ["3,12,4,60002,1,1000\n", /objs\.csv:3: column mag: 1000 is out of range for decimal/],
      ["3,12,4,1e309,1,1\n", /objs\.csv:3: column mjd: 1e309 is out of range for double/],
      ["3,12,4,60002,1,abc\n", /objs\.csv:3: mag "abc" is not a number/],
      [
        "18446744073709551616,12,4,60002,1,1\n",
        /objs\.csv:3: column objectId: 18446744073709551616 is out of range for bigint unsigned/,
      ],
      // MySQL holds it; SQLite's 64 signed bits cannot: refused rather than rounded.
      [
        "18446744073709551615,12,4,60002,1,1\n",
        /objs\.csv:3: column objectId: 18446744073709551615 is not supported: bigint unsigned values above 9223372036854775807/,
      ],
    ];
    // Over HTTP (the CLI's own path is taken below and in the other tests).
    for (const [bad, message] of cases) {
      const body = { database: DB, table: OBJ, files: [file("objs.csv", GOOD + bad)] };
      const r = await fetch(`${czar.url}/ingest`, { method: "POST", body: JSON.stringify(body) });
      const v = (await r.json()) as { error?: { code: string; message: string } };
      assert.equal(v.error?.code, "BAD_INPUT", `${bad}: ${JSON.stringify(v)}`);
      assert.match(v.error?.message ?? "", message, bad);
      assert.doesNotMatch(v.error?.message ?? "", /rows, line|chunk_/, "an internal file is named");
      assert.match(String(await rowsOf("SELECT COUNT(*) FROM Obj")), /Obj|qmine/, "nothing loaded: no table");
    }
    // The edges of each range load, exactly.
    const edges = "3,12,4,60002,0,999.99\n9223372036854775807,12,4,60002,255,-999.994\n";
    const r = ingest(OBJ, [file("objs.csv", GOOD + edges)]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(await rowsOf("SELECT objectId, flags FROM Obj WHERE objectId > 2 ORDER BY objectId"), [
      [3, 0],
      ["9223372036854775807", 255],
    ]);
    // A later load with one bad row leaves the table as it was.
    const bad = ingest(OBJ, [file("more.csv", "10,12,4,60003,1,1\n11,12,4,,1,1\n")]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /more\.csv:2: column mjd cannot be NULL/);
    assert.deepEqual(await rowsOf("SELECT COUNT(*) FROM Obj"), [[4]]);
  });

  test("a bad value in a replicated table names the user's file and line", async () => {
    const filter = {
      database: "qmine",
      table: "Band",
      is_partitioned: 0,
      schema: [
        { name: "bandId", type: "tinyint NOT NULL" },
        { name: "name", type: "char(1) NOT NULL" },
      ],
    };
    const r = ingest(filter, [file("bands.csv", "1,u\n2,g\n\n300,r\n")]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bands\.csv:4: column bandId: 300 is out of range for tinyint/);
    assert.match(String(await rowsOf("SELECT COUNT(*) FROM Band")), /Band/);
    // --rejects: the bad row is set aside, the others load.
    const rejects = join(dir, "bands.rejects");
    const ok = ingest(filter, [file("bands.csv", "1,u\n2,g\n\n300,r\n")], ["--rejects", rejects]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /1 rows rejected/);
    assert.match(
      readFileSync(rejects, "latin1"),
      /^bands\.csv:4: column bandId: 300 is out of range for tinyint\t300,r\n$/,
    );
    assert.deepEqual(await rowsOf("SELECT bandId, name FROM Band ORDER BY bandId"), [
      [1, "u"],
      [2, "g"],
    ]);
  });

  test("headers: --header skips one, --columns-from-header maps by name, a header not declared is caught", async () => {
    const header = "objectId,ra,decl,mjd,flags,mag\n";
    const t = { ...OBJ, table: "Hdr" };
    const plain = ingest(t, [file("hdr.csv", header + GOOD)]);
    assert.equal(plain.status, 2);
    assert.match(
      plain.stderr,
      /hdr\.csv:1: the first line looks like a header \(objectId, ra, decl, mjd, \.\.\.\): give --header/,
    );
    const skipped = ingest(t, [file("hdr.csv", header + GOOD)], ["--header"]);
    assert.equal(skipped.status, 0, skipped.stderr);
    assert.deepEqual(await rowsOf("SELECT COUNT(*) FROM Hdr"), [[2]]);

    // Columns in another order, named by the header; tab-delimited through --delimiter.
    const t2 = { ...OBJ, table: "Mapped" };
    const rows = [
      [60000.5, 3, 10.5, 1, 2.5, 12.34],
      [60001, null, 11, 2, 3, -7.5],
      [60002, 7, 359.9, 3, -89.5, null],
    ];
    const text = `MAG\tmjd\tflags\tra\tobjectId\tdecl\n${rows
      .map((r) => [r[5], r[0], r[1], r[2], r[3], r[4]].map((v) => (v === null ? "\\N" : String(v))).join("\t"))
      .join("\n")}\n`;
    const mapped = ingest(t2, [file("mapped.txt", text)], ["--columns-from-header", "--delimiter", "\\t"]);
    assert.equal(mapped.status, 0, mapped.stderr);
    const ref = new Database(":memory:");
    ref.exec("CREATE TABLE Mapped (mjd REAL, flags INTEGER, ra REAL, objectId INTEGER, decl REAL, mag REAL)");
    const ins = ref.prepare("INSERT INTO Mapped VALUES (?, ?, ?, ?, ?, ?)");
    for (const r of rows) ins.run(...r);
    const sql = "SELECT objectId, ra, decl, mjd, flags, mag FROM Mapped ORDER BY objectId";
    assert.deepEqual(await rowsOf(sql), ref.prepare(sql).raw().all());
    ref.close();

    const wrong = ingest(
      { ...OBJ, table: "Wrong" },
      [file("wrong.csv", "objectId,ra,dec,mjd,mag,extra\n1,2,3,4,5,6\n")],
      ["--columns-from-header"],
    );
    assert.equal(wrong.status, 2);
    assert.match(
      wrong.stderr,
      /wrong\.csv:1: the header does not match the table's columns \(not columns of the table: dec, extra; missing from the header: decl, flags\)/,
    );
  });

  test("chunkId/subChunkId left out of the config: added, with one notice", async () => {
    const t = { ...OBJ, table: "NoChunk" };
    const r = ingest(t, [file("nochunk.csv", GOOD)]);
    assert.equal(r.status, 0, r.stderr);
    const notices = r.stderr.split("\n").filter((l) => /notice/.test(l));
    assert.equal(notices.length, 1, r.stderr);
    assert.match(notices[0] as string, /no chunkId or subChunkId column: added/);
    assert.deepEqual(await rowsOf("SELECT COUNT(*) FROM NoChunk WHERE chunkId > 0"), [[2]]);
  });

  test("a column named by a reserved word: a notice at ingest; queries must quote it", async () => {
    const t = {
      ...OBJ,
      table: "Res",
      latitude_key: "dec",
      schema: OBJ.schema.map((c) => (c.name === "decl" ? { ...c, name: "dec" } : c)),
    };
    const r = ingest(t, [file("res.csv", GOOD)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /notice: Res: `dec` is a word MySQL reserves: queries must quote it in backquotes/);
    const e = await query("SELECT objectId, dec FROM Res");
    assert.equal(e.error?.code, "SYNTAX_ERROR");
    assert.match(e.error?.message ?? "", /line 1, column 18 near 'dec': reserved word, quote it as `dec`/);
    assert.deepEqual(await rowsOf("SELECT objectId, `dec` FROM Res ORDER BY objectId"), [
      [1, 2.5],
      [2, 3],
    ]);
  });

  test("partition takes the same header options; --version everywhere", () => {
    const out = join(dir, "part-out");
    const t = config("p.json", { ...OBJ, table: "P" });
    const r = runCli([
      "partition",
      "--database",
      dbJson(),
      "--table",
      t,
      "--out",
      out,
      "--header",
      file("p.csv", `a,b\n${GOOD}`),
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /P: 2 rows in/);
    assert.match(r.stderr, /notice: .*no chunkId or subChunkId column/);
    const version = (
      JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
        version: string;
      }
    ).version;
    for (const args of [["--version"], ["ingest", "-V"]]) {
      const v = runCli(args);
      assert.equal(v.status, 0, args.join(" "));
      assert.equal(v.stdout.trim(), version);
    }
    for (const cmd of ["partition", "query"]) {
      assert.match(runCli([cmd, "--help"]).stdout, new RegExp(`Example[^\\n]*:\\n(.*\\n)*\\s+mini-qserv ${cmd} --`));
    }
  });
});
