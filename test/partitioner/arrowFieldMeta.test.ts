/**
 * `mini-qserv describe` carries the Arrow field metadata (units, descriptions, UCDs) that Arrow's
 * Parquet writers keep in the file's `ARROW:schema`: the file written by apache-arrow and
 * parquet-wasm (arrow-rs), neither written here.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Field, Float64, Int64, Schema, Table, tableToIPC, Utf8, vectorFromArray } from "apache-arrow";
import * as parquetWasm from "parquet-wasm/node";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/fs.js";

const dir = tempDir();

/** A Parquet file of the fields given, through Arrow IPC into parquet-wasm's writer. */
function writeArrowParquet(path: string, fields: Field[]): void {
  const data = {
    id: vectorFromArray([1n, 2n, 3n], new Int64()),
    ra: vectorFromArray([10.5, 200.25, null], new Float64()),
    band: vectorFromArray(["g", "r", "i"], new Utf8()),
  };
  const table = new Table(new Schema(fields), data);
  const wasm = parquetWasm.Table.fromIPCStream(tableToIPC(table, "stream"));
  writeFileSync(path, parquetWasm.writeParquet(wasm));
}

function describeSchema(file: string): { name: string; type: string; unit?: string; description?: string }[] {
  const r = runCli(["describe", file, "--database", "am", "--table", "Obj"]);
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { schema: { name: string; type: string }[] }).schema;
}

describe("Arrow field metadata in describe", () => {
  test("units, descriptions and UCDs of an Arrow-written Parquet file reach the config", () => {
    const file = join(dir, "meta.parquet");
    writeArrowParquet(file, [
      new Field("id", new Int64(), false, new Map([["description", "Object id, unique"]])),
      new Field(
        "ra",
        new Float64(),
        true,
        new Map([
          ["unit", "deg"],
          ["description", "Right ascension (ICRS), degrees"],
          ["ucd", "pos.eq.ra;meta.main"],
        ]),
      ),
      new Field("band", new Utf8(), true, new Map([["other", "ignored"]])),
    ]);
    assert.deepEqual(describeSchema(file), [
      { name: "id", type: "BIGINT NOT NULL", description: "Object id, unique" },
      {
        name: "ra",
        type: "DOUBLE",
        unit: "deg",
        ucd: "pos.eq.ra;meta.main",
        description: "Right ascension (ICRS), degrees",
      },
      { name: "band", type: "TEXT" },
    ]);
  });

  test("a file whose fields carry no metadata describes its columns alone", () => {
    const file = join(dir, "plain.parquet");
    writeArrowParquet(file, [
      new Field("id", new Int64(), false),
      new Field("ra", new Float64(), true),
      new Field("band", new Utf8(), true),
    ]);
    assert.deepEqual(describeSchema(file), [
      { name: "id", type: "BIGINT NOT NULL" },
      { name: "ra", type: "DOUBLE" },
      { name: "band", type: "TEXT" },
    ]);
  });
});
