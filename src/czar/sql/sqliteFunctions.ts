/**
 * The MySQL functions the czar accepts and how each is printed for SQLite with MySQL's meaning.
 * `mysql_*` functions come from src/sqlite/mysqlCompat.ts, `scisql_*` from src/sqlite/scisql.ts.
 */
import { QservError } from "../../common/errors.js";
import { VAR_KINDS } from "../../sqlite/mysqlAggregates.js";
import { SCISQL_FUNCTIONS } from "../../sqlite/scisql.js";
import type { Call, Expr, Pos } from "./ast.js";
import { isIntegerType, type MysqlType, T } from "./resultTypes.js";

/** What a value is, as far as the printer can tell: it decides how MySQL compares it. */
export type ValueKind = "number" | "text" | "binary" | "unknown";

/** What a function's printer needs from the expression printer. */
export interface ArgPrinter {
  /** `e` as a complete SQLite expression. */
  sql(e: Expr): string;
  /** `e` parenthesized unless it is a primary or unary expression. */
  tight(e: Expr): string;
  kind(e: Expr): ValueKind;
  /** Whether MySQL would compute `e` as an exact (integer or DECIMAL) value rather than a DOUBLE. */
  exact(e: Expr): boolean;
  /** `a = b` with MySQL's comparison rules (case-insensitive text, numbers against strings). */
  equal(a: Expr, b: Expr): string;
  /** Arguments compared with each other (GREATEST, LEAST) as MySQL compares them. */
  compared(args: Expr[]): string[];
  /** `e`'s collation key when `e` is text (COUNT DISTINCT), else `e`. */
  collated(e: Expr): string;
  /** MIN or MAX of `e`; of a text, by the collation, the first row's spelling among equals. */
  extreme(which: "min" | "max", e: Expr): string;
  /** The row order of the row whose `e` is MIN or MAX (the merge's tie-break between chunks). */
  extremeOrder(which: "min" | "max", e: Expr): string;
  /** `e`'s MySQL type, where it can be told. */
  mysqlType(e: Expr): MysqlType | null;
  /** `e` as MySQL turns it into text (a DOUBLE or DECIMAL printed as MySQL prints it), tight. */
  text(e: Expr): string;
}

interface FnSpec {
  arity: [number, number];
  aggregate?: boolean;
  /** The result's kind, or the arguments whose common kind it is. */
  kind: ValueKind | ((args: Expr[]) => Expr[]);
  /** Exact when every argument is (ROUND, ABS, ...). */
  exact?: boolean;
  /** How many leading arguments are strings: a hexadecimal literal there is refused. */
  stringArgs?: number;
  print(args: Expr[], p: ArgPrinter, call: Call): string;
}

/** The error for a construct that cannot be translated, at its position. */
export function unsupported(what: string, pos: Pos, verb = "is"): QservError {
  return new QservError("UNSUPPORTED", `${what} ${verb} not supported at line ${pos.line}, column ${pos.column}`, {
    line: pos.line,
    column: pos.column,
  });
}

/** The error for a call with too few or too many arguments. */
export function wrongArguments(c: Call): QservError {
  const { line, column } = c.pos;
  return new QservError("BAD_QUERY", `wrong number of arguments to ${c.name} at line ${line}, column ${column}`, {
    line,
    column,
  });
}

const ALL = Number.POSITIVE_INFINITY;
const list = (args: Expr[], p: ArgPrinter) => args.map((a) => p.sql(a)).join(", ");
const same = (args: Expr[]) => args;
const flag = (b: boolean) => (b ? 1 : 0);

/** A positive integer literal (or zero when `zero`): SQLite's substr() agrees with MySQL for those. */
function plainInt(e: Expr | undefined, zero: boolean): boolean {
  return e?.kind === "integer" && (zero || !/^0+$/.test(e.text)) && e.text.length < 10;
}

function fn(
  name: string,
  arity: [number, number],
  kind: FnSpec["kind"] = "number",
  more: Partial<FnSpec> = {},
): FnSpec {
  return { arity, kind, print: (a, p) => `${name}(${list(a, p)})`, ...more };
}

function math(name: string, n = 1): FnSpec {
  return fn(name, [n, n]);
}

function text(name: string, n: number, stringArgs = n): FnSpec {
  return fn(name, [n, n], "text", { stringArgs });
}

/**
 * SUM / AVG of exact values (integers, DECIMAL) as MySQL's exact DECIMAL: SQLite's sum() where
 * it cannot overflow (integers of 32 bits or less), else mysql_sum; AVG an exact division.
 */
