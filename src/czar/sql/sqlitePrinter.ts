/**
 * Prints the czar's MySQL AST as SQLite SQL with MySQL's meaning (the workers run SQLite).
 * Where the dialects differ: `/` divides as reals, `DIV` truncates, MOD and the bit operators
 * call src/sqlite/mysqlCompat.ts, `<=>` is IS, XOR compares truth values, text compares,
 * groups and sorts by utf8mb4_general_ci (the keys of src/sqlite/mysqlCollation.ts: case and
 * accents folded, trailing spaces ignored) and against numbers as a number, functions map
 * through sqliteFunctions.ts. A grouped SELECT shows the group's first row's values (by
 * `rowOrder`), as MySQL does. What cannot be bridged is a QservError UNSUPPORTED at the construct.
 * Hexadecimal literals take their numeric meaning (0x41 is 65); where MySQL would read one as
 * a string (compared with text, a string argument, LIKE) they are refused.
 */
import { QservError } from "../../common/errors.js";
import { quoteIdent } from "../../sqlite/types.js";
import type {
  Between,
  Binary,
  BinaryOp,
  Call,
  Case,
  Cast,
  ColumnRef,
  Expr,
  FromItem,
  GroupConcat,
  In,
  Is,
  Like,
  Select,
  SelectItem,
  TableRef,
  WindowCall,
} from "./ast.js";
import { printExpr } from "./printer.js";
import { isIntegerType, isNumericType, type MysqlType, mysqlType, T } from "./resultTypes.js";
import { type ArgPrinter, functionSpec, unsupported, type ValueKind, wrongArguments } from "./sqliteFunctions.js";
import { distinctAsGroupBy, hasAggregateCall, isExact, showsFirstRow, valueKind } from "./valueKinds.js";
import { children } from "./walk.js";

export interface SqlitePrintOptions {
  /** Text printed for a table reference in FROM, alias included (default: quoted name [AS quoted alias], db dropped). */
  table?: (t: TableRef) => string;
  /** Whether a column holds text (for case-insensitive comparisons); default: unknown → false. */
  isText?: (c: ColumnRef) => boolean;
  /** The order of rows, MySQL's scan order (the director key): picks a group's first row; default none. */
  rowOrder?: Expr;
  /** A column's MySQL type (exact integer arithmetic, SUM/AVG as DECIMAL, numbers as text); default unknown. */
  columnType?: (c: ColumnRef) => MysqlType | null;
}

/** MySQL's window-only functions, which SQLite has under the same names and meaning. */
const WINDOW_FUNCTIONS = new Set([
  "ROW_NUMBER",
  "RANK",
  "DENSE_RANK",
  "PERCENT_RANK",
  "CUME_DIST",
  "NTILE",
  "LAG",
  "LEAD",
  "FIRST_VALUE",
  "LAST_VALUE",
  "NTH_VALUE",
]);

// SQLite's precedence levels, loosest first (https://sqlite.org/lang_expr.html#operators).
const OR = 1;
const AND = 2;
const NOT = 3;
const EQ = 4; // = <> IS IN LIKE BETWEEN
const REL = 5; // < <= > >=
const ADD = 7;
const MUL = 8;
const COLLATE = 10;
const UNARY = 11;
const PRIMARY = 12;

/** Printed SQL and the precedence level of its outermost operator. */
interface Out {
  sql: string;
  level: number;
}

const out = (sql: string, level = PRIMARY): Out => ({ sql, level });

const COMPARISONS: Partial<Record<BinaryOp, [string, number]>> = {
  "=": ["=", EQ],
  "<>": ["<>", EQ],
  "<=>": ["IS", EQ],
  "<": ["<", REL],
  "<=": ["<=", REL],
  ">": [">", REL],
  ">=": [">=", REL],
};

const BIT_FUNCTIONS: Partial<Record<BinaryOp, string>> = {
  "&": "mysql_bitand",
  "|": "mysql_bitor",
  "^": "mysql_bitxor",
  "<<": "mysql_shl",
  ">>": "mysql_shr",
};

const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;

