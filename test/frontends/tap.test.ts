/**
 * The TAP service on a real cluster (czar and workers as processes, the demo catalog loaded),
 * driven by real clients: pyvo (tables, sync cone search, TAP_SCHEMA, errors), astropy decoding
 * BINARY2 and TABLEDATA, and STILTS taplint. Answers are checked against one SQLite database
 * holding the same rows.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type Database from "better-sqlite3";
import { prng } from "../../bench/generate.js";
import { loadDemo } from "../../src/cluster/demo.js";
import { type UpCluster, up } from "../../src/cluster/up.js";
import type { Value } from "../../src/common/rowCodec.js";
import { Chunker } from "../../src/sphere/chunker.js";
import { ensureDebianPackages } from "../support/debianPackages.js";
import { demoReference } from "../support/demo.js";
import { makeTempDir } from "../support/fs.js";
import { PYTHON } from "../support/mysqlClients.js";
import { rowSet } from "../support/rows.js";
import { ensureTapClients, python, run } from "../support/tapClients.js";

/** Python helpers: a table's rows as JSON (integers as {"i": "digits"}, NULL as null). */
const PY_ROWS = `
import sys, json, numpy as np
def val(v):
    if v is None or np.ma.is_masked(v): return None
    if isinstance(v, (bool, np.bool_)): return bool(v)
    if isinstance(v, (int, np.integer)): return {"i": str(int(v))}
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if f != f else f
    if isinstance(v, bytes): return v.decode()
    return str(v)
def rows(t):
    return [[val(t[c][i]) for c in t.colnames] for i in range(len(t))]
def types(t):
    return [str(t[c].dtype) for c in t.colnames]
`;

/** Python's rows back as Values: integers as bigint. */
function values(rows: unknown): Value[][] {
  return (rows as unknown[][]).map((r) =>
    r.map((v) => (v !== null && typeof v === "object" ? BigInt((v as { i: string }).i) : (v as Value))),
  );
}

const skip = ensureTapClients();