function aggregate(name: "sum" | "avg"): FnSpec {
  return {
    arity: [1, 1],
    aggregate: true,
    kind: "number",
    print: (a, p, c) => {
      const t = p.mysqlType(a[0]!);
      const x = `${c.distinct ? "DISTINCT " : ""}${p.sql(a[0]!)}`;
      if (t === null || !(isIntegerType(t) || t.type === T.NEWDECIMAL)) return `${name}(${x})`;
      const sum = isIntegerType(t) && t.type !== T.LONGLONG && !t.unsigned ? `sum(${x})` : `mysql_sum(${x})`;
      return name === "sum" ? sum : `mysql_div(${sum}, count(${x}), ${Math.min(t.decimals + 4, 30)})`;
    },
  };
}

const FUNCTIONS: Record<string, FnSpec> = {
  POW: math("pow", 2),
  POWER: math("pow", 2),
  SQRT: math("sqrt"),
  EXP: math("exp"),
  LN: math("ln"),
  // MySQL's one-argument LOG is the natural logarithm; LOG(b, x) is SQLite's log(b, x).
  LOG: fn("log", [1, 2], "number", { print: (a, p) => (a.length === 1 ? `ln(${list(a, p)})` : `log(${list(a, p)})`) }),
  LOG10: math("log10"),
  LOG2: math("log2"),
  SIN: math("sin"),
  COS: math("cos"),
  TAN: math("tan"),
  ASIN: math("asin"),
  ACOS: math("acos"),
  ATAN: fn("atan", [1, 2], "number", { print: (a, p) => `${a.length === 1 ? "atan" : "atan2"}(${list(a, p)})` }),
  ATAN2: math("atan2", 2),
  COT: fn("cot", [1, 1], "number", { print: (a, p) => `(1.0 / tan(${list(a, p)}))` }),
  PI: math("pi", 0),
  DEGREES: math("degrees"),
  RADIANS: math("radians"),
  ABS: fn("abs", [1, 1], "number", { exact: true }),
  SIGN: fn("sign", [1, 1], "number", {
    exact: true,
    // SQLite's sign() of a non-numeric text is NULL; MySQL reads the text as a number.
    print: (a, p) => (p.kind(a[0]!) === "number" ? `sign(${p.sql(a[0]!)})` : `sign(CAST(${p.sql(a[0]!)} AS REAL))`),
  }),
  ROUND: fn("mysql_round", [1, 2], "number", {
    exact: true,
    print: (a, p) => `mysql_round(${p.sql(a[0]!)}, ${a[1] === undefined ? "0" : p.sql(a[1])}, ${flag(p.exact(a[0]!))})`,
  }),
  TRUNCATE: fn("mysql_truncate", [2, 2], "number", {
    exact: true,
    print: (a, p) => `mysql_truncate(${list(a, p)}, ${flag(p.exact(a[0]!))})`,
  }),
  FLOOR: fn("floor", [1, 1], "number", { exact: true }),
  CEIL: fn("ceil", [1, 1], "number", { exact: true }),
  CEILING: fn("ceil", [1, 1], "number", { exact: true }),
  MOD: fn("mysql_mod", [2, 2], "number", {
    exact: true,
    print: (a, p) => `mysql_mod(${list(a, p)}, ${flag(a.every((x) => p.exact(x)))})`,
  }),
  GREATEST: fn("max", [2, ALL], same, { exact: true, print: (a, p) => `max(${p.compared(a).join(", ")})` }),
  LEAST: fn("min", [2, ALL], same, { exact: true, print: (a, p) => `min(${p.compared(a).join(", ")})` }),
  IFNULL: fn("ifnull", [2, 2], same, { exact: true }),
  NULLIF: fn("nullif", [2, 2], (a) => a.slice(0, 1), {
    print: (a, p) => `CASE WHEN ${p.equal(a[0]!, a[1]!)} THEN NULL ELSE ${p.sql(a[0]!)} END`,
  }),
  COALESCE: fn("coalesce", [1, ALL], same, {
    exact: true,
    print: (a, p) => `coalesce(${list(a, p)}${a.length === 1 ? ", NULL" : ""})`,
  }),
  IF: fn("if", [3, 3], (a) => a.slice(1), {
    print: (a, p) => `CASE WHEN ${p.sql(a[0]!)} THEN ${p.sql(a[1]!)} ELSE ${p.sql(a[2]!)} END`,
  }),
  // SQLite's || is NULL when either side is, as MySQL's CONCAT; its concat() skips NULLs.
  CONCAT: fn("concat", [1, ALL], "text", {
    stringArgs: ALL,
    print: (a, p) => `(${a.map((x) => p.text(x)).join(" || ")}${a.length === 1 ? " || ''" : ""})`,
  }),
  CONCAT_WS: fn("concat_ws", [2, ALL], "text", { stringArgs: ALL }),
  LENGTH: text("octet_length", 1),
  OCTET_LENGTH: text("octet_length", 1),
  CHAR_LENGTH: text("length", 1),
  CHARACTER_LENGTH: text("length", 1),
  UPPER: text("mysql_upper", 1),
  UCASE: text("mysql_upper", 1),
  LOWER: text("mysql_lower", 1),
  LCASE: text("mysql_lower", 1),
  TRIM: text("trim", 1),
  LTRIM: text("ltrim", 1),
  RTRIM: text("rtrim", 1),
  REPLACE: text("replace", 3),
  HEX: fn("mysql_hex", [1, 1], "text", {
    // A hexadecimal literal is a binary string: its HEX is its digits.
    print: (a, p) => {
      const x = a[0]!;
      if (x.kind !== "hex") return `mysql_hex(${p.sql(x)})`;
      return `'${(x.digits.length % 2 === 0 ? x.digits : `0${x.digits}`).toUpperCase()}'`;
    },
  }),
  UNHEX: fn("mysql_unhex", [1, 1], "binary", { stringArgs: 1 }),
  // MySQL's INSTR and LOCATE are case-insensitive under the default collation.
  INSTR: fn("instr", [2, 2], "number", {
    stringArgs: 2,
    print: (a, p) => `instr(lower(${p.sql(a[0]!)}), lower(${p.sql(a[1]!)}))`,
  }),
  LOCATE: fn("locate", [2, 3], "number", {
    stringArgs: 2,
    print: (a, p) =>
      a.length === 2 ? `instr(lower(${p.sql(a[1]!)}), lower(${p.sql(a[0]!)}))` : `mysql_locate(${list(a, p)})`,
  }),
  SUBSTRING: substring(),
  SUBSTR: substring(),
  MID: substring(),
  LEFT: fn("mysql_left", [2, 2], "text", {
    stringArgs: 1,
    print: (a, p) =>
      plainInt(a[1], true) ? `substr(${p.sql(a[0]!)}, 1, ${p.sql(a[1]!)})` : `mysql_left(${list(a, p)})`,
  }),
  RIGHT: fn("mysql_right", [2, 2], "text", {
    stringArgs: 1,
    print: (a, p) =>
      plainInt(a[1], false) ? `substr(${p.sql(a[0]!)}, -${p.sql(a[1]!)})` : `mysql_right(${list(a, p)})`,
  }),
  SUBSTRING_INDEX: fn("mysql_substring_index", [3, 3], "text", { stringArgs: 2 }),
  LPAD: fn("mysql_lpad", [3, 3], "text", { stringArgs: 1 }),
  RPAD: fn("mysql_rpad", [3, 3], "text", { stringArgs: 1 }),
  REVERSE: fn("mysql_reverse", [1, 1], "text", { stringArgs: 1 }),
  CONV: fn("mysql_conv", [3, 3], "text"),
  BIN: fn("mysql_conv", [1, 1], "text", { print: (a, p) => `mysql_conv(${p.sql(a[0]!)}, 10, 2)` }),
  OCT: fn("mysql_conv", [1, 1], "text", { print: (a, p) => `mysql_conv(${p.sql(a[0]!)}, 10, 8)` }),
  BIT_COUNT: fn("mysql_bit_count", [1, 1], "number", { exact: true }),
  FORMAT: fn("mysql_format", [2, 3], "text", {
    print: (a, p, c) => {
      const locale = a[2];
      if (locale !== undefined && !(locale.kind === "string" && /^en_US$/i.test(locale.value)))
        throw unsupported("FORMAT with a locale other than 'en_US'", c.pos);
      return `mysql_format(${p.sql(a[0]!)}, ${p.sql(a[1]!)}, ${flag(p.exact(a[0]!))})`;
    },
  }),
  FROM_UNIXTIME: fn("mysql_from_unixtime", [1, 2], "text", {
    // Fractional seconds: a DECIMAL literal's digits (none for a DOUBLE literal, as MariaDB);
    // else 6 for a REAL value, 0 for an integer.
    print: (a, p) => {
      const x = a[0]!;
      const literal = x.kind === "decimal" ? x.text : null;
      const d = literal === null ? -1 : /e/i.test(literal) ? 0 : Math.min(6, (literal.split(".")[1] ?? "").length);
      const decimals = d >= 0 ? String(d) : `CASE typeof(${p.sql(x)}) WHEN 'real' THEN 6 ELSE 0 END`;
      return `mysql_from_unixtime(${p.sql(x)}, ${decimals}${a[1] === undefined ? "" : `, ${p.sql(a[1])}`})`;
    },
  }),
  UNIX_TIMESTAMP: fn("mysql_unix_timestamp", [1, 1], "number", { stringArgs: 1 }),
  DATE: fn("mysql_date", [1, 1], "text", { stringArgs: 1 }),
  DATE_FORMAT: fn("mysql_date_format", [2, 2], "text", { stringArgs: 2 }),
  DATEDIFF: fn("mysql_datediff", [2, 2], "number", { stringArgs: 2 }),
  YEAR: fn("mysql_year", [1, 1], "number", { stringArgs: 1 }),
  MONTH: fn("mysql_month", [1, 1], "number", { stringArgs: 1 }),
  DAY: fn("mysql_day", [1, 1], "number", { stringArgs: 1 }),
  DAYOFMONTH: fn("mysql_day", [1, 1], "number", { stringArgs: 1 }),
  DAYOFYEAR: fn("mysql_dayofyear", [1, 1], "number", { stringArgs: 1 }),
  HOUR: fn("mysql_hour", [1, 1], "number", { stringArgs: 1 }),
  MINUTE: fn("mysql_minute", [1, 1], "number", { stringArgs: 1 }),
  SECOND: fn("mysql_second", [1, 1], "number", { stringArgs: 1 }),
  REPEAT: fn("mysql_repeat", [2, 2], "text", { stringArgs: 1 }),
  SPACE: fn("mysql_space", [1, 1], "text"),
  ASCII: fn("mysql_ascii", [1, 1], "number", { stringArgs: 1 }),
  ORD: fn("mysql_ord", [1, 1], "number", { stringArgs: 1 }),
  FIELD: fn("mysql_field", [2, ALL], "number"),
  ELT: fn("mysql_elt", [2, ALL], (a) => a.slice(1)),
  FIND_IN_SET: fn("mysql_find_in_set", [2, 2], "number", { stringArgs: 2 }),
  INSERT: fn("mysql_insert", [4, 4], "text", { stringArgs: 1 }),
  LAST_DAY: fn("mysql_last_day", [1, 1], "text", { stringArgs: 1 }),
  DAYOFWEEK: fn("mysql_dayofweek", [1, 1], "number", { stringArgs: 1 }),
  WEEKDAY: fn("mysql_weekday", [1, 1], "number", { stringArgs: 1 }),
  QUARTER: fn("mysql_quarter", [1, 1], "number", { stringArgs: 1 }),
  TO_DAYS: fn("mysql_to_days", [1, 1], "number", { stringArgs: 1 }),
  REGEXP_LIKE: fn("mysql_regexp", [2, 2], "number", { stringArgs: 2 }),
  MD5: fn("mysql_md5", [1, 1], "text", { stringArgs: 1 }),
  SHA1: fn("mysql_sha1", [1, 1], "text", { stringArgs: 1 }),
  SHA: fn("mysql_sha1", [1, 1], "text", { stringArgs: 1 }),
  SHA2: fn("mysql_sha2", [2, 2], "text", { stringArgs: 1 }),
  COUNT: {
    arity: [0, ALL],
    aggregate: true,
    kind: "number",
    print: (a, p, c) => {
      if (c.star) return "count(*)";
      if (a.length !== 1) {
        // Rows whose every value is non-NULL, distinct as tuples (text by its collation key).
        if (c.distinct && a.length > 1)
          return `count(DISTINCT mysql_row_key(${a.map((x) => p.collated(x)).join(", ")}))`;
        throw wrongArguments(c);
      }
      return c.distinct ? `count(DISTINCT ${p.collated(a[0]!)})` : `count(${p.sql(a[0]!)})`;
    },
  },
  SUM: aggregate("sum"),
  AVG: aggregate("avg"),
  MIN: extreme("min"),
  MAX: extreme("max"),
  // The czar's own, for merging MIN / MAX of text across chunks (plan/split.ts).
  _MQ_MIN: internal("mysql_min_ci", 2, same),
  _MQ_MAX: internal("mysql_max_ci", 2, same),
  _MQ_MIN_ORDER: { ...internal("", 1, "number"), print: (a, p) => p.extremeOrder("min", a[0]!) },
  _MQ_MAX_ORDER: { ...internal("", 1, "number"), print: (a, p) => p.extremeOrder("max", a[0]!) },
  // The czar's own: an exact division at a scale (AVG merged from the chunks' sums and counts).
  _MQ_DIV: fn("mysql_div", [3, 3]),
  STD: variance(VAR_KINDS.STDDEV_POP),
  STDDEV: variance(VAR_KINDS.STDDEV_POP),
  STDDEV_POP: variance(VAR_KINDS.STDDEV_POP),
  STDDEV_SAMP: variance(VAR_KINDS.STDDEV_SAMP),
  VARIANCE: variance(VAR_KINDS.VAR_POP),
  VAR_POP: variance(VAR_KINDS.VAR_POP),
  VAR_SAMP: variance(VAR_KINDS.VAR_SAMP),
  BIT_AND: bits("and"),
  BIT_OR: bits("or"),
  BIT_XOR: bits("xor"),
};

