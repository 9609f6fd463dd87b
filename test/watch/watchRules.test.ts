/** File-name globs and the rules file of the watch mode: what they match, and clear errors for bad ones. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { watchRules } from "../../src/cli/watch.js";
import { globRegExp } from "../../src/watch/glob.js";
import { readRules, ruleFor } from "../../src/watch/rules.js";
import { tempDir } from "../support/fs.js";
import { SYN_DATABASE_JSON, SYN_TABLE_JSON } from "../support/synthetic.js";

test("globs match whole names", () => {
  const cases: Array<[string, string, boolean]> = [
    ["*.csv", "a.csv", true],
    ["*.csv", "a.csv.gz", false],
    ["*.{csv,tsv}.gz", "x.tsv.gz", true],
    ["Object_??.csv", "Object_01.csv", true],
    ["Object_??.csv", "Object_1.csv", false],
    ["[!.]*", ".hidden", false],
    ["night[0-9].csv", "night7.csv", true],
    ["a+b(1).csv", "a+b(1).csv", true],
    ["a.csv", "abcsv", false],
  ];
  for (const [glob, name, want] of cases) assert.equal(globRegExp(glob).test(name), want, `${glob} ~ ${name}`);
  assert.throws(() => globRegExp("a[b"), /"\[" without "\]"/);
  assert.throws(() => globRegExp("{a,b"), /"\{" without "\}"/);
});

test("rules: first match wins, paths relative to the rules file; bad rules are named", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "db.json"), JSON.stringify(SYN_DATABASE_JSON));
  writeFileSync(join(dir, "Obj.json"), JSON.stringify(SYN_TABLE_JSON));
  writeFileSync(join(dir, "Obj2.json"), JSON.stringify({ ...SYN_TABLE_JSON, table: "Obj2" }));
  const file = join(dir, "rules.json");
  writeFileSync(
    file,
    JSON.stringify({
      rules: [
        { pattern: "Obj2_*.csv", database: "db.json", table: "Obj2.json", header: true },
        { pattern: "*.csv", database: "db.json", table: "Obj.json", dialect: { delimiter: "," } },
        { pattern: "*.pq", database: "db.json", table: "Obj.json", format: "parquet", dropExtraColumns: true },
      ],
    }),
  );
  const rules = readRules(file);
  assert.equal(ruleFor(rules, "Obj2_night1.csv")?.target, "qsyn.Obj2");
  assert.deepEqual(ruleFor(rules, "Obj2_night1.csv")?.options, { header: true });
  assert.equal(ruleFor(rules, "night1.csv")?.target, "qsyn.Obj");
  assert.equal(ruleFor(rules, "night1.tsv"), null);
  assert.deepEqual(ruleFor(rules, "night1.pq")?.options, { format: "parquet", dropExtraColumns: true });

  const bad = (rules: unknown, message: RegExp) => {
    writeFileSync(file, JSON.stringify(rules));
    assert.throws(() => readRules(file), message);
  };
  bad({ rules: [] }, /"rules" must be a non-empty list/);
  bad({ rules: [{ pattern: "*", database: "db.json" }] }, /rules\[0\]: "table" must be a non-empty string/);
  bad({ rules: [{ pattern: "*", database: "db.json", table: "none.json" }] }, /none\.json/);
  bad({ rules: [{ pattern: "*", database: "db.json", table: "Obj.json", headers: true }] }, /unknown key\(s\) headers/);
  bad({ rules: [{ pattern: "*", database: "db.json", table: "Obj.json", dialect: { sep: "," } }] }, /"dialect" takes/);
  bad({ rules: [{ pattern: "*", database: "db.json", table: "Obj.json", format: "xlsx" }] }, /"format" must be one of/);
});

test("ingest --watch without a rules file: --database and --table make one rule for every file", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "db.json"), JSON.stringify(SYN_DATABASE_JSON));
  writeFileSync(join(dir, "Obj.json"), JSON.stringify(SYN_TABLE_JSON));
  const flags = { pattern: "*", scanInterval: "1", retryBase: "1", retryMax: "60" };
  const single = { database: join(dir, "db.json"), table: join(dir, "Obj.json"), options: { header: true } };
  const [rule, ...more] = watchRules(flags, single);
  assert.deepEqual([rule?.target, rule?.options, more.length], ["qsyn.Obj", { header: true }, 0]);
  assert.equal(rule?.match.test("anything.tsv.gz"), true);
  assert.throws(() => watchRules(flags, { options: {} }), /needs --rules FILE \(or --database and --table\)/);
  writeFileSync(
    join(dir, "rules.json"),
    JSON.stringify({ rules: [{ pattern: "*", database: "db.json", table: "Obj.json" }] }),
  );
  assert.throws(() => watchRules({ ...flags, rules: join(dir, "rules.json") }, single), /--rules or --database/);
});