/** How the operands of one MySQL comparison are printed. */
interface Pair {
  /** Compare as numbers: the string side is CAST to NUMERIC (MySQL compares text with a number numerically). */
  castL: boolean;
  castR: boolean;
  /** Compare text by the collation: both operands' keys. */
  collate: boolean;
}

const isString = (k: ValueKind): boolean => k === "text" || k === "binary";
const flag = (b: boolean): string => (b ? "1" : "0");

class Printer implements ArgPrinter {
  private readonly table: (t: TableRef) => string;
  private readonly isText: (c: ColumnRef) => boolean;
  private readonly rowOrder: Expr | null;
  private readonly columnType: (c: ColumnRef) => MysqlType | null;

  constructor(o: SqlitePrintOptions) {
    this.rowOrder = o.rowOrder ?? null;
    this.columnType = o.columnType ?? (() => null);
    this.table = o.table ?? ((t) => `${quoteIdent(t.name)}${t.alias === null ? "" : ` AS ${quoteIdent(t.alias)}`}`);
    this.isText = o.isText ?? (() => false);
  }

  // --- ArgPrinter -----------------------------------------------------------------------------

  sql(e: Expr): string {
    return this.expr(e).sql;
  }

  tight(e: Expr): string {
    return this.at(e, UNARY);
  }

  kind(e: Expr): ValueKind {
    const k = valueKind(e, this.isText);
    if (k !== "unknown") return k;
    // A numeric column compares with text as a number (SQLite's affinity would not reach through mysql_ci).
    const t = this.mysqlType(e);
    return t !== null && isNumericType(t) ? "number" : k;
  }

  exact(e: Expr): boolean {
    return isExact(e);
  }

  equal(a: Expr, b: Expr): string {
    return this.compare("=", a, b).sql;
  }

  compared(args: Expr[]): string[] {
    const kinds = args.map((a) => this.kind(a));
    if (kinds.includes("number") && kinds.some(isString)) {
      return args.map((a, i) => (isString(kinds[i]!) ? this.numeric(a) : this.sql(a)));
    }
    // SQLite's multi-argument max() and min() use the first collation among their arguments.
    if (kinds.includes("text")) return args.map((a, i) => (i === 0 ? this.nocase(a) : this.sql(a)));
    return args.map((a) => this.sql(a));
  }

  collated(e: Expr): string {
    return this.kind(e) === "text" ? this.key(e) : this.sql(e);
  }

  extreme(which: "min" | "max", e: Expr): string {
    if (this.kind(e) !== "text") return `${which}(${this.sql(e)})`;
    return `mysql_${which}_ci(${this.sql(e)}, ${this.order()})`;
  }

  mysqlType(e: Expr): MysqlType | null {
    return mysqlType(e, this.columnType);
  }

  text(e: Expr): string {
    const t = this.mysqlType(e);
    if (t === null || !isNumericType(t) || isIntegerType(t)) return this.tight(e);
    return `mysql_char(${this.sql(e)}, ${t.decimals}, ${flag(t.type === T.NEWDECIMAL)})`;
  }

  extremeOrder(which: "min" | "max", e: Expr): string {
    return `mysql_${which}_ci_ord(${this.sql(e)}, ${this.order()})`;
  }

  // --- helpers --------------------------------------------------------------------------------

  /** `e`, parenthesized if its operator binds more loosely than `min`. */
  private at(e: Expr, min: number): string {
    const o = this.expr(e);
    return o.level < min ? `(${o.sql})` : o.sql;
  }

  /** SQLite's ASCII-only case folding: GREATEST / LEAST, whose result is one of the values. */
  private nocase(e: Expr): string {
    return `${this.at(e, COLLATE)} COLLATE NOCASE`;
  }

  /** The collation key of `e` (utf8mb4_general_ci). */
  private key(e: Expr): string {
    return `mysql_ci(${this.sql(e)})`;
  }

  private order(): string {
    return this.rowOrder === null ? "NULL" : this.sql(this.rowOrder);
  }

  private numeric(e: Expr): string {
    return `CAST(${this.sql(e)} AS NUMERIC)`;
  }

