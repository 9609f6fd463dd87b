/**
 * TAP_SCHEMA (TAP 1.1 §4): schemas, tables, columns, keys, key_columns, made from the czar's
 * metadata (units, UCDs and descriptions from the optional table-config fields) and queried with
 * ADQL like any table, from an in-memory SQLite database on the czar.
 */
import type Database from "better-sqlite3";
import type { Value } from "../../common/rowCodec.js";
import type { CzarCatalog, TableMeta } from "../../czar/catalog.js";
import { scratchDb } from "../../czar/exec/scratch.js";
import type { Select } from "../../czar/sql/ast.js";
import { tableRefs } from "../../czar/sql/walk.js";
import { fieldOfConfig, type VoField } from "./fields.js";
import { queryLocal } from "./localQuery.js";

export const TAP_SCHEMA = "TAP_SCHEMA";

interface Col {
  name: string;
  type: "TEXT" | "INTEGER";
  description: string;
}
const text = (name: string, description: string): Col => ({ name, type: "TEXT", description });
const int = (name: string, description: string): Col => ({ name, type: "INTEGER", description });

/** The TAP_SCHEMA tables and their columns, in TAP 1.1's order. */
const TABLES: Record<string, { description: string; columns: Col[] }> = {
  schemas: {
    description: "The schemas (databases) of this service",
    columns: [
      text("schema_name", "schema name"),
      text("utype", "utype of the schema"),
      text("description", "describes the schema"),
      int("schema_index", "recommended sort order"),
    ],
  },
  tables: {
    description: "The tables of this service",
    columns: [
      text("schema_name", "the schema the table belongs to"),
      text("table_name", "the fully qualified table name"),
      text("table_type", "one of: table, view"),
      text("utype", "utype of the table"),
      text("description", "describes the table"),
      int("table_index", "recommended sort order"),
    ],
  },
  columns: {
    description: "The columns of the tables of this service",
    columns: [
      text("table_name", "the table the column belongs to"),
      text("column_name", "column name"),
      text("utype", "utype of the column"),
      text("ucd", "UCD of the column"),
      text("unit", "unit in VO standard format"),
      text("description", "describes the column"),
      text("datatype", "ADQL datatype as in the VOTable standard"),
      text("arraysize", "length of variable length datatypes"),
      text("xtype", "a DALI or custom extended type annotation"),
      int("size", "same as arraysize but as an integer (deprecated)"),
      int("principal", "a principal column; 1 means true, 0 false"),
      int("indexed", "an indexed column; 1 means true, 0 false"),
      int("std", "a standard column; 1 means true, 0 false"),
      int("column_index", "recommended sort order"),
    ],
  },
  keys: {
    description: "Foreign keys between the tables",
    columns: [
      text("key_id", "unique key identifier"),
      text("from_table", "the table with the foreign key"),
      text("target_table", "the table with the primary key"),
      text("utype", "utype of the key"),
      text("description", "describes the key"),
    ],
  },
  key_columns: {
    description: "The columns of the foreign keys",
    columns: [
      text("key_id", "key identifier from TAP_SCHEMA.keys"),
      text("from_column", "key column in the from_table"),
      text("target_column", "key column in the target_table"),
    ],
  },
};

/** TAP_SCHEMA's own foreign keys (TAP 1.1 §4): table → [from column, target table, target column]. */
const TAP_SCHEMA_KEYS: Record<string, Array<[string, string, string]>> = {
  tables: [["schema_name", "schemas", "schema_name"]],
  columns: [["table_name", "tables", "table_name"]],
  keys: [
    ["from_table", "tables", "table_name"],
    ["target_table", "tables", "table_name"],
  ],
  key_columns: [["key_id", "keys", "key_id"]],
};

/** One table as TAP describes it: qualified name, description, columns, foreign keys. */
export interface TapTable {
  schema: string;
  name: string;
  description: string;
  columns: Array<VoField & { principal: boolean; indexed: boolean; std: boolean }>;
  keys: Array<{ id: string; target: string; from: string; to: string }>;
}