/** A variance-family aggregate (`kind` one of VAR_KINDS): MySQL's recurrence, in mysql_var. */
function variance(kind: number): FnSpec {
  return {
    arity: [1, 1],
    aggregate: true,
    kind: "number",
    print: (a, p, c) => {
      if (c.distinct) throw unsupported(`${c.name}(DISTINCT ...)`, c.pos);
      return `mysql_var(${p.sql(a[0]!)}, ${kind})`;
    },
  };
}

/** BIT_AND / BIT_OR / BIT_XOR as mysql_bit_<op>; `part` prints a chunk's partial. */
function bits(op: "and" | "or" | "xor", part = false): FnSpec {
  return {
    arity: [1, 1],
    aggregate: true,
    kind: "number",
    print: (a, p) => `mysql_bit_${op}${part ? "_part" : ""}(${p.sql(a[0]!)})`,
  };
}

/**
 * The aggregates split.ts writes for a chunk's partial and the czar's merge of the partials; not
 * MySQL's, and named so that no query of a user's calls them by chance.
 */
const PARTIALS: Record<string, FnSpec> = {
  _MQ_VAR_PART: {
    arity: [1, 1],
    aggregate: true,
    kind: "binary",
    print: (a, p) => `mysql_var_part(${p.sql(a[0]!)})`,
  },
  _MQ_VAR_MERGE: { arity: [2, 2], aggregate: true, kind: "number", print: (a, p) => `mysql_var_merge(${list(a, p)})` },
  _MQ_BIT_AND_PART: bits("and", true),
  _MQ_BIT_OR_PART: bits("or", true),
  _MQ_BIT_XOR_PART: bits("xor", true),
};
Object.assign(FUNCTIONS, PARTIALS);