describe("TAP: pyvo, astropy and taplint against a cluster", { skip: skip ?? false }, () => {
  const dir = makeTempDir();
  let cluster: UpCluster;
  let ref: Database.Database;
  let tap: string;

  before(async () => {
    mkdirSync(join(dir, "uploads"), { recursive: true }); // the czar's --ingest-root (UPLOAD by file:// URL)
    cluster = await up({
      dataDir: dir,
      workers: 2,
      replicas: 1,
      httpPort: 0,
      write: () => {},
      czarArgs: [
        "--ingest-root",
        join(dir, "uploads"),
        "--tap-upload-timeout",
        "10",
        "--upload-url-hosts",
        "127.0.0.1",
      ],
    });
    await loadDemo({ czarUrl: cluster.url, dataDir: join(dir, "demo"), objects: 5_000 });
    ref = demoReference(join(dir, "demo"));
    tap = `${cluster.url}/tap`;
  });
  after(async () => {
    await cluster?.stop();
    ref?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const refRows = (sql: string) => ref.prepare(sql).raw(true).safeIntegers(true).all() as Value[][];

  test("pyvo: TAPService(url).tables lists TAP_SCHEMA and the demo tables with types, units and UCDs", async () => {
    const got = (await python(
      `import sys, json, pyvo
s = pyvo.dal.TAPService(sys.argv[1])
out = {}
for t in s.tables:
    out[t.name] = [[c.name, str(getattr(c.datatype, "content", c.datatype)), c.unit, c.ucd] for c in t.columns]
print(json.dumps(out))`,
      tap,
    )) as Record<string, Array<[string, string, string | null, string | null]>>;
    for (const t of [
      "TAP_SCHEMA.schemas",
      "TAP_SCHEMA.tables",
      "TAP_SCHEMA.columns",
      "TAP_SCHEMA.keys",
      "TAP_SCHEMA.key_columns",
    ]) {
      assert.ok(got[t] !== undefined, t);
    }
    const cfg = JSON.parse(readFileSync(join(dir, "demo", "Object.json"), "utf8")) as {
      schema: Array<{ name: string; unit?: string; ucd?: string }>;
    };
    const object = got["demo.Object"]!;
    assert.deepEqual(
      object.map((c) => c[0]),
      cfg.schema.map((c) => c.name),
    );
    const byName = new Map(object.map((c) => [c[0], c]));
    assert.deepEqual(byName.get("objectId")!.slice(1), ["long", null, "meta.id;meta.main"]);
    assert.deepEqual(byName.get("ra")!.slice(1), ["double", "deg", "pos.eq.ra;meta.main"]);
    assert.equal(byName.get("uFluxErr")![1], "float");
    assert.ok(got["demo.Source"] !== undefined);
  });

  test("pyvo: a sync cone search with CONTAINS(POINT, CIRCLE) = 1 and TOP equals SQLite's answer", async () => {
    const adql = `SELECT TOP 25 objectId, ra, decl, uFlux, DISTANCE(POINT('ICRS', ra, decl), POINT('ICRS', 30, 10)) AS d
      FROM demo.Object WHERE CONTAINS(POINT('ICRS', ra, decl), CIRCLE('ICRS', 30, 10, 12)) = 1 ORDER BY objectId`;
    const got = (await python(
      `${PY_ROWS}
import pyvo
t = pyvo.dal.TAPService(sys.argv[1]).run_sync(sys.argv[2]).to_table()
print(json.dumps({"rows": rows(t), "types": types(t)}))`,
      tap,
      adql,
    )) as { rows: unknown; types: string[] };
    const want = refRows(
      `SELECT objectId, ra, decl, uFlux, scisql_angSep(ra, decl, 30, 10) FROM Object
       WHERE scisql_s2PtInCircle(ra, decl, 30, 10, 12) = 1 ORDER BY objectId LIMIT 25`,
    );
    assert.equal(want.length, 25, "the cone holds more than TOP rows");
    assert.deepEqual(rowSet(values(got.rows), true, 12), rowSet(want, true, 12));
    assert.equal(got.types[0], "int64");
    // The whole cone, counted, and TOP larger than the answer.
    const [count] = refRows("SELECT COUNT(*) FROM Object WHERE scisql_s2PtInCircle(ra, decl, 30, 10, 12) = 1")[0]!;
    const all = (await python(
      `${PY_ROWS}
import pyvo
t = pyvo.dal.TAPService(sys.argv[1]).run_sync(sys.argv[2]).to_table()
print(json.dumps(rows(t)))`,
      tap,
      "SELECT TOP 100000 objectId FROM demo.Object WHERE 1 = CONTAINS(POINT('ICRS', ra, decl), CIRCLE('ICRS', 30, 10, 12))",
    )) as unknown[][];
    assert.equal(BigInt(all.length), count);
  });

  test("TAP_SCHEMA is queryable with ADQL; keys link Source to Object", async () => {
    const got = (await python(
      `${PY_ROWS}
import pyvo
s = pyvo.dal.TAPService(sys.argv[1])
cols = s.run_sync("SELECT column_name, datatype, unit, ucd, indexed FROM TAP_SCHEMA.columns WHERE table_name = 'demo.Object' ORDER BY column_index").to_table()
keys = s.run_sync("SELECT k.from_table, k.target_table, c.from_column, c.target_column FROM TAP_SCHEMA.keys AS k JOIN TAP_SCHEMA.key_columns AS c ON k.key_id = c.key_id WHERE k.from_table LIKE 'demo.%'").to_table()
print(json.dumps({"cols": rows(cols), "keys": rows(keys)}))`,
      tap,
    )) as { cols: unknown; keys: unknown };
    const cfg = JSON.parse(readFileSync(join(dir, "demo", "Object.json"), "utf8")) as {
      schema: Array<{ name: string; unit?: string; ucd?: string }>;
    };
    const cols = values(got.cols);
    // astropy reads a NULL string of BINARY2 as "".
    assert.deepEqual(
      cols.map((r) => [r[0], r[2] || null, r[3] || null]),
      cfg.schema.map((c) => [c.name, c.unit ?? null, c.ucd ?? null]),
    );
    assert.deepEqual(cols.find((r) => r[0] === "objectId")!.slice(1, 2), ["long"]);
    assert.deepEqual(cols.find((r) => r[0] === "objectId")![4], 1n);
    assert.deepEqual(values(got.keys), [["demo.Source", "demo.Object", "objectId", "objectId"]]);
  });

  test("BINARY2 and TABLEDATA decode (astropy) to the same values, NULLs and 64-bit ids; CSV, TSV, JSON; MAXREC overflow", async () => {
    const adql = "SELECT TOP 300 objectId, uFlux, uFluxErr, flags FROM demo.Object ORDER BY objectId";
    const url = (fmt: string, q = adql, extra = "") =>
      `${tap}/sync?LANG=ADQL&REQUEST=doQuery&RESPONSEFORMAT=${encodeURIComponent(fmt)}&QUERY=${encodeURIComponent(q)}${extra}`;
    const got = (await python(
      `${PY_ROWS}
import io, urllib.request
from astropy.io.votable import parse_single_table
def fetch(u): return parse_single_table(io.BytesIO(urllib.request.urlopen(u).read())).to_table()
b2, td = fetch(sys.argv[1]), fetch(sys.argv[2])
print(json.dumps({"b2": rows(b2), "td": rows(td), "types": types(b2)}))`,
      url("votable"),
      url("votable/td"),
    )) as { b2: unknown; td: unknown; types: string[] };
    const want = refRows("SELECT objectId, uFlux, uFluxErr, flags FROM Object ORDER BY objectId LIMIT 300");
    assert.ok(
      want.some((r) => r[1] === null),
      "the rows hold NULLs",
    );
    assert.deepEqual(rowSet(values(got.b2), true, 7), rowSet(want, true, 7));
    assert.deepEqual(values(got.td), values(got.b2));
    assert.deepEqual(got.types, ["int64", "float64", "float32", "int32"]);

    const csv = await (await fetch(url("csv"))).text();
    const lines = csv.trimEnd().split("\r\n");
    assert.equal(lines[0], "objectId,uFlux,uFluxErr,flags");
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(",")[0]),
      want.map((r) => String(r[0])),
    );
    const nullAt = want.findIndex((r) => r[1] === null);
    assert.equal(lines[nullAt + 1]!.split(",")[1], "");

    const tsv = (await (await fetch(url("tsv"))).text()).trimEnd().split("\n");
    assert.equal(tsv[0], "objectId\tuFlux\tuFluxErr\tflags");
    assert.deepEqual(
      tsv.slice(1),
      lines.slice(1).map((l) => l.replaceAll(",", "\t")),
    );
    const js = (await (await fetch(url("json"))).json()) as {
      metadata: Array<{ name: string; datatype: string }>;
      data: unknown[][];
    };
    assert.deepEqual(
      js.metadata.map((f) => f.datatype),
      ["long", "double", "float", "int"],
    );
    assert.deepEqual(
      js.data.map((r) => [String(r[0]), r[1] === null]),
      want.map((r) => [String(r[0]), r[1] === null]),
    );

    const cut = await (await fetch(url("votable/td", adql, "&MAXREC=7"))).text();
    assert.equal(cut.match(/<TR>/g)?.length, 7);
    // Units and UCDs of result columns come from the table config.
    assert.match(cut, /<FIELD name="uFlux" datatype="double" unit="nJy" ucd="phot.flux"><DESCRIPTION>u-band flux</);
    assert.match(cut, /<INFO name="QUERY_STATUS" value="OVERFLOW"\/>\s*<\/RESOURCE>/);
    const whole = await (await fetch(url("votable/td", adql, "&MAXREC=300"))).text();
    assert.equal(whole.match(/<TR>/g)?.length, 300);
    assert.doesNotMatch(whole, /OVERFLOW/);
  });

  test("errors: a VOTable error document with a 400 status; pyvo raises with the ADQL position", async () => {
    const r = await fetch(
      `${tap}/sync?LANG=ADQL&QUERY=${encodeURIComponent("SELECT AREA(CIRCLE('ICRS', 1, 2, 3)) FROM demo.Object")}`,
    );
    assert.equal(r.status, 400);
    const body = await r.text();
    assert.match(
      body,
      /<INFO name="QUERY_STATUS" value="ERROR">ADQL function AREA is not supported at line 1, column 8/,
    );
    const msg = (await python(
      `import sys, json, pyvo
try:
    pyvo.dal.TAPService(sys.argv[1]).run_sync("SELECT ra FROM demo.Object\\n WHERE CONTAINS(POINT('GALACTIC', ra, decl), CIRCLE('ICRS', 1, 2, 3)) = 1")
    print(json.dumps("no error"))
except pyvo.dal.DALQueryError as e:
    print(json.dumps(str(e)))`,
      tap,
    )) as string;
    assert.match(msg, /coordinate system 'GALACTIC' is not supported at line 2, column 23/);
    const noLang = await fetch(`${tap}/sync?QUERY=SELECT+1`);
    assert.equal(noLang.status, 400);
    assert.match(await noLang.text(), /LANG is required/);
  });

  test("every /tap/examples query runs through /tap/sync and gets rows", async () => {
    const doc = await (await fetch(`${tap}/examples`)).text();
    const decode = (x: string) =>
      x.replace(
        /&(lt|gt|quot|apos|amp);/g,
        (_, e: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e]!,
      );
    const queries = [...doc.matchAll(/<pre class="dali-example-query" property="query">([^<]*)<\/pre>/g)].map((m) =>
      decode(m[1]!),
    );
    assert.ok(
      queries.some((q) => /JOIN demo\.Source/.test(q)),
      "a light curve join",
    );
    assert.ok(queries.some((q) => /CIRCLE/.test(q)) && queries.some((q) => /BOX/.test(q)), doc);
    for (const q of queries) {
      const r = await fetch(`${tap}/sync`, {
        method: "POST",
        body: new URLSearchParams({ LANG: "ADQL", QUERY: q, FORMAT: "csv" }),
      });
      const lines = (await r.text()).trimEnd().split("\r\n");
      assert.equal(r.status, 200, `${q}: ${lines.join("\n")}`);
      assert.ok(lines.length > 1, `${q}: no rows`);
      if (/^SELECT COUNT\(\*\)/.test(q)) assert.ok(Number(lines[1]) > 0, `${q}: ${lines[1]}`);
    }
  });

  test("pyvo run_async and astroquery TapPlus (sync and async) answer as SQLite does", async () => {
    const adql = "SELECT COUNT(*) AS n, MIN(objectId) AS lo, MAX(uFlux) AS m FROM demo.Object";
    const want = refRows("SELECT COUNT(*), MIN(objectId), MAX(uFlux) FROM Object");
    const got = (await python(
      `${PY_ROWS}
import pyvo
t = pyvo.dal.TAPService(sys.argv[1]).run_async(sys.argv[2]).to_table()
print(json.dumps(rows(t)))`,
      tap,
      adql,
    )) as unknown;
    assert.deepEqual(rowSet(values(got), true, 9), rowSet(want, true, 9));
    const cone =
      "SELECT TOP 40 objectId, ra, decl FROM demo.Object WHERE CONTAINS(POINT('ICRS', ra, decl), CIRCLE('ICRS', 200, -20, 15)) = 1 ORDER BY objectId";
    const coneWant = refRows(
      "SELECT objectId, ra, decl FROM Object WHERE scisql_s2PtInCircle(ra, decl, 200, -20, 15) = 1 ORDER BY objectId LIMIT 40",
    );
    const aq = ensureDebianPackages(
      ["python3-astroquery"],
      () => spawnSync(PYTHON, ["-c", "import astroquery.utils.tap"]).status === 0,
    );
    if (aq !== null) {
      console.log(`astroquery part skipped: ${aq}`);
      return;
    }
    const both = (await python(
      `${PY_ROWS}
from astroquery import log
log.setLevel("ERROR")  # its INFO lines go to stdout
from astroquery.utils.tap.core import TapPlus
t = TapPlus(url=sys.argv[1], verbose=False)
s = t.launch_job(sys.argv[2]).get_results()
a = t.launch_job_async(sys.argv[2]).get_results()
print(json.dumps({"sync": rows(s), "async": rows(a)}))`,
      tap,
      cone,
    )) as { sync: unknown; async: unknown };
    assert.equal(coneWant.length, 40);
    assert.deepEqual(rowSet(values(both.sync), true, 9), rowSet(coneWant, true, 9));
    assert.deepEqual(rowSet(values(both.async), true, 9), rowSet(coneWant, true, 9));
  });

  test("UPLOAD: pyvo's inline VOTable queried sync and async; an outer join with a catalog table refused", async () => {
    const want = refRows("SELECT objectId, ra, decl FROM Object ORDER BY objectId LIMIT 50");
    const got = (await python(
      `${PY_ROWS}
import pyvo
from astropy.table import Table
s = pyvo.dal.TAPService(sys.argv[1])
rows_in = json.loads(sys.argv[2])
t = Table(rows=[[int(r[0]["i"]), r[1], r[2]] for r in rows_in], names=["id", "ra", "dec"], dtype=["i8", "f8", "f8"])
q = "SELECT id, ra, dec, DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 30, 10)) AS d FROM TAP_UPLOAD.targets WHERE dec > 0 ORDER BY id"
sync = s.run_sync(q, uploads={"targets": t}).to_table()
asy = s.run_async(q, uploads={"targets": t}).to_table()
try:
    s.run_sync("SELECT o.objectId FROM TAP_UPLOAD.targets AS t LEFT JOIN demo.Object AS o ON o.objectId = t.id", uploads={"targets": t})
    refused = "answered"
except pyvo.dal.DALQueryError as e:
    refused = str(e)
print(json.dumps({"sync": rows(sync), "async": rows(asy), "types": types(sync), "refused": refused}))`,
      tap,
      JSON.stringify(want.map((r) => [{ i: String(r[0]) }, r[1], r[2]])),
    )) as { sync: unknown; async: unknown; types: string[]; refused: string };
    ref.exec(
      "CREATE TEMP TABLE targets AS SELECT objectId AS id, ra, decl AS dec FROM Object ORDER BY objectId LIMIT 50",
    );
    const expect = refRows("SELECT id, ra, dec, scisql_angSep(ra, dec, 30, 10) FROM targets WHERE dec > 0 ORDER BY id");
    ref.exec("DROP TABLE targets");
    assert.ok(expect.length > 5);
    assert.deepEqual(rowSet(values(got.sync), true, 9), rowSet(expect, true, 9));
    assert.deepEqual(rowSet(values(got.async), true, 9), rowSet(expect, true, 9));
    assert.deepEqual(got.types.slice(0, 3), ["int64", "float64", "float64"]);
    assert.match(
      got.refused,
      /not supported: an outer join in a query joining an uploaded table with a partitioned one/,
    );
  });

  test("UPLOAD cross-match per chunk: 10,000 targets against Object within 2″ (CONTAINS, DISTANCE), an id join, chunk borders and RA 0/360", async () => {
    // Targets: every object moved by up to 1.8″ (most match it), the rest anywhere; then
    // targets on chunk edges and at RA 0/360, matched within 3° so that each meets objects of
    // the chunks on both sides of its edge.
    const rnd = prng(15);
    const objects = refRows("SELECT objectId, ra, decl FROM Object ORDER BY objectId");
    const near: Value[][] = [];
    for (const [i, [, ra, decl]] of objects.entries()) {
      const d = (rnd() * 1.8) / 3600;
      const a = rnd() * 2 * Math.PI;
      const dec = Math.max(-90, Math.min(90, (decl as number) + d * Math.sin(a)));
      const cos = Math.max(0.01, Math.cos(((decl as number) * Math.PI) / 180));
      near.push([BigInt(i), ((((ra as number) + (d * Math.cos(a)) / cos) % 360) + 360) % 360, dec]);
    }
    while (near.length < 10_000) {
      near.push([BigInt(near.length), rnd() * 360, (Math.asin(2 * rnd() - 1) * 180) / Math.PI]);
    }
    const chunker = new Chunker({ numStripes: 18, numSubStripesPerStripe: 6, overlap: 0.01667 });
    const edges: Value[][] = [];
    for (const id of chunker.allChunks().filter((_, i) => i % 17 === 0)) {
      const b = chunker.chunkBounds(id);
      const mid = (b.decMin + b.decMax) / 2;
      edges.push([BigInt(edges.length), b.raMin, mid], [BigInt(edges.length + 1), (b.raMin + b.raMax) / 2, b.decMin]);
    }
    edges.push(
      [BigInt(edges.length), 0, 5],
      [BigInt(edges.length + 1), 359.99999, -12],
      [BigInt(edges.length + 2), 0, -45],
    );
    const vot = (rows: Value[][]) => rows.map((r) => [String(r[0]), r[1], r[2]]);
    const file = join(dir, "targets.json");
    writeFileSync(file, JSON.stringify({ near: vot(near), edges: vot(edges) }));
    const cone = (r: string) => `SELECT t.id, o.objectId, o.ra, o.decl
      FROM TAP_UPLOAD.targets AS t JOIN demo.Object AS o
      ON 1 = CONTAINS(POINT('ICRS', o.ra, o.decl), CIRCLE('ICRS', t.ra, t.dec, ${r}))`;
    const distance = `SELECT t.id, COUNT(*) AS n, MIN(DISTANCE(POINT('ICRS', t.ra, t.dec), POINT('ICRS', o.ra, o.decl))) AS d
      FROM TAP_UPLOAD.targets AS t, demo.Object AS o
      WHERE DISTANCE(POINT('ICRS', t.ra, t.dec), POINT('ICRS', o.ra, o.decl)) < 2/3600. GROUP BY t.id`;
    const byId = `SELECT t.id, o.objectId, s.sourceId, s.psfFlux FROM TAP_UPLOAD.ids AS t
      JOIN demo.Object AS o ON t.id = o.objectId JOIN demo.Source AS s ON s.objectId = o.objectId WHERE s.psfFlux > 0`;
    const got = (await python(
      `${PY_ROWS}
import pyvo
from astropy.table import Table
s = pyvo.dal.TAPService(sys.argv[1])
data = json.load(open(sys.argv[2]))
def table(rows):
    return Table(rows=[[int(r[0]), r[1], r[2]] for r in rows], names=["id", "ra", "dec"], dtype=["i8", "f8", "f8"])
near, edges = table(data["near"]), table(data["edges"])
ids = Table(rows=[[i * 7] for i in range(1500)], names=["id"], dtype=["i8"])
out = {
    "cone": rows(s.run_sync(sys.argv[3], uploads={"targets": near}, maxrec=1000000).to_table()),
    "distance": rows(s.run_sync(sys.argv[4], uploads={"targets": near}).to_table()),
    "edges": rows(s.run_sync(sys.argv[5], uploads={"targets": edges}).to_table()),
    "ids": rows(s.run_sync(sys.argv[6], uploads={"ids": ids}).to_table()),
}
print(json.dumps(out))`,
      tap,
      file,
      cone("2/3600."),
      distance,
      cone("3"),
      byId,
    )) as Record<"cone" | "distance" | "edges" | "ids", unknown>;

    ref.exec("CREATE INDEX IF NOT EXISTS ref_object_decl ON Object(decl)");
    ref.exec("CREATE TEMP TABLE targets (id INTEGER, ra REAL, dec REAL)");
    const fill = (rows: Value[][]) => {
      ref.exec("DELETE FROM targets");
      const ins = ref.prepare("INSERT INTO targets VALUES (?, ?, ?)");
      ref.transaction(() => {
        for (const r of rows) ins.run(...r);
      })();
    };
    // The declination band lets SQLite use the index; the circle test decides.
    const refCone = (r: number) =>
      refRows(`SELECT t.id, o.objectId, o.ra, o.decl FROM targets AS t JOIN Object AS o
        ON o.decl BETWEEN t.dec - ${r} AND t.dec + ${r} AND scisql_s2PtInCircle(o.ra, o.decl, t.ra, t.dec, ${r}) = 1`);
    try {
      fill(near);
      const wantCone = refCone(2 / 3600);
      const wantDistance = refRows(`SELECT t.id, COUNT(*), MIN(scisql_angSep(t.ra, t.dec, o.ra, o.decl))
        FROM targets AS t JOIN Object AS o ON o.decl BETWEEN t.dec - 0.001 AND t.dec + 0.001
        AND scisql_angSep(t.ra, t.dec, o.ra, o.decl) < 2/3600. GROUP BY t.id`);
      assert.ok(wantCone.length > 4000, `${wantCone.length} matches`);
      assert.deepEqual(rowSet(values(got.cone), false, 9), rowSet(wantCone, false, 9));
      assert.deepEqual(rowSet(values(got.distance), false, 9), rowSet(wantDistance, false, 9));
      fill(edges);
      const wantEdges = refCone(3);
      // The test can fail: some pairs have their target in one chunk and their object in another.
      const across = wantEdges.filter(([id, , ra, decl]) => {
        const t = edges[Number(id)]!;
        return (
          chunker.locate(t[1] as number, t[2] as number).chunkId !==
          chunker.locate(ra as number, decl as number).chunkId
        );
      });
      assert.ok(across.length > 20, `${across.length} pairs across a chunk edge`);
      assert.deepEqual(rowSet(values(got.edges), false, 9), rowSet(wantEdges, false, 9));
    } finally {
      ref.exec("DROP TABLE targets");
    }
    const wantIds = refRows(`SELECT o.objectId, o.objectId, s.sourceId, s.psfFlux FROM Object AS o
      JOIN Source AS s ON s.objectId = o.objectId WHERE o.objectId % 7 = 0 AND o.objectId < 10500 AND s.psfFlux > 0`);
    assert.ok(wantIds.length > 100);
    assert.deepEqual(rowSet(values(got.ids), false, 9), rowSet(wantIds, false, 9));
  });

  test("UPLOAD in CSV: pyvo's inline file and an http URL, typed by header or inferred, joined per chunk; errors give the line", async () => {
    const objects = refRows("SELECT objectId, ra, decl FROM Object WHERE objectId % 50 = 3 ORDER BY objectId");
    // Targets 1″ north of every 50th object; a label with a comma and a quote; one NULL position.
    const lines = objects.map(([id, ra, decl]) => `${id},${ra},${(decl as number) + 1 / 3600},"obj ""${id}"", near"`);
    const csv = `id:long,ra,dec,label\n${lines.join("\n")}\n999999,,,none\n`;
    const inline = join(dir, "targets.csv");
    writeFileSync(inline, csv);
    const server = http.createServer((req, res) => {
      if (req.url === "/targets.csv") res.end(csv);
      else res.writeHead(404).end("no");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/targets.csv`;
    const q = `SELECT t.id, t.label, o.objectId, DISTANCE(POINT('ICRS', t.ra, t.dec), POINT('ICRS', o.ra, o.decl)) * 3600 AS sep
      FROM TAP_UPLOAD.targets AS t JOIN demo.Object AS o ON 1 = CONTAINS(POINT('ICRS', o.ra, o.decl), CIRCLE('ICRS', t.ra, t.dec, 1.5/3600))`;
    try {
      const got = (await python(
        `${PY_ROWS}
import pyvo
s = pyvo.dal.TAPService(sys.argv[1])
inline = s.run_sync(sys.argv[4], uploads={"targets": open(sys.argv[2], "rb")}).to_table()
byurl = s.run_async(sys.argv[4], uploads={"targets": sys.argv[3]}).to_table()
alone = s.run_sync("SELECT id, ra, label FROM TAP_UPLOAD.targets WHERE ra IS NULL", uploads={"targets": open(sys.argv[2], "rb")}).to_table()
try:
    s.run_sync("SELECT * FROM TAP_UPLOAD.bad", uploads={"bad": open(sys.argv[5], "rb")})
    refused = "answered"
except pyvo.dal.DALQueryError as e:
    refused = str(e)
print(json.dumps({"inline": rows(inline), "byurl": rows(byurl), "alone": rows(alone), "types": types(alone), "refused": refused}))`,
        tap,
        inline,
        url,
        q,
        (() => {
          const bad = join(dir, "bad.csv");
          writeFileSync(bad, "id:long,ra\n1,2\n2,3\nthree,4\n");
          return bad;
        })(),
      )) as { inline: unknown; byurl: unknown; alone: unknown; types: string[]; refused: string };
      ref.exec(
        "CREATE TEMP TABLE targets AS SELECT objectId AS id, ra, decl + 1/3600. AS dec FROM Object WHERE objectId % 50 = 3",
      );
      const want =
        refRows(`SELECT t.id, 'obj "' || t.id || '", near', o.objectId, scisql_angSep(t.ra, t.dec, o.ra, o.decl) * 3600
        FROM targets AS t JOIN Object AS o ON o.decl BETWEEN t.dec - 1 AND t.dec + 1 AND scisql_s2PtInCircle(o.ra, o.decl, t.ra, t.dec, 1.5/3600) = 1`);
      ref.exec("DROP TABLE targets");
      assert.ok(want.length >= objects.length, `${want.length} matches of ${objects.length} targets`);
      assert.deepEqual(rowSet(values(got.inline), false, 9), rowSet(want, false, 9));
      assert.deepEqual(rowSet(values(got.byurl), false, 9), rowSet(want, false, 9));
      assert.deepEqual(values(got.alone), [[999999n, null, "none"]]);
      assert.deepEqual(got.types.slice(0, 2), ["int64", "float64"]);
      assert.match(got.refused, /UPLOAD bad: line 4: 'three' is not a long \(column id\)/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test("UPLOAD by URL: pyvo's http URL, a file:// URL under --ingest-root; other paths, schemes and sizes refused", async () => {
    ref.exec(
      "CREATE TEMP TABLE targets AS SELECT objectId AS id, ra, decl AS dec FROM Object ORDER BY objectId LIMIT 40",
    );
    const targets = refRows("SELECT id, ra, dec FROM targets");
    const expect = refRows("SELECT id, ra, dec FROM targets WHERE dec > 0 ORDER BY id");
    ref.exec("DROP TABLE targets");
    const votable = `<?xml version="1.0"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>
<FIELD name="id" datatype="long"/><FIELD name="ra" datatype="double"/><FIELD name="dec" datatype="double"/>
<DATA><TABLEDATA>
${targets.map((r) => `<TR>${r.map((v) => `<TD>${String(v)}</TD>`).join("")}</TR>`).join("\n")}
</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>
`;
    const inRoot = join(dir, "uploads", "targets.vot");
    writeFileSync(inRoot, votable);
    const outside = join(dir, "outside.vot");
    writeFileSync(outside, votable);
    const big = Buffer.alloc(17 << 20, 0x20);
    const server = http.createServer((req, res) => {
      if (req.url === "/targets.vot") res.end(votable);
      else if (req.url === "/big.vot") res.end(big);
      else if (req.url === "/hang.vot")
        return; // never answers: the czar's --tap-upload-timeout ends the wait
      else res.writeHead(404).end("no");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const q = "SELECT id, ra, dec FROM TAP_UPLOAD.targets WHERE dec > 0 ORDER BY id";
      const got = (await python(
        `${PY_ROWS}
import pyvo
s = pyvo.dal.TAPService(sys.argv[1])
sync = s.run_sync(sys.argv[3], uploads={"targets": sys.argv[2]}).to_table()
asy = s.run_async(sys.argv[3], uploads={"targets": sys.argv[2]}).to_table()
print(json.dumps({"sync": rows(sync), "async": rows(asy)}))`,
        tap,
        `${base}/targets.vot`,
        q,
      )) as { sync: unknown; async: unknown };
      assert.ok(expect.length > 5);
      assert.deepEqual(rowSet(values(got.sync), true, 9), rowSet(expect, true, 9));
      assert.deepEqual(rowSet(values(got.async), true, 9), rowSet(expect, true, 9));

      const sync = async (upload: string) => {
        const r = await fetch(`${tap}/sync`, {
          method: "POST",
          body: new URLSearchParams({ LANG: "ADQL", QUERY: q, FORMAT: "csv", UPLOAD: upload }),
        });
        return { status: r.status, body: await r.text() };
      };
      const file = await sync(`targets,file://${inRoot}`);
      assert.equal(file.status, 200, file.body);
      const csv = file.body.trimEnd().split("\r\n").slice(1);
      assert.deepEqual(
        csv.map((l) => l.split(",").map(Number)),
        expect.map((r) => r.map(Number)),
      );
      const refusals: Array<[string, number, RegExp]> = [
        [`targets,file://${outside}`, 400, /not under an ingest root of the czar/],
        ["targets,file:///etc/passwd", 400, /not under an ingest root of the czar/],
        [`targets,file://${join(dir, "uploads", "nope.vot")}`, 400, /cannot read: ENOENT/],
        ["targets,ftp://127.0.0.1/t.vot", 400, /not supported: UPLOAD from &apos;ftp:/],
        [`targets,${base}/missing.vot`, 400, /answered HTTP 404/],
        [`targets,${base}/big.vot`, 413, /holds more than 16777216 bytes/],
        [`targets,${base}/hang.vot`, 400, /did not answer within 10 s/],
        [
          `targets,${base.replace("127.0.0.1", "localhost")}/targets.vot`,
          400,
          /not among the hosts .*--upload-url-hosts/,
        ],
      ];
      for (const [upload, status, message] of refusals) {
        const r = await sync(upload);
        assert.equal(r.status, status, `${upload}: ${r.body}`);
        assert.match(r.body, message, upload);
      }
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test("STILTS taplint over all its default stages: 0 errors", async (t) => {
    const out = await run("stilts", ["taplint", `tapurl=${tap}`, `stages=${TAPLINT_STAGES}`, "report=EW"], 600_000);
    const totals = /Totals:\s*Errors:\s*(\d+);\s*Warnings:\s*(\d+)/.exec(out);
    assert.ok(totals !== null, out.slice(-2000));
    const errors = out.split("\n").filter((l) => /^E-/.test(l));
    assert.deepEqual(errors, [], out.slice(-4000));
    assert.equal(totals[1], "0");
    t.diagnostic(
      `taplint: ${totals[0]}; ${out
        .split("\n")
        .filter((l) => /^W-/.test(l))
        .join(" | ")}`,
    );
  });
});

/** taplint stages run: all of its default stages (async, uploads and examples included). */
const TAPLINT_STAGES = "TMV TME TMS TMC CPV CAP AVV QGE QPO QAS UWS MDQ OBS UPL EXA";
