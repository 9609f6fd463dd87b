/**
 * Combines chunks' partial aggregate rows in a hash map keyed on their group values, so that
 * many chunks' partials become one row per group: on a worker across the chunks of a batch, on
 * the czar across all the workers' answers. The combined rows are partials of the same shape,
 * so the czar's merge query (plan/split.ts) gives the same answer over them as over the rows
 * they came from. A row the combiner cannot combine exactly (a value of a type its column does
 * not expect, an integer sum past 64 bits) is handed back as it is: any mix of partials merges
 * to the same answer.
 */
import { collationKey } from "../sqlite/mysqlCollation.js";
import type { Value } from "./rowCodec.js";

/**
 * What a partial column is: `key` groups by value (numbers, NULL), `text` by the collation key
 * (its spelling taken from the earliest row), `pick` is the earliest row's value (MySQL's first
 * row of the group), `sum` adds as SQLite's sum() does, `intSum` adds integers exactly (a
 * DECIMAL sum of integers), `min` / `max` keep the extreme number.
 */
export type CombineOp = "key" | "text" | "pick" | "sum" | "intSum" | "min" | "max";

export interface CombineSpec {
  ops: CombineOp[];
  /** The column holding each partial row's first row order (MIN of the director key); -1: none. */
  orderColumn: number;
}

const OPS = new Set<string>(["key", "text", "pick", "sum", "intSum", "min", "max"]);

/** A spec as received (from a request): null when it names an op this build does not know. */
export function combineSpecOf(ops: readonly string[], orderColumn: number): CombineSpec | null {
  if (ops.length === 0 || !ops.every((o) => OPS.has(o))) return null;
  if (orderColumn >= ops.length) return null;
  return { ops: ops as CombineOp[], orderColumn };
}

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);
const TWO63 = 2 ** 63;

/** SQLite's sum() state: exact integers until a real (or an overflow) comes, then Kahan-Babuska-Neumaier. */
interface SumState {
  n: number;
  i: bigint;
  approx: boolean;
  s: number;
  err: number;
}

interface Group {
  row: Value[];
  sums: Array<SumState | null>;
}

function kbn(st: SumState, r: number): void {
  const t = st.s + r;
  if (Math.abs(st.s) > Math.abs(r)) st.err += st.s - t + r;
  else st.err += r - t + st.s;
  st.s = t;
}

function toApprox(st: SumState): void {
  st.approx = true;
  st.s = Number(st.i);
  st.err = Number(st.i - BigInt(st.s));
}

/** A number's group key: integral values equal to an integer group with it (as SQLite compares them). */
function numberKey(v: number | bigint): string {
  if (typeof v === "bigint") return `i${v}`;
  return Number.isInteger(v) && Math.abs(v) < TWO63 ? `i${BigInt(v)}` : `r${v}`;
}

function earlier(a: Value, b: Value): boolean {
  if (a === null) return false;
  if (b === null) return true;
  return (a as number | bigint) < (b as number | bigint);
}

export class PartialCombiner {
  private readonly groups = new Map<string, Group>();
  private readonly keyCols: number[];
  private readonly sumCols: number[];

  constructor(private readonly spec: CombineSpec) {
    this.keyCols = spec.ops.flatMap((o, i) => (o === "key" || o === "text" ? [i] : []));
    this.sumCols = spec.ops.flatMap((o, i) => (o === "sum" || o === "intSum" ? [i] : []));
  }

  /** Groups held. */
  get size(): number {
    return this.groups.size;
  }

  /** Takes rows in; returns those it could not combine (to be merged as they are). */
  add(rows: readonly Value[][]): Value[][] {
    const refused: Value[][] = [];
    for (const r of rows) if (!this.addRow(r)) refused.push(r);
    return refused;
  }

  /** The combined rows, one per group (in the order groups were first seen). */
  rows(): Value[][] {
    const out: Value[][] = [];
    for (const g of this.groups.values()) {
      g.sums.forEach((st, i) => {
        if (st !== null) g.row[i] = sumValue(st);
      });
      out.push(g.row);
    }
    return out;
  }

  private key(r: readonly Value[]): string | null {
    let k = "";
    for (const i of this.keyCols) {
      const v = r[i];
      let part: string;
      if (v === null || v === undefined) part = "n";
      else if (typeof v === "number" || typeof v === "bigint") part = numberKey(v);
      else if (typeof v === "string" && this.spec.ops[i] === "text") part = `t${collationKey(v)}`;
      else return null; // text under a numeric key (which may group by its number), blobs
      k += `${part.length}:${part}`;
    }
    return k;
  }