function extreme(which: "min" | "max"): FnSpec {
  return { arity: [1, 1], aggregate: true, kind: same, print: (a, p) => p.extreme(which, a[0]!) };
}

function internal(name: string, n: number, kind: FnSpec["kind"]): FnSpec {
  return { ...fn(name, [n, n], kind), aggregate: true };
}

/** SUBSTRING(s, pos[, len]): SQLite's substr() where pos > 0 and len >= 0 are literals. */
function substring(): FnSpec {
  return fn("mysql_substr", [2, 3], "text", {
    stringArgs: 1,
    print: (a, p) => {
      const native = plainInt(a[1], false) && (a[2] === undefined || plainInt(a[2], true));
      return `${native ? "substr" : "mysql_substr"}(${list(a, p)})`;
    },
  });
}

for (const name of SCISQL_FUNCTIONS) {
  FUNCTIONS[name.toUpperCase()] = { arity: [0, ALL], kind: "number", print: (a, p) => `${name}(${list(a, p)})` };
}

/** The spec of a function by its name as written (any case), or undefined. */
export function functionSpec(name: string): FnSpec | undefined {
  const upper = name.toUpperCase();
  return Object.hasOwn(FUNCTIONS, upper) ? FUNCTIONS[upper] : undefined;
}

/** Whether the czar can run a function of this name (any case). */
export function isKnownFunction(name: string): boolean {
  return functionSpec(name) !== undefined;
}

/** Whether a function of this name (any case) is an aggregate (COUNT, SUM, AVG, MIN, MAX). */
export function isAggregate(name: string): boolean {
  return functionSpec(name)?.aggregate === true;
}
