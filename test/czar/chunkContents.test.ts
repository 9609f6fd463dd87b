/**
 * Whether a worker's listing shows a chunk whole: the rows metadata records, from the loads it
 * records. A replica that missed an unload and an append while it was down can hold as many rows
 * as it should, from the wrong load; it must not count as whole (it once answered queries so).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { holdingsOf, holdsAll, type TableRows } from "../../src/czar/chunkContents.js";
import type { ListResponse, StagedHeld } from "../../src/worker/messages.js";

/** A listing of chunk 7 of db `d`: table Source with 5 rows and 1 overlap row, from `published` stages. */
function listing(published: StagedHeld[]): ListResponse {
  return {
    databases: [
      {
        name: "d",
        tables: [{ name: "Source", partitioned: true, columns: [], directorKey: "objectId", rows: 0 }],
        chunks: [{ chunkId: 7, tables: [{ table: "Source", rows: 5, overlapRows: 1 }], bytes: 1000 }],
        staged: [],
        published,
      },
    ],
  };
}
const stage = (s: string, rows: number, overlapRows = 0): StagedHeld => ({
  table: "Source",
  stage: s,
  chunkId: 7,
  rows,
  overlapRows,
});
const want = (stages?: string[]): TableRows[] => [
  { table: "Source", rows: 5, overlapRows: 1, ...(stages === undefined ? {} : { stages }) },
];

describe("holdsAll: rows and the loads they came from", () => {
  test("the same rows from the recorded loads: whole", () => {
    const { held } = holdingsOf(listing([stage("La", 2, 1), stage("Lb", 3)]));
    assert.equal(holdsAll(held, "d", 7, want(["La", "Lb"])), true);
  });

  test("as many rows from another load (an unload and an append missed): not whole", () => {
    const { held } = holdingsOf(listing([stage("La", 2, 1), stage("Lc", 3)]));
    assert.equal(holdsAll(held, "d", 7, want(["La", "Lb"])), false);
    assert.equal(holdsAll(held, "d", 7, want(["La"])), false);
  });

  test("a listing or metadata that names no loads falls back to the counts", () => {
    assert.equal(holdsAll(holdingsOf(listing([])).held, "d", 7, want(["La", "Lb"])), true);
    assert.equal(holdsAll(holdingsOf(listing([stage("Lc", 5, 1)])).held, "d", 7, want()), true);
    assert.equal(holdsAll(holdingsOf(listing([])).held, "d", 7, [{ ...want()[0]!, rows: 4 }]), false);
  });

  test("a stage being published is left out of rows and loads alike", () => {
    const publishing = (_db: string, _t: string, s: string) => s === "Lb";
    const { held } = holdingsOf(listing([stage("La", 2, 1), stage("Lb", 3)]), publishing);
    assert.equal(holdsAll(held, "d", 7, [{ table: "Source", rows: 2, overlapRows: 1, stages: ["La"] }]), true);
    // The other stages are still compared.
    assert.equal(holdsAll(held, "d", 7, [{ table: "Source", rows: 2, overlapRows: 1, stages: ["Lc"] }]), false);
  });
});