  /** MySQL's comparison rules for `l` against `r`. */
  private pair(l: Expr, r: Expr): Pair {
    const kl = this.kind(l);
    const kr = this.kind(r);
    const hex = l.kind === "hex" && isString(kr) ? l : r.kind === "hex" && isString(kl) ? r : null;
    if (hex !== null) throw unsupported("a hexadecimal literal compared with a string", hex.pos);
    if (isString(kl) && kr === "number") return { castL: true, castR: false, collate: false };
    if (kl === "number" && isString(kr)) return { castL: false, castR: true, collate: false };
    const collate = (kl === "text" && kr !== "binary") || (kr === "text" && kl !== "binary");
    return { castL: false, castR: false, collate };
  }

  /** An operand of a comparison at level `min`, cast to a number or collated as its pair says. */
  private side(e: Expr, min: number, cast: boolean, collate: boolean): string {
    if (cast) return this.numeric(e);
    if (collate) return this.key(e);
    return this.digitsAsText(e) ? `mysql_num(${this.sql(e)})` : this.at(e, min);
  }

  /**
   * Whether `e` may be a number beyond SQLite's integers carried exactly as text digits (a
   * DECIMAL sum, an unsigned bit result): compared and sorted as the number it is (mysql_num),
   * since SQLite orders any text above every number. `x & k` (k a literal) stays within k.
   */
  private digitsAsText(e: Expr): boolean {
    const t = this.mysqlType(e);
    if (t === null || !(t.type === T.NEWDECIMAL || (t.type === T.LONGLONG && t.unsigned))) return false;
    return !(e.kind === "binary" && e.op === "&" && (e.left.kind === "integer" || e.right.kind === "integer"));
  }

  private compare(op: BinaryOp, l: Expr, r: Expr): Out {
    const [sop, level] = COMPARISONS[op]!;
    const p = this.pair(l, r);
    if (!p.castL && !p.castR && !p.collate && op !== "<=>" && (this.digitsAsText(l) || this.digitsAsText(r))) {
      // Beyond SQLite's integers: compared exactly (mysql_cmp), not as the nearest doubles.
      return out(`mysql_cmp(${this.sql(l)}, ${this.sql(r)}) ${sop} 0`, level);
    }
    return out(
      `${this.side(l, level, p.castL, p.collate)} ${sop} ${this.side(r, level + 1, p.castR, p.collate)}`,
      level,
    );
  }

  // --- expressions ----------------------------------------------------------------------------

  expr(e: Expr): Out {
    switch (e.kind) {
      case "integer": // above 2^63 - 1 (BIGINT UNSIGNED): its digits as text, exact
        return out(
          e.text.length >= 19 && BigInt(e.text) > I64_MAX && BigInt(e.text) <= U64_MAX ? `'${e.text}'` : e.text,
        );
      case "decimal": // SQLite reads `1.`, `.5` and `1e3` too; a decimal is a REAL there
        return out(e.text);
      case "string":
        if (e.value.includes("\0")) throw unsupported("a NUL character in a string literal", e.pos);
        return out(`'${e.value.replaceAll("'", "''")}'`);
      case "hex": {
        const v = BigInt(`0x0${e.digits}`);
        if (v > I64_MAX) throw unsupported(`the hexadecimal literal 0x${e.digits} (above 2^63 - 1)`, e.pos);
        return out(String(v));
      }
      case "null":
        return out("NULL");
      case "boolean":
        return out(e.value ? "1" : "0");
      case "column":
        return out(e.table === null ? quoteIdent(e.name) : `${quoteIdent(e.table)}.${quoteIdent(e.name)}`);
      case "sysvar":
        throw unsupported(`the system variable @@${e.name}`, e.pos);
      case "call":
        return this.call(e);
      case "unary": {
        if (e.op === "NOT") return out(`NOT ${this.at(e.operand, NOT)}`, NOT);
        if (e.op === "+") return this.expr(e.operand);
        if (e.op === "~") return out(`mysql_bitnot(${this.sql(e.operand)})`);
        const operand = this.at(e.operand, UNARY);
        return out(/^[-+]/.test(operand) ? `- ${operand}` : `-${operand}`, UNARY);
      }
      case "binary":
        return this.binary(e);
      case "is":
        return this.is(e);
      case "between":
        return this.between(e);
      case "in":
        return this.in(e);
      case "like":
        return this.like(e);
      case "case":
        return this.caseExpr(e);
      case "cast":
        return this.cast(e);
      case "groupConcat":
        return out(this.groupConcat(e));
      case "window":
        return out(this.window(e));
      case "subquery":
        // src/czar/compose/ replaces subqueries by their values before a query is printed.
        throw new QservError("INTERNAL", "a subquery reached the SQLite printer unevaluated");
    }
  }

