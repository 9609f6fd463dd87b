import assert from "node:assert/strict";
import { test } from "node:test";
import Database from "better-sqlite3";
import { registerScisql } from "../../src/sqlite/scisql.js";

const db = new Database(":memory:");
registerScisql(db);
const one = (sql: string) => db.prepare(sql).pluck().get();

test("every scisql function: NULL in, NULL out", () => {
  for (const call of [
    "scisql_angSep(NULL, 0, 1, 1)",
    "scisql_angSep(0, 0, 1, 1, 0, NULL)",
    "scisql_s2PtInBox(1, NULL, 0, 0, 2, 2)",
    "scisql_s2PtInCircle(1, 1, 0, 0, NULL)",
    "scisql_s2PtInEllipse(NULL, 1, 0, 0, 10, 5, 0)",
    "scisql_s2PtInCPoly(1, 1, 0, 0, 2, 0, NULL, 2)",
    "scisql_fluxToAbMag(NULL)",
    "scisql_fluxToAbMagSigma(1e-29, NULL)",
    "scisql_abMagToFlux(NULL)",
    "scisql_abMagToFluxSigma(NULL, 0.1)",
  ]) {
    assert.equal(one(`SELECT ${call}`), null, call);
  }
});

test("results SQL cannot hold (log of a flux <= 0) are NULL", () => {
  assert.equal(one("SELECT scisql_fluxToAbMag(0)"), null);
  assert.equal(one("SELECT scisql_fluxToAbMag(-1)"), null);
  assert.equal(one("SELECT scisql_fluxToAbMagSigma(0, 1)"), null);
});

test("the six-argument angSep takes two vectors", () => {
  assert.ok(Math.abs((one("SELECT scisql_angSep(1, 0, 0, 0, 1, 0)") as number) - 90) < 1e-12);
});

test("bad arguments are SQL errors naming the function", () => {
  for (const [call, message] of [
    ["scisql_s2PtInCircle(1, 1, 0, 0)", /scisql_s2PtInCircle takes 5 arguments, got 4/],
    ["scisql_s2PtInBox(1, 1, 0, 10, 2, 5)", /scisql_s2PtInBox: box decMin 10 is greater than decMax 5/],
    ["scisql_s2PtInCircle(1, 95, 0, 0, 1)", /scisql_s2PtInCircle: declination 95 outside/],
    ["scisql_s2PtInCPoly(1, 1, 0, 0, 2, 0)", /scisql_s2PtInCPoly: polygon needs at least 3 vertices/],
    ["scisql_angSep(1, 2, 3)", /scisql_angSep takes 4/],
    ["scisql_angSep('a', 2, 3, 4)", /is not a number/],
  ] as const) {
    assert.throws(() => one(`SELECT ${call}`), message, call);
  }
});