/** Every table of the service: TAP_SCHEMA's own, then each database's. */
export function tapTables(catalog: CzarCatalog): Map<string, TapTable[]> {
  const out = new Map<string, TapTable[]>();
  out.set(
    TAP_SCHEMA,
    Object.entries(TABLES).map(([name, t]) => ({
      schema: TAP_SCHEMA,
      name: `${TAP_SCHEMA}.${name}`,
      description: t.description,
      columns: t.columns.map((c) => ({
        name: c.name === "size" ? '"size"' : c.name,
        datatype: c.type === "TEXT" ? ("char" as const) : ("int" as const),
        ...(c.type === "TEXT" ? { arraysize: "*" } : {}),
        description: c.description,
        principal: true,
        indexed: false,
        std: true,
      })),
      keys: (TAP_SCHEMA_KEYS[name] ?? []).map(([from, target, to]) => ({
        id: `${TAP_SCHEMA}.${name}.${from}`,
        target: `${TAP_SCHEMA}.${target}`,
        from,
        to,
      })),
    })),
  );
  for (const db of catalog.databases()) {
    const metas = catalog.tables(db.database);
    out.set(
      db.database,
      metas.map((m) => tapTable(m, metas)),
    );
  }
  return out;
}

function tapTable(m: TableMeta, all: readonly TableMeta[]): TapTable {
  const c = m.config;
  const director = all.find((d) => d.name === c.directorTable && d.kind === "director");
  const keyed = m.kind === "director" ? c.directorKey : "";
  return {
    schema: m.database,
    name: `${m.database}.${m.name}`,
    description: c.description ?? "",
    columns: c.schema.map((col) => ({
      ...fieldOfConfig(col),
      principal: col.name !== "chunkId" && col.name !== "subChunkId",
      indexed: col.name === keyed,
      std: false,
    })),
    keys:
      director === undefined || c.directorKey === ""
        ? []
        : [
            {
              id: `${m.database}.${m.name}-${director.name}`,
              target: `${m.database}.${director.name}`,
              from: c.directorKey,
              to: director.config.directorKey,
            },
          ],
  };
}

/** TAP_SCHEMA as an SQLite database (tables named without the schema). */
function tapSchemaDb(catalog: CzarCatalog): Database.Database {
  const db = scratchDb();
  for (const [name, t] of Object.entries(TABLES)) {
    db.exec(`CREATE TABLE "${name}" (${t.columns.map((c) => `"${c.name}" ${c.type}`).join(", ")})`);
  }
  const insert = (table: string, row: Value[]) =>
    db.prepare(`INSERT INTO "${table}" VALUES (${row.map(() => "?").join(", ")})`).run(...row);
  const b = (x: boolean) => (x ? 1 : 0);
  let schemaIndex = 0;
  for (const [schema, tables] of tapTables(catalog)) {
    insert("schemas", [schema, null, schema === TAP_SCHEMA ? "TAP metadata" : `database ${schema}`, schemaIndex++]);
    tables.forEach((t, ti) => {
      insert("tables", [schema, t.name, "table", null, t.description, ti]);
      t.columns.forEach((c, ci) => {
        const size = c.arraysize !== undefined && /^\d+/.test(c.arraysize) ? Number.parseInt(c.arraysize, 10) : null;
        insert("columns", [
          t.name,
          c.name,
          null,
          c.ucd ?? null,
          c.unit ?? null,
          c.description ?? null,
          c.datatype,
          c.arraysize ?? null,
          c.xtype ?? null,
          size,
          b(c.principal),
          b(c.indexed),
          b(c.std),
          ci,
        ]);
      });
      for (const k of t.keys) {
        insert("keys", [k.id, t.name, k.target, null, `${t.name}.${k.from} refers to ${k.target}.${k.to}`]);
        insert("key_columns", [k.id, k.from, k.to]);
      }
    });
  }
  return db;
}

/** Whether a SELECT reads TAP_SCHEMA (then it reads only TAP_SCHEMA). */
export function readsTapSchema(s: Select): boolean {
  return tableRefs(s.from).some((t) => t.db?.toUpperCase() === TAP_SCHEMA);
}

/** Answers a SELECT on TAP_SCHEMA: fields typed from the declared columns, rows. */
export function queryTapSchema(catalog: CzarCatalog, s: Select): { fields: VoField[]; rows: Value[][] } {
  const db = tapSchemaDb(catalog);
  try {
    return queryLocal(db, s, TAP_SCHEMA);
  } finally {
    db.close();
  }
}