  /** GROUP_CONCAT as mysql_group_concat (src/sqlite/mysqlAggregates.ts), sort keys collated. */
  private groupConcat(e: GroupConcat): string {
    const keys = e.orderBy.flatMap((o) => [this.collated(o.expr), o.desc ? "1" : "0"]);
    const sep = `'${e.separator.replaceAll("'", "''")}'`;
    const args = [e.distinct ? "1" : "0", sep, String(e.args.length), ...e.args.map((a) => this.sql(a)), ...keys];
    return `mysql_group_concat(${args.join(", ")})`;
  }

  /** A window function: SQLite's own, with text partitioned and ordered by its collation key. */
  private window(e: WindowCall): string {
    const c = e.call;
    const name = c.name.toUpperCase();
    let fn: string;
    if (WINDOW_FUNCTIONS.has(name)) fn = `${name.toLowerCase()}(${c.args.map((a) => this.sql(a)).join(", ")})`;
    else if (["SUM", "AVG", "COUNT", "MIN", "MAX"].includes(name) && !c.distinct) {
      if (c.star) fn = "count(*)";
      else {
        if (c.args.length !== 1) throw wrongArguments(c);
        if ((name === "MIN" || name === "MAX") && this.kind(c.args[0]!) === "text")
          throw unsupported(`${name}() of text as a window function`, c.pos);
        fn = `${name.toLowerCase()}(${this.sql(c.args[0]!)})`;
      }
    } else throw unsupported(`${c.name}() as a window function`, c.pos);
    const parts: string[] = [];
    if (e.partitionBy.length > 0) parts.push(`PARTITION BY ${e.partitionBy.map((p) => this.collated(p)).join(", ")}`);
    if (e.orderBy.length > 0)
      parts.push(`ORDER BY ${e.orderBy.map((o) => `${this.collated(o.expr)}${o.desc ? " DESC" : ""}`).join(", ")}`);
    if (e.frame !== null) parts.push(e.frame);
    return `${fn} OVER (${parts.join(" ")})`;
  }

  private call(e: Call): Out {
    const spec = functionSpec(e.name);
    if (spec === undefined) throw unsupported(`function ${e.name}`, e.pos);
    const [min, max] = spec.arity;
    if (!e.star && (e.args.length < min || e.args.length > max)) throw wrongArguments(e);
    const hex = e.args.slice(0, spec.stringArgs ?? 0).find((a) => a.kind === "hex");
    if (hex !== undefined) throw unsupported(`a hexadecimal literal as a string argument of ${e.name}`, hex.pos);
    return out(spec.print(e.args, this, e));
  }