  /** Whether every value has the type its op combines exactly. */
  private fits(r: readonly Value[]): boolean {
    const { ops, orderColumn } = this.spec;
    if (r.length !== ops.length) return false;
    if (orderColumn >= 0) {
      const o = r[orderColumn];
      if (o !== null && typeof o !== "bigint" && typeof o !== "number") return false;
    }
    for (let i = 0; i < ops.length; i++) {
      const v = r[i];
      const op = ops[i]!;
      if (v === null || op === "pick" || op === "key" || op === "text") continue;
      if (op === "intSum" ? typeof v !== "bigint" : typeof v !== "bigint" && typeof v !== "number") return false;
    }
    return true;
  }

  private addRow(r: Value[]): boolean {
    if (!this.fits(r)) return false;
    const k = this.key(r);
    if (k === null) return false;
    const { ops, orderColumn } = this.spec;
    const g = this.groups.get(k);
    if (g === undefined) {
      const sums = ops.map((op) =>
        op === "sum" || op === "intSum" ? { n: 0, i: 0n, approx: false, s: 0, err: 0 } : null,
      );
      for (const i of this.sumCols) step(sums[i]!, r[i]!);
      this.groups.set(k, { row: [...r], sums });
      return true;
    }
    // A sum() of integers past 64 bits (SQLite raises an error there) refuses the row before anything changes.
    for (const i of this.sumCols) {
      const v = r[i];
      const st = g.sums[i]!;
      if (ops[i] === "sum" && typeof v === "bigint" && !st.approx && !fits64(st.i + v)) return false;
    }
    for (const i of this.sumCols) step(g.sums[i]!, r[i]!);
    const pickNow = orderColumn >= 0 && earlier(r[orderColumn]!, g.row[orderColumn]!);
    for (let i = 0; i < ops.length; i++) {
      const v = r[i]!;
      const held = g.row[i]!;
      switch (ops[i]) {
        case "text":
        case "pick":
          if (pickNow) g.row[i] = v;
          break;
        case "min":
          if (v !== null && (held === null || (v as number) < (held as number))) g.row[i] = v;
          break;
        case "max":
          if (v !== null && (held === null || (v as number) > (held as number))) g.row[i] = v;
          break;
        default:
          break;
      }
    }
    return true;
  }
}

const fits64 = (v: bigint) => v <= I64_MAX && v >= I64_MIN;

/** Adds `v` to `st` as SQLite's sum() does (exact integers until a real comes; addRow checks overflow). */
function step(st: SumState, v: Value): void {
  if (v === null) return;
  st.n++;
  if (typeof v === "bigint" && !st.approx) st.i += v;
  else {
    if (!st.approx) toApprox(st);
    kbn(st, Number(v));
  }
}

function sumValue(st: SumState): Value {
  if (st.n === 0) return null;
  if (!st.approx) return fits64(st.i) ? st.i : st.i.toString(); // past 64 bits: an exact DECIMAL sum's digits
  return Number.isFinite(st.err) ? st.s + st.err : st.s;
}

/** Groups a combiner holds at most before its rows are handed on (bounding memory; still exact). */
export const MAX_COMBINED_GROUPS = 100_000;

/**
 * A combiner that hands its rows to `out` whenever it holds `maxGroups` groups and at `end()`;
 * rows it cannot combine go to `out` at once.
 */
export class FlushingCombiner {
  private combiner: PartialCombiner;

  constructor(
    private readonly spec: CombineSpec,
    private readonly out: (rows: Value[][]) => void,
    private readonly maxGroups = MAX_COMBINED_GROUPS,
  ) {
    this.combiner = new PartialCombiner(spec);
  }

  add(rows: readonly Value[][]): void {
    const refused = this.combiner.add(rows);
    if (refused.length > 0) this.out(refused);
    if (this.combiner.size >= this.maxGroups) this.end();
  }

  /** Hands on the rows held (the combiner starts afresh). */
  end(): void {
    if (this.combiner.size === 0) return;
    const rows = this.combiner.rows();
    this.combiner = new PartialCombiner(this.spec);
    this.out(rows);
  }
}
