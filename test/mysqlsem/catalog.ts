/**
 * The differential tests' catalog: one director table `Object` whose values exercise MySQL's
 * semantics (mixed-case and non-ASCII text, trailing spaces, NULLs, ids above 2^53, flags with
 * high bits, doubles), written as a Qserv ingest (configs + TSV) and as MariaDB DDL + rows.
 * Rows are in objectId order in both: a group's first row is the same row in both.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { prng } from "../../bench/generate.js";

export const DATABASE = "msem";

/** Columns as MySQL types (the same in MariaDB and in the ingest config). */
export const COLUMNS: Array<[string, string]> = [
  ["objectId", "bigint NOT NULL"],
  ["ra", "double NOT NULL"],
  ["decl", "double NOT NULL"],
  ["name", "varchar(32) DEFAULT NULL"],
  ["spType", "varchar(16) DEFAULT NULL"],
  ["vMag", "double DEFAULT NULL"],
  ["flags", "bigint NOT NULL"],
  ["nObs", "bigint NOT NULL"],
];

const NAMES = [
  "Vega",
  "vega",
  "VEGA",
  "Vega   ",
  "Véga",
  "VÉGA",
  "Müller",
  "MÜLLER",
  "müller",
  "Ærø",
  "ærø",
  "Ångström",
  "ångström",
  "Straße",
  "Sirius",
  "sirius ",
  "Alpha Cen",
  "ALPHA CEN",
  "Éltanin",
  "eltanin",
  "Zeta",
  "zeta",
  "Æsir",
  "Œil",
  null,
];

const SPECTRAL = [
  "G2V",
  "g2v",
  "sd",
  "SD",
  "Sd ",
  "S",
  "s",
  "K0III",
  "k0iii",
  "sdB",
  "SDB",
  "M",
  "m",
  "A0V",
  "a0v ",
  "DA",
  null,
];

export type Cell = string | number | bigint | null;

/**
 * The rows, in objectId order. Positions in ra 0–60°, decl −25–25°: a few dozen chunks of the
 * 18-stripe layout, so that grouping and ordering run across chunks and merge on the czar.
 */
export function catalogRows(n = 700): Cell[][] {
  const rnd = prng(14);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const rows: Cell[][] = [];
  const bigIds = [
    9007199254740993n, // 2^53 + 1
    9007199254740995n,
    4611686018427387905n, // 2^62 + 1
    4611686018427388001n,
    9223372036854775000n, // near 2^63: SUM of these overflows a BIGINT
  ];
  const small = n - bigIds.length;
  for (let i = 0; i < n; i++) {
    const id = i < small ? BigInt(1000 + i * 7) : bigIds[i - small]!;
    const ra = Math.round(rnd() * 60 * 1e6) / 1e6;
    const decl = Math.round((rnd() * 50 - 25) * 1e6) / 1e6;
    const name = pick(NAMES);
    const spType = pick(SPECTRAL);
    const vMag = rnd() < 0.1 ? null : Math.round((rnd() * 19 + 1) * 1000) / 1000;
    const f = rnd();
    const flags =
      f < 0.3 ? 0n : f < 0.5 ? BigInt(Math.floor(rnd() * 256)) : f < 0.7 ? (1n << 40n) + 3n : f < 0.9 ? 1n << 62n : 6n;
    const nObs = BigInt(Math.floor(rnd() * 100));
    rows.push([id, ra, decl, name, spType, vMag, flags, nObs]);
  }
  return rows;
}

/** A replicated table of spectral classes (one spelling each), joined to Object by the collation. */
export const SP_CLASS_COLUMNS: Array<[string, string]> = [
  ["code", "varchar(8) NOT NULL"],
  ["description", "varchar(32) NOT NULL"],
  ["rank", "int NOT NULL"],
];

export const SP_CLASS_ROWS: Cell[][] = [
  ["G2V", "Sun-like", 1n],
  ["sd", "subdwarf", 2n],
  ["K0III", "giant", 3n],
  ["m", "red dwarf", 4n],
  ["A0V", "Vega-like", 5n],
  ["DA", "white dwarf", 6n],
  ["SDB", "hot subdwarf", 7n],
  ["S", "S-type", 8n],
];

export interface IngestFiles {
  databaseJson: string;
  tables: Array<{ json: string; tsv: string }>;
}

/** Writes database.json and each table's config and TSV under `dir`. */
export function writeIngest(dir: string, rows: readonly Cell[][]): IngestFiles {
  const databaseJson = join(dir, "database.json");
  const tableJson = join(dir, "Object.json");
  const tsv = join(dir, "Object.tsv");
  writeFileSync(
    databaseJson,
    JSON.stringify({ database: DATABASE, num_stripes: 18, num_sub_stripes: 6, overlap: 0.01667 }),
  );
  writeFileSync(
    tableJson,
    JSON.stringify({
      database: DATABASE,
      table: "Object",
      is_partitioned: 1,
      director_table: "",
      director_key: "objectId",
      longitude_key: "ra",
      latitude_key: "decl",
      schema: [
        ...COLUMNS.map(([name, type]) => ({ name, type })),
        { name: "chunkId", type: "int(11) NOT NULL" },
        { name: "subChunkId", type: "int(11) NOT NULL" },
      ],
    }),
  );
  const cell = (v: Cell) => (v === null ? "\\N" : String(v));
  const lines = (rs: readonly Cell[][]) => rs.map((r) => `${r.map(cell).join("\t")}\n`).join("");
  writeFileSync(tsv, lines(rows));
  const classJson = join(dir, "SpClass.json");
  const classTsv = join(dir, "SpClass.tsv");
  writeFileSync(
    classJson,
    JSON.stringify({
      database: DATABASE,
      table: "SpClass",
      is_partitioned: 0,
      schema: SP_CLASS_COLUMNS.map(([name, type]) => ({ name, type })),
    }),
  );
  writeFileSync(classTsv, lines(SP_CLASS_ROWS));
  return {
    databaseJson,
    tables: [
      { json: tableJson, tsv },
      { json: classJson, tsv: classTsv },
    ],
  };
}

/** MariaDB statements creating the database and the table (without the partitioner's columns). */
export function mariadbDdl(): string[] {
  return [
    `CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
    `CREATE TABLE ${DATABASE}.Object (${COLUMNS.map(([n, t]) => `${n} ${t}`).join(", ")}, PRIMARY KEY (objectId))`,
    `CREATE TABLE ${DATABASE}.SpClass (${SP_CLASS_COLUMNS.map(([n, t]) => `${n} ${t}`).join(", ")})`,
  ];
}