  private binary(e: Binary): Out {
    const { op, left: l, right: r } = e;
    if (COMPARISONS[op] !== undefined) return this.compare(op, l, r);
    if (op === "&") {
      const fast = this.integerFast(l, r, (x, k) => `${x} & ${k}`) ?? this.integerFast(r, l, (x, k) => `${k} & ${x}`);
      if (fast !== null) return fast;
    }
    const bits = BIT_FUNCTIONS[op];
    if (bits !== undefined) return out(`${bits}(${this.sql(l)}, ${this.sql(r)})`);
    switch (op) {
      case "OR":
      case "AND": {
        const level = op === "OR" ? OR : AND;
        return out(`${this.at(l, level)} ${op} ${this.at(r, level + 1)}`, level);
      }
      case "XOR": // NULL if either side is, else whether exactly one side is true
        return out(`(NOT ${this.at(l, NOT)}) <> (NOT ${this.at(r, NOT)})`, EQ);
      case "+":
      case "-":
        return this.checked(e) ?? out(`${this.at(l, ADD)} ${op} ${this.at(r, ADD + 1)}`, ADD);
      case "*":
        return this.checked(e) ?? out(`${this.at(l, MUL)} * ${this.at(r, MUL + 1)}`, MUL);
      case "/": {
        const exact = this.exactDivision(e);
        if (exact !== null) return out(exact);
        // SQLite divides two integers as integers; a real operand makes it real division.
        const real = l.kind === "decimal" || r.kind === "decimal";
        const left = real ? this.at(l, MUL) : `CAST(${this.sql(l)} AS REAL)`;
        return out(`${left} / ${this.at(r, MUL + 1)}`, MUL);
      }
      case "DIV": // integers divide truncating toward zero; reals are truncated after dividing
        return out(`CAST(${this.at(l, MUL)} / ${this.at(r, MUL + 1)} AS INTEGER)`);
      case "MOD": {
        const slow = `mysql_mod(${this.sql(l)}, ${this.sql(r)}, ${flag(this.exact(l) && this.exact(r))})`;
        return this.integerFast(l, r, (x, k) => `${x} % ${k}`, slow) ?? out(slow);
      }
      default:
        throw new QservError("INTERNAL", `no SQLite form for operator ${op}`);
    }
  }

  /**
   * BIGINT `+ - *` as MySQL computes them: exact, unsigned where an operand is, else the
   * out-of-range error (SQLite would carry on in doubles). Operands of 32 bits or less cannot
   * overflow: SQLite's own operators.
   */
  private checked(e: Binary): Out | null {
    const [a, b] = [this.mysqlType(e.left), this.mysqlType(e.right)];
    if (a === null || b === null) return null;
    const wide = (t: MysqlType) => t.type === T.LONGLONG || t.unsigned;
    if (!wide(a) && !wide(b)) return null;
    const decimal = (t: MysqlType) => t.type === T.NEWDECIMAL;
    if ((decimal(a) && isIntegerType(b)) || (isIntegerType(a) && decimal(b))) {
      // A 64-bit integer with a DECIMAL: exact (a double holds 53 bits).
      return out(`mysql_decimal_op(${this.sql(e.left)}, ${this.sql(e.right)}, '${e.op}')`);
    }
    if (!isIntegerType(a) || !isIntegerType(b)) return null;
    const fn = e.op === "+" ? "mysql_add" : e.op === "-" ? "mysql_sub" : "mysql_mul";
    const what = errorText(e).replaceAll("'", "''");
    return out(`${fn}(${this.sql(e.left)}, ${this.sql(e.right)}, ${flag(a.unsigned || b.unsigned)}, '${what}')`);
  }

  /** `/` of exact values with a 64-bit integer (beyond a double's 53 bits): MySQL's exact DECIMAL. */
  private exactDivision(e: Binary): string | null {
    const [a, b] = [this.mysqlType(e.left), this.mysqlType(e.right)];
    const exact = (t: MysqlType | null) => t !== null && (isIntegerType(t) || t.type === T.NEWDECIMAL);
    const wide = (t: MysqlType | null) => t !== null && t.type === T.LONGLONG;
    if (!exact(a) || !exact(b) || !(wide(a) || wide(b))) return null;
    // MySQL shows the type's scale but computes in whole 9-digit words: 1/3*3 is 0.999999999.
    const scale = Math.ceil((this.mysqlType(e)?.decimals ?? 4) / 9) * 9;
    return `mysql_div(${this.sql(e.left)}, ${this.sql(e.right)}, ${scale})`;
  }

