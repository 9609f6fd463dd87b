/**
 * One catalog written three ways by writers no one here wrote: CSV (MySQL LOAD DATA text),
 * Parquet by DuckDB (`COPY ... TO` with snappy or zstd, row groups, dictionary strings) and FITS
 * by astropy (Debian's python3-astropy, installed when missing).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { DuckDBInstance } from "@duckdb/node-api";
import { ensureDebianPackages } from "./debianPackages.js";

export interface CatalogRow {
  id: bigint;
  ra: number;
  decl: number;
  /** A 32-bit float (a short decimal), or NULL. */
  mag: number | null;
  band: string;
  name: string;
  flag: boolean;
  nobs: number | null;
}

/** The table config's schema of these rows (a director: id, ra, decl). */
export const CATALOG_SCHEMA = [
  { name: "id", type: "BIGINT NOT NULL" },
  { name: "ra", type: "DOUBLE NOT NULL" },
  { name: "decl", type: "DOUBLE NOT NULL" },
  { name: "mag", type: "FLOAT" },
  { name: "band", type: "VARCHAR(8) NOT NULL" },
  { name: "name", type: "VARCHAR(64) NOT NULL" },
  { name: "flag", type: "BOOLEAN NOT NULL" },
  { name: "nobs", type: "INT" },
];

/** Deterministic rows: ids above 2^53, NULLs, few distinct bands (dictionary-encoded), awkward names. */
export function catalogRows(n: number, nonAscii = false): CatalogRow[] {
  // FITS holds ASCII text only: non-ASCII names where only CSV and Parquet are compared.
  const names = ["plain", "with,comma", "back\\slash", nonAscii ? "Véga ß" : "Vega", "tab\there", "quote'd"];
  return Array.from({ length: n }, (_, i) => ({
    id: (1n << 53n) + BigInt(i) * 7919n + 1n,
    ra: Math.round(((i * 137.508) % 360) * 1e6) / 1e6,
    decl: Math.round((((i * 61.803) % 170) - 85) * 1e6) / 1e6,
    mag: i % 7 === 0 ? null : Math.fround(Math.round((15 + (i % 100) / 10) * 10) / 10),
    band: "ugrizy"[i % 6] as string,
    name: `${names[i % names.length]}-${i % 50}`,
    flag: i % 3 === 0,
    nobs: i % 9 === 0 ? null : (i * 31) % 1000,
  }));
}

const esc = (s: string) => s.replace(/[\\,\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));

/** The rows as MySQL-escaped CSV (\N for NULL), the format `mini-qserv ingest` takes by default. */
export function writeCsv(rows: readonly CatalogRow[], path: string): void {
  const f32 = (x: number) => String(Number(x.toPrecision(7)));
  const text = rows
    .map((r) =>
      [
        r.id,
        r.ra,
        r.decl,
        r.mag === null ? "\\N" : f32(r.mag),
        r.band,
        esc(r.name),
        r.flag ? 1 : 0,
        r.nobs ?? "\\N",
      ].join(","),
    )
    .join("\n");
  writeFileSync(path, `${text}\n`);
}

/** The rows as Parquet written by DuckDB, with the codec and row-group size given. */
export async function writeParquet(
  rows: readonly CatalogRow[],
  path: string,
  codec: "snappy" | "zstd" | "gzip",
  rowGroupSize: number,
  extraSql = "",
): Promise<void> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    await c.run(
      "CREATE TABLE t (id BIGINT NOT NULL, ra DOUBLE NOT NULL, decl DOUBLE NOT NULL, mag FLOAT, band VARCHAR NOT NULL, name VARCHAR NOT NULL, flag BOOLEAN NOT NULL, nobs INTEGER)",
    );
    const a = await c.createAppender("t");
    for (const r of rows) {
      a.appendBigInt(r.id);
      a.appendDouble(r.ra);
      a.appendDouble(r.decl);
      if (r.mag === null) a.appendNull();
      else a.appendFloat(r.mag);
      a.appendVarchar(r.band);
      a.appendVarchar(r.name);
      a.appendBoolean(r.flag);
      if (r.nobs === null) a.appendNull();
      else a.appendInteger(r.nobs);
      a.endRow();
    }
    a.closeSync();
    await c.run(
      `COPY (SELECT *${extraSql} FROM t) TO '${path.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${rowGroupSize})`,
    );
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** Debian's python, where python3-astropy installs. */
export const PYTHON = "/usr/bin/python3";

/** Installs python3-astropy when missing: why it cannot be used, or null. */
export function ensureAstropy(): string | null {
  return ensureDebianPackages(
    ["python3-astropy"],
    () => spawnSync(PYTHON, ["-c", "import astropy.io.fits"]).status === 0,
  );
}

/** Runs a python script with astropy; its stdout (throws with stderr on failure). */
export function python(script: string, input = ""): string {
  const r = spawnSync(PYTHON, ["-c", script], { input, encoding: "utf8", timeout: 300_000, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** The rows as a FITS binary table written by astropy (masked values: TNULL for ints, NaN for floats). */
export function writeFits(rows: readonly CatalogRow[], path: string): void {
  const json = JSON.stringify(rows.map((r) => ({ ...r, id: String(r.id) })));
  python(
    `
import sys, json, numpy as np
from astropy.table import Table, Column, MaskedColumn
rows = json.load(sys.stdin)
t = Table()
t['id'] = Column(np.array([int(r['id']) for r in rows], dtype=np.int64), description='object id')
t['ra'] = Column([r['ra'] for r in rows], dtype=np.float64, unit='deg', description='Right ascension (ICRS)')
t['decl'] = Column([r['decl'] for r in rows], dtype=np.float64, unit='deg')
t['mag'] = MaskedColumn([r['mag'] or 0 for r in rows], mask=[r['mag'] is None for r in rows], dtype=np.float32, unit='mag')
t['band'] = Column([r['band'] for r in rows])
t['name'] = Column([r['name'] for r in rows])
t['flag'] = Column([r['flag'] for r in rows], dtype=bool)
t['nobs'] = MaskedColumn([r['nobs'] or 0 for r in rows], mask=[r['nobs'] is None for r in rows], dtype=np.int32)
t.write(${JSON.stringify(path)}, overwrite=True)
`,
    json,
  );
}
