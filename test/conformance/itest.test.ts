/**
 * The itest readers: query files (both forms, pragmas, expectations), tables named, case data
 * (dialects, load order), which queries are skipped, and how replies are judged.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type TableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { isQueryFile, parseQueryText, queryFiles, tablesNamed } from "../support/itest.js";
import { caseData, loadOrder } from "../support/itestData.js";
import { SKIP_ITEST } from "../support/paths.js";
import type { QueryReply } from "./czarHttp.js";
import { judgeReply, skipReason } from "./judge.js";

const FILE = `-- Find near neighbours
-- pragma noheader sortresult
SELECT o1.objectId FROM {DBTAG_A}Object o1, {DBTAG_A}Object o2
 WHERE o1.ra_PS BETWEEN 0 AND 0.2 -- noQserv
   AND o1.decl_PS BETWEEN 0 AND 1 -- noQserv
-- withQserv WHERE qserv_areaspec_box(0, 0, 0.2, 1)
   AND o1.objectId <> o2.objectId`;

describe("query files", () => {
  test("both forms: noQserv lines kept or blanked, withQserv lines uncommented, DBTAG_A, pragmas", () => {
    const q = parseQueryText(FILE, "case01");
    assert.ok(q.sortresult && q.noheader);
    assert.match(q.plain, /FROM Object o1, Object o2\n WHERE o1\.ra_PS BETWEEN 0 AND 0\.2 -- noQserv/);
    assert.match(q.plain, /^-- withQserv WHERE qserv_areaspec_box/m);
    const lines = q.qserv.split("\n");
    assert.equal(lines.length, FILE.split("\n").length, "line numbers kept");
    assert.equal(lines[2], "SELECT o1.objectId FROM qcase01.Object o1, qcase01.Object o2");
    assert.deepEqual(lines.slice(3, 6), ["", "", "WHERE qserv_areaspec_box(0, 0, 0.2, 1)"]);
    const plainOnly = parseQueryText("-- pragma sortresult\nSELECT 1", "case02");
    assert.deepEqual([plainOnly.sortresult, plainOnly.noheader], [true, false]);
  });

  test("query files: .sql, .FIXME and names without an extension; not READMEs", () => {
    assert.ok(isQueryFile("/x/case04/queries/0020_showColumnsFromDeepForcedSource"));
    assert.ok(isQueryFile("/x/1051_nn.sql"));
    assert.ok(isQueryFile("/x/3009_subquery.sql.FIXME"));
    assert.ok(!isQueryFile("/x/unsupported_syntax/README.txt"));
    assert.ok(!isQueryFile("/x/.hidden"));
  });

  test("tables named: FROM lists, joins, derived tables, SHOW COLUMNS; identifiers when it does not parse", () => {
    assert.deepEqual(
      tablesNamed("SELECT * FROM Object o JOIN Source s USING (objectId), (SELECT 1 FROM Filter) f").sort(),
      ["Filter", "Object", "Source"],
    );
    assert.deepEqual(tablesNamed("SHOW COLUMNS FROM qcase04.DeepForcedSource"), ["DeepForcedSource"]);
    const loose = tablesNamed("SELECT @poly FROM RunDeepForcedSource -- Object\nWHERE x = 'Source'");
    assert.ok(loose.includes("RunDeepForcedSource"));
    assert.ok(!loose.includes("Object") && !loose.includes("Source"));
  });

  test("load order: each table after the tables it follows", () => {
    const t = (table: string, ...directors: string[]) => ({ config: { table } as TableConfig, directors });
    const order = loadOrder([
      t("Match", "RefObject", "Source"),
      t("Source", "Object"),
      t("Filter"),
      t("RefObject"),
      t("Object"),
    ]);
    const names = order.map((x) => x.config.table);
    assert.deepEqual(names, ["Filter", "RefObject", "Object", "Source", "Match"]);
  });
});

const reply = (r: QueryReply) => r;
const ERROR = reply({ kind: "error", status: 400, code: "UNSUPPORTED", message: "no", where: "" });
const ANSWER = reply({ kind: "answer", result: { columns: ["a"], rows: [[1]] } });

describe("judging replies", () => {
  const base = {
    case: "case01",
    rel: "r",
    plain: "",
    qserv: "",
    sortresult: false,
    noheader: false,
    unsupported: true,
  };
  test("unsupported_*: an error with code and message passes; an answer fails", () => {
    const q = { ...base, expect: "error" as const };
    assert.deepEqual(judgeReply(q, null, ERROR), { status: "pass" });
    assert.deepEqual(judgeReply(q, null, ANSWER), {
      status: "fail",
      reason: "expected an error (Qserv rejects this query), got 1 rows",
    });
    assert.deepEqual(judgeReply(q, null, { kind: "failed", detail: "timed out after 60 s" }), {
      status: "fail",
      reason: "timed out after 60 s",
    });
  });

  test("unsupported_by_mysql: Qserv answers these, so an answer passes and an error fails", () => {
    const q = { ...base, expect: "qservOnly" as const };
    assert.equal(judgeReply(q, null, ANSWER).status, "pass");
    assert.equal(judgeReply(q, null, ERROR).status, "fail");
  });
});

describe("the itest suite as read", { skip: SKIP_ITEST }, () => {
  const files = queryFiles();
  const byRel = (rel: string) => files.find((f) => f.rel === rel);

  test("expectations follow the folders; the extensionless case04 file is a query", () => {
    assert.equal(byRel("case04/queries/0020_showColumnsFromDeepForcedSource")?.expect, "answer");
    assert.equal(byRel("case02/queries/unsupported_by_mysql/3010_countObjectPerChunks.sql")?.expect, "qservOnly");
    assert.equal(byRel("case01/queries/unsupported_syntax/3009_subquery.sql")?.expect, "error");
    assert.equal(byRel("case01/queries/1051_nn.sql")?.expect, "answer");
    assert.ok(!files.some((f) => f.rel.endsWith("README.txt")));
  });

  test("dialects come from the table configs", () => {
    const c4 = caseData("case04");
    const coadd = c4.tables.find((t) => t.config.table === "DeepCoadd")!;
    assert.deepEqual(tableDialect(coadd.config, coadd.file!), {
      delimiter: ",",
      quote: '"',
      escape: "\\",
      nullToken: "\\N",
    });
    const c1 = caseData("case01");
    const filter = c1.tables.find((t) => t.config.table === "Filter")!;
    assert.equal(tableDialect(filter.config, filter.file!).delimiter, "\t");
  });

  test("directors load before their children, match tables after both directors", () => {
    const names = caseData("case03").tables.map((t) => t.config.table);
    const at = (n: string) => names.indexOf(n);
    assert.ok(at("RefObject") < at("RefDeepSrcMatch") && at("RunDeepSource") < at("RefDeepSrcMatch"));
    assert.ok(at("RunDeepSource") < at("RunDeepForcedSource"));
  });

  test("exactly the queries on tables without data are skipped, naming the table", () => {
    const skipped = files.flatMap((q) => {
      const why = skipReason(q, caseData(q.case));
      return why === null ? [] : [`${q.rel}: ${why}`];
    });
    assert.deepEqual(skipped, [
      "case03/queries/0040_selectCountFromRunDeepForcedSource.sql: names RunDeepForcedSource, whose data file is not in the dataset",
      "case04/queries/0003_SourcesForGivenExposure.sql: names DeepForcedSource, Science_Ccd_Exposure, whose data file is not in the dataset",
      "case04/queries/0020_showColumnsFromDeepForcedSource: names DeepForcedSource, whose data file is not in the dataset",
      "case04/queries/0030_largeResult.sql: names DeepForcedSource, whose data file is not in the dataset",
    ]);
  });
});