  /**
   * For `column op k`, k a positive integer literal: SQLite's own operator where the column
   * holds an integer (there it agrees with MySQL's & and MOD), the MySQL function otherwise.
   */
  private integerFast(x: Expr, k: Expr, native: (x: string, k: string) => string, slow?: string): Out | null {
    if (x.kind !== "column" || k.kind !== "integer" || /^0+$/.test(k.text) || BigInt(k.text) > I64_MAX) return null;
    const col = this.sql(x);
    const fallback = slow ?? `mysql_bitand(${col}, ${k.text})`;
    return out(`CASE WHEN typeof(${col}) = 'integer' THEN ${native(col, k.text)} ELSE ${fallback} END`);
  }

  private is(e: Is): Out {
    if (e.what === "NULL" || e.what === "UNKNOWN") {
      return out(`${this.at(e.expr, EQ + 1)} IS ${e.not ? "NOT " : ""}NULL`, EQ);
    }
    // CASE rather than SQLite's IS TRUE, which a column named "true" would capture.
    const test = e.what === "TRUE" ? this.sql(e.expr) : `NOT ${this.at(e.expr, NOT)}`;
    return out(`CASE WHEN ${test} THEN ${e.not ? "0 ELSE 1" : "1 ELSE 0"} END`);
  }

  private between(e: Between): Out {
    const lo = this.pair(e.expr, e.low);
    const hi = this.pair(e.expr, e.high);
    if (lo.castL !== hi.castL) {
      const both = `${this.compare(">=", e.expr, e.low).sql} AND ${this.compare("<=", e.expr, e.high).sql}`;
      return e.not ? out(`NOT (${both})`, NOT) : out(both, AND);
    }
    const collate = lo.collate || hi.collate;
    const x = this.side(e.expr, EQ + 1, lo.castL, collate);
    const bounds = `${this.side(e.low, EQ + 1, lo.castR, collate)} AND ${this.side(e.high, EQ + 1, hi.castR, collate)}`;
    return out(`${x} ${e.not ? "NOT " : ""}BETWEEN ${bounds}`, EQ);
  }

  private in(e: In): Out {
    const pairs = e.list.map((v) => this.pair(e.expr, v));
    const castL = pairs[0]?.castL ?? false;
    if (pairs.some((p) => p.castL !== castL)) {
      // Elements compared differently: one equality each.
      const any = e.list.map((v) => this.compare("=", e.expr, v).sql).join(" OR ");
      return e.not ? out(`NOT (${any})`, NOT) : out(any, OR);
    }
    const collate = pairs.some((p) => p.collate);
    const x = this.side(e.expr, EQ + 1, castL, collate);
    const values = e.list.map((v, i) => this.side(v, 0, pairs[i]!.castR, collate)).join(", ");
    return out(`${x} ${e.not ? "NOT " : ""}IN (${values})`, EQ);
  }

  private like(e: Like): Out {
    const hex = [e.expr, e.pattern].find((x) => x.kind === "hex");
    if (hex !== undefined) throw unsupported("a hexadecimal literal in LIKE", hex.pos);
    // MySQL's default escape is the backslash (also for ESCAPE ''); SQLite has none.
    const esc = e.escape?.kind === "string" && e.escape.value === "" ? null : e.escape;
    const plain = e.pattern.kind === "string" && !e.pattern.value.includes("\\");
    // Letters match by the collation's weights ('é' matches 'E'; SQLite's LIKE folds ASCII only),
    // the escape character too; not where a side is a binary string.
    const fold = this.kind(e.expr) !== "binary" && this.kind(e.pattern) !== "binary";
    const side = (x: Expr) => (fold ? `mysql_fold(${this.sql(x)})` : this.at(x, EQ + 1));
    const escClause = esc !== null ? ` ESCAPE ${side(esc)}` : plain ? "" : ` ESCAPE '\\'`;
    const like = `${e.not ? "NOT " : ""}LIKE`;
    return out(`${side(e.expr)} ${like} ${side(e.pattern)}${escClause}`, EQ);
  }

