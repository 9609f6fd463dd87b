/**
 * The fault soak's reference: one SQLite database holding the demo catalog's Object and every
 * part of its Source table (one table per part), with `Source` a view of the parts a load state
 * holds. A query's expected rows are asked of the view for each state the query may have seen.
 */
import type Database from "better-sqlite3";
import { type DatabaseConfig, type TableConfig, tableDialect } from "../../src/common/ingestConfig.js";
import { expectedRows } from "../../test/support/demo.js";
import { loadReference, referenceDb } from "../../test/support/referenceDb.js";

/** A load state: the Source parts published, as a sorted comma list ("0,3,5"). */
export type StateKey = string;

export const stateKey = (parts: Iterable<number>): StateKey => [...parts].sort((a, b) => a - b).join(",");

export class FaultReference {
  readonly db: Database.Database = referenceDb();
  private view: StateKey | null = null;
  private readonly cache = new Map<string, string[]>();
  /** Rows and sum of sourceId per part. */
  readonly partContent: Array<{ rows: number; sum: bigint }> = [];

  constructor(
    dbCfg: DatabaseConfig,
    object: { cfg: TableConfig; file: string },
    source: { cfg: TableConfig; files: string[] },
  ) {
    loadReference(this.db, object.file, object.cfg, tableDialect(object.cfg, object.file), dbCfg);
    this.db.exec("CREATE INDEX object_id ON Object(objectId); CREATE INDEX object_decl ON Object(decl)");
    source.files.forEach((file, p) => {
      const cfg = { ...source.cfg, table: `Source_p${p}` };
      loadReference(this.db, file, cfg, tableDialect(cfg, file), dbCfg);
      this.db.exec(`CREATE INDEX source_p${p}_object ON Source_p${p}(objectId)`);
      const [rows, sum] = this.db
        .prepare(`SELECT COUNT(*), COALESCE(SUM(sourceId), 0) FROM Source_p${p}`)
        .raw(true)
        .safeIntegers(true)
        .get() as [bigint, bigint];
      this.partContent.push({ rows: Number(rows), sum });
    });
  }

  /** Rows and sum of sourceId of Source in a state. */
  content(state: StateKey): { rows: number; sum: bigint } {
    return parts(state).reduce(
      (a, p) => ({ rows: a.rows + this.partContent[p]!.rows, sum: a.sum + this.partContent[p]!.sum }),
      {
        rows: 0,
        sum: 0n,
      },
    );
  }

  /** The reference's rows for `sql` with Source holding the parts of `state` (cached). */
  expected(sql: string, state: StateKey): string[] {
    const k = `${state}\n${sql}`;
    const hit = this.cache.get(k);
    if (hit !== undefined) return hit;
    if (this.view !== state) {
      this.db.exec("DROP VIEW IF EXISTS Source");
      const union = parts(state)
        .map((p) => `SELECT * FROM Source_p${p}`)
        .join(" UNION ALL ");
      this.db.exec(`CREATE TEMP VIEW Source AS ${union}`);
      this.view = state;
    }
    const rows = expectedRows(this.db, sql);
    this.cache.set(k, rows);
    return rows;
  }

  /** Object positions (to centre regions where objects are). */
  positions(): Array<[number, number]> {
    return this.db.prepare("SELECT ra, decl FROM Object").raw(true).all() as Array<[number, number]>;
  }

  close(): void {
    this.db.close();
  }
}

const parts = (state: StateKey): number[] => (state === "" ? [] : state.split(",").map(Number));