  private caseExpr(e: Case): Out {
    const otherwise = e.else === null ? "" : ` ELSE ${this.sql(e.else)}`;
    const operand = e.operand;
    if (operand !== null) {
      const pairs = e.whens.map((w) => this.pair(operand, w.condition));
      const castL = pairs[0]?.castL ?? false;
      if (pairs.every((p) => p.castL === castL)) {
        const collate = pairs.some((p) => p.collate);
        const x = this.side(operand, 0, castL, collate);
        const whens = e.whens.map(
          (w, i) => ` WHEN ${this.side(w.condition, 0, pairs[i]!.castR, collate)} THEN ${this.sql(w.result)}`,
        );
        return out(`CASE ${x}${whens.join("")}${otherwise} END`);
      }
    }
    const whens = e.whens.map((w) => {
      const cond = operand === null ? this.sql(w.condition) : this.equal(operand, w.condition);
      return ` WHEN ${cond} THEN ${this.sql(w.result)}`;
    });
    return out(`CASE${whens.join("")}${otherwise} END`);
  }

  private cast(e: Cast): Out {
    const x = this.sql(e.expr);
    const [p1, p2] = e.type.params;
    switch (e.type.name) {
      case "SIGNED":
        return out(`mysql_signed(${x}, ${flag(this.exact(e.expr))})`);
      case "UNSIGNED":
        return out(`mysql_unsigned(${x}, ${flag(this.exact(e.expr))})`);
      case "DECIMAL": {
        const m = p1 ?? 10;
        const d = p2 ?? 0;
        if (m < 1 || m > 65 || d > 30 || d > m) {
          const { line, column } = e.pos;
          throw new QservError("BAD_QUERY", `bad DECIMAL(${m}, ${d}) at line ${line}, column ${column}`, {
            line,
            column,
          });
        }
        return out(`mysql_decimal(${x}, ${m}, ${d})`);
      }
      case "CHAR":
      case "NCHAR": {
        const t = this.text(e.expr);
        const s = t.startsWith("mysql_char(") ? t : `CAST(${x} AS TEXT)`;
        return out(p1 === undefined ? s : `substr(${s}, 1, ${p1})`);
      }
      case "BINARY":
        // A binary string: compared byte by byte (no NOCASE); SQLite TEXT holds the same bytes.
        if (p1 !== undefined) throw unsupported(`CAST AS BINARY(${p1})`, e.pos);
        return out(`CAST(${x} AS TEXT)`);
      case "DOUBLE":
      case "REAL":
        return out(`CAST(${x} AS REAL)`);
      case "FLOAT": // single precision up to FLOAT(24)
        return out(p1 !== undefined && p1 > 24 ? `CAST(${x} AS REAL)` : `mysql_float(${x})`);
      default:
        throw unsupported(`CAST AS ${e.type.name}`, e.pos);
    }
  }

  // --- SELECT ---------------------------------------------------------------------------------

  select(s: Select): string {
    // src/czar/compose/gather.ts writes ROLLUP as a union of groupings before printing.
    if (s.rollup) throw unsupported("WITH ROLLUP here", s.pos);
    s = distinctAsGroupBy(s, this.isText);
    const grouped = s.groupBy.length > 0 || s.items.some((i) => i.kind === "expr" && hasAggregateCall(i.expr));
    const items = s.items.map((i) => this.item(i, grouped ? s.groupBy : null)).join(", ");
    let sql = `SELECT ${s.distinct ? "DISTINCT " : ""}${items}`;
    if (s.from.length > 0) {
      // MySQL's comma binds more loosely than JOIN: keep each joined group together.
      const from = s.from.map((f) => (f.kind === "join" && s.from.length > 1 ? `(${this.from(f)})` : this.from(f)));
      sql += ` FROM ${from.join(", ")}`;
    }
    if (s.where !== null) sql += ` WHERE ${this.sql(s.where)}`;
    if (s.groupBy.length > 0) sql += ` GROUP BY ${s.groupBy.map((g) => this.sortKey(g, s.items)).join(", ")}`;
    if (s.having !== null) sql += ` HAVING ${this.sql(s.having)}`;
    if (s.orderBy.length > 0) {
      const keys = s.orderBy.map((o) => `${this.sortKey(o.expr, s.items)}${o.desc ? " DESC" : ""}`);
      sql += ` ORDER BY ${keys.join(", ")}`;
    }
    if (s.limit !== null) {
      sql += ` LIMIT ${s.limit.count}${s.limit.offset === null ? "" : ` OFFSET ${s.limit.offset}`}`;
    }
    return sql;
  }

  /**
   * A select item; in a grouped SELECT (`groupBy` not null) one that MySQL takes from the
   * group's first row is that row's value (mysql_pick), under its own name.
   */
  private item(i: SelectItem, groupBy: Expr[] | null): string {
    if (i.kind === "allColumns") return i.table === null ? "*" : `${quoteIdent(i.table)}.*`;
    const name = i.alias ?? (i.expr.kind === "column" ? i.expr.name : null);
    const pick = groupBy !== null && showsFirstRow(i.expr, groupBy, this.isText);
    const sql = pick ? `mysql_pick(${this.sql(i.expr)}, ${this.order()})` : this.sql(i.expr);
    return name === null || (i.alias === null && !pick) ? sql : `${sql} AS ${quoteIdent(name)}`;
  }

  /**
   * A GROUP BY or ORDER BY key: text groups and sorts by its collation key. A position (`2`) or a
   * select alias takes the kind of the item it names.
   */
  private sortKey(e: Expr, items: SelectItem[]): string {
    let target = e;
    if (e.kind === "integer") {
      const item = items[Number(e.text) - 1];
      if (item?.kind === "expr") target = item.expr;
    } else if (e.kind === "column" && e.table === null) {
      const item = items.find((i) => i.kind === "expr" && i.alias?.toLowerCase() === e.name.toLowerCase());
      if (item?.kind === "expr") target = item.expr;
    }
    // The item's own expression: a position or an alias inside a function would not name the item.
    if (this.kind(target) === "text") return this.key(target);
    return this.digitsAsText(target) ? `mysql_num(${this.sql(target)})` : this.sql(e);
  }

  private from(f: FromItem): string {
    switch (f.kind) {
      case "table":
        return this.table(f);
      case "derived":
        if (f.select.kind !== "select") throw unsupported("a UNION in FROM", f.pos);
        return `(${this.select(f.select)}) AS ${quoteIdent(f.alias)}`;
      case "join": {
        const right = f.right.kind === "join" ? `(${this.from(f.right)})` : this.from(f.right);
        const type = f.type === "INNER" ? "" : `${f.type} `;
        let sql = `${this.from(f.left)} ${f.natural ? "NATURAL " : ""}${type}JOIN ${right}`;
        if (f.on !== null) sql += ` ON ${this.sql(f.on)}`;
        if (f.using !== null) sql += ` USING (${f.using.map(quoteIdent).join(", ")})`;
        return sql;
      }
    }
  }
}

/** A SELECT as SQLite SQL with MySQL's meaning. Throws QservError UNSUPPORTED for what cannot be translated. */
/** Nodes of an operand printed whole in an error message's text; past them its operands are "...". */
const ERROR_TEXT_NODES = 64;

/**
 * `e` as MySQL's error message shows it, its operands cut to `...` when it is large: every level
 * of a chain `a * b * ...` carries its text, which would otherwise make the SQL quadratic in size.
 */
function errorText(e: Binary): string {
  const big = (root: Expr): boolean => {
    let n = 0;
    const over = (x: Expr): boolean => ++n > ERROR_TEXT_NODES || children(x).some(over);
    return over(root);
  };
  if (!big(e)) return printExpr(e);
  const cut = (x: Expr): Expr => (big(x) ? { kind: "column", db: null, table: null, name: "...", pos: x.pos } : x);
  return printExpr({ ...e, left: cut(e.left), right: cut(e.right) }).replaceAll("`...`", "...");
}

export function printSqlite(s: Select, o: SqlitePrintOptions = {}): string {
  return new Printer(o).select(s);
}

/** An expression as SQLite SQL with MySQL's meaning. */
export function printSqliteExpr(e: Expr, o: SqlitePrintOptions = {}): string {
  return new Printer(o).sql(e);
}
