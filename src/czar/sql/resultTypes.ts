/**
 * The MySQL type of a SELECT item as MySQL derives it (column type code, decimals, unsigned,
 * binary), from the AST and the tables' column types: what a MySQL client is told about a result
 * column, and how its values are printed as text (a DECIMAL's scale, a DOUBLE's fixed decimals).
 * null where it cannot be told; the result column is then typed by its values' storage class.
 */
import type { ColumnRef, Expr } from "./ast.js";
import { memoPerNode } from "./walk.js";

/** MySQL's column type codes (include/mysql_com.h, enum_field_types). */
export const T = {
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  LONGLONG: 8,
  DATE: 10,
  DATETIME: 12,
  INT24: 9,
  NEWDECIMAL: 246,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
} as const;

/** Decimals of a floating-point value printed in its shortest form (NOT_FIXED_DEC). */
export const NOT_FIXED = 31;
/** MySQL's div_precision_increment: digits a division adds to its dividend's scale. */
const DIV_SCALE = 4;

export interface MysqlType {
  type: number;
  decimals: number;
  unsigned: boolean;
  /** A binary string (charset binary), else text (utf8mb4). Numbers: false. */
  binary: boolean;
}

/** Strings carry NOT_FIXED decimals (a DOUBLE made of one prints in full), except CAST AS CHAR's 0. */
const mk = (type: number, decimals?: number, unsigned = false, binary = false): MysqlType => ({
  type,
  decimals: decimals ?? (type === T.VAR_STRING || type === T.STRING || type === T.BLOB ? NOT_FIXED : 0),
  unsigned,
  binary,
});

const INTEGERS = new Set<number>([T.TINY, T.SHORT, T.LONG, T.INT24, T.LONGLONG]);
const isInt = (t: MysqlType) => INTEGERS.has(t.type);
export const isIntegerType = isInt;
/** Integers, DECIMAL and floating point. */
export const isNumericType = (t: MysqlType): boolean => isInt(t) || t.type === T.NEWDECIMAL || isFloat(t);
const isFloat = (t: MysqlType) => t.type === T.DOUBLE || t.type === T.FLOAT;
const isString = (t: MysqlType) => t.type === T.VAR_STRING || t.type === T.STRING || t.type === T.BLOB;

const LONG = mk(T.LONG);
const LONGLONG = mk(T.LONGLONG);
const DOUBLE = mk(T.DOUBLE, NOT_FIXED);
const TEXT = mk(T.VAR_STRING);

/** A column's MySQL type from its declaration in the table config ("bigint(20) NOT NULL", ...). */
export function declaredType(decl: string): MysqlType | null {
  const t = decl.trim().toLowerCase();
  const unsigned = /\bunsigned\b/.test(t);
  const m = /^(\w+)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?/.exec(t);
  if (m === null) return null;
  const [, name, , d] = m;
  switch (name) {
    case "tinyint":
    case "bool":
    case "boolean":
      return mk(T.TINY, 0, unsigned);
    case "smallint":
      return mk(T.SHORT, 0, unsigned);
    case "mediumint":
      return mk(T.INT24, 0, unsigned);
    case "int":
    case "integer":
      return mk(T.LONG, 0, unsigned);
    case "bigint":
      return mk(T.LONGLONG, 0, unsigned);
    case "double":
    case "real":
      return DOUBLE;
    case "float":
      return mk(T.FLOAT, NOT_FIXED);
    case "decimal":
    case "dec":
    case "numeric":
      return mk(T.NEWDECIMAL, Number(d ?? 0));
    case "char":
      return mk(T.STRING);
    case "varchar":
      return TEXT;
    case "binary":
      return mk(T.STRING, 0, false, true);
    case "varbinary":
      return mk(T.VAR_STRING, 0, false, true);
    case "tinytext":
    case "text":
    case "mediumtext":
    case "longtext":
      return mk(T.BLOB);
    case "tinyblob":
    case "blob":
    case "mediumblob":
    case "longblob":
      return mk(T.BLOB, 0, false, true);
    default:
      return null;
  }
}

/** The type of an integer literal's digits: LONG within 32 bits, else LONGLONG (unsigned above 2^63 - 1). */
function integerLiteral(text: string): MysqlType {
  const v = BigInt(text);
  if (v <= 2147483647n) return LONG;
  if (v <= (1n << 63n) - 1n) return LONGLONG;
  return v <= (1n << 64n) - 1n ? mk(T.LONGLONG, 0, true) : mk(T.NEWDECIMAL);
}

/** A numeric operand's type (strings are DOUBLE in arithmetic, NULL counts as an integer). */
function numeric(t: MysqlType): MysqlType {
  if (isString(t)) return mk(T.DOUBLE, t.decimals);
  if (t.type === T.NULL) return LONGLONG;
  return t;
}

/** The type of `+ - *` (and MOD) over `a` and `b`: DOUBLE over DECIMAL over BIGINT. */
function arithmetic(op: string, a: MysqlType, b: MysqlType): MysqlType {
  const x = numeric(a);
  const y = numeric(b);
  if (isFloat(x) || isFloat(y)) {
    const d = op === "*" ? x.decimals + y.decimals : Math.max(x.decimals, y.decimals);
    return mk(T.DOUBLE, Math.min(d, NOT_FIXED));
  }
  if (x.type === T.NEWDECIMAL || y.type === T.NEWDECIMAL) {
    return mk(T.NEWDECIMAL, op === "*" ? Math.min(x.decimals + y.decimals, 30) : Math.max(x.decimals, y.decimals));
  }
  return mk(T.LONGLONG, 0, op !== "MOD" && (x.unsigned || y.unsigned));
}

/** The common type of CASE / COALESCE / IFNULL results. */
function common(ts: Array<MysqlType | null>): MysqlType | null {
  const known = ts.filter((t) => t === null || t.type !== T.NULL);
  if (known.length === 0) return mk(T.NULL);
  if (known.some((t) => t === null)) return null;
  const all = known as MysqlType[];
  if (all.some(isString)) return all.some((t) => t.binary) ? mk(T.VAR_STRING, 0, false, true) : TEXT;
  if (all.some(isFloat)) return DOUBLE;
  if (all.some((t) => t.type === T.NEWDECIMAL)) return mk(T.NEWDECIMAL, Math.max(...all.map((t) => t.decimals)));
  return all.every((t) => t.type === T.LONG) ? LONG : LONGLONG;
}

const STRING_FUNCTIONS = new Set([
  "CONCAT",
  "CONCAT_WS",
  "UPPER",
  "UCASE",
  "LOWER",
  "LCASE",
  "SUBSTR",
  "SUBSTRING",
  "LEFT",
  "RIGHT",
  "TRIM",
  "LTRIM",
  "RTRIM",
  "REPLACE",
  "HEX",
  "REPEAT",
  "SPACE",
  "SUBSTRING_INDEX",
  "LPAD",
  "RPAD",
  "REVERSE",
  "CONV",
  "BIN",
  "OCT",
  "FORMAT",
  "MD5",
  "SHA",
  "SHA1",
  "SHA2",
  "INSERT",
]);
const LONG_FUNCTIONS = new Set([
  "LENGTH",
  "CHAR_LENGTH",
  "CHARACTER_LENGTH",
  "OCTET_LENGTH",
  "LOCATE",
  "INSTR",
  "SIGN",
  "REGEXP_LIKE",
]);
const DOUBLE_FUNCTIONS = new Set([
  "POW",
  "POWER",
  "SQRT",
  "EXP",
  "LN",
  "LOG",
  "LOG10",
  "LOG2",
  "SIN",
  "COS",
  "TAN",
  "ASIN",
  "ACOS",
  "ATAN",
  "ATAN2",
  "COT",
  "DEGREES",
  "RADIANS",
]);

/** The MySQL type of `e`; `column` gives a column's (null: unknown). Remembered per node. */
export const mysqlType: (e: Expr, column: (c: ColumnRef) => MysqlType | null) => MysqlType | null = memoPerNode(typeOf);

function typeOf(e: Expr, column: (c: ColumnRef) => MysqlType | null): MysqlType | null {
  const ty = (x: Expr) => mysqlType(x, column);
  switch (e.kind) {
    case "integer":
      return integerLiteral(e.text);
    case "decimal": {
      if (/e/i.test(e.text)) return DOUBLE;
      return mk(T.NEWDECIMAL, (e.text.split(".")[1] ?? "").length);
    }
    case "string":
      return TEXT;
    case "hex":
      return mk(T.VAR_STRING, 0, false, true);
    case "null":
      return mk(T.NULL);
    case "boolean":
      return LONG;
    case "column":
      return column(e);
    case "sysvar":
      return null;
    case "unary": {
      if (e.op === "NOT") return LONG;
      if (e.op === "~") return mk(T.LONGLONG, 0, true);
      const t = ty(e.operand);
      if (t === null || e.op === "+") return t;
      return t.unsigned ? { ...t, unsigned: false } : isString(t) ? DOUBLE : t;
    }
    case "binary": {
      const [a, b] = [ty(e.left), ty(e.right)];
      switch (e.op) {
        case "+":
        case "-":
        case "*":
        case "MOD":
          return a === null || b === null ? null : arithmetic(e.op, a, b);
        case "/": {
          if (a === null || b === null) return null;
          const [x, y] = [numeric(a), numeric(b)];
          if (isFloat(x) || isFloat(y)) return mk(T.DOUBLE, Math.min(Math.max(x.decimals, y.decimals), NOT_FIXED));
          return mk(T.NEWDECIMAL, Math.min(x.decimals + DIV_SCALE, 30));
        }
        case "DIV":
          return LONGLONG;
        case "&":
        case "|":
        case "^":
        case "<<":
        case ">>":
          return mk(T.LONGLONG, 0, true);
        default:
          return LONG; // comparisons and logical operators
      }
    }
    case "is":
    case "between":
    case "in":
    case "like":
      return LONG;
    case "case":
      return common([...e.whens.map((w) => ty(w.result)), ...(e.else === null ? [] : [ty(e.else)])]);
    case "cast":
      switch (e.type.name) {
        case "SIGNED":
          return LONGLONG;
        case "UNSIGNED":
          return mk(T.LONGLONG, 0, true);
        case "DECIMAL":
          return mk(T.NEWDECIMAL, e.type.params[1] ?? 0);
        case "CHAR":
        case "NCHAR":
          return mk(T.VAR_STRING, 0);
        case "BINARY":
          return mk(T.VAR_STRING, 0, false, true);
        case "DOUBLE":
        case "REAL":
          return DOUBLE;
        default:
          return null;
      }
    case "call":
      return callType(e.name.toUpperCase(), e.args, e.star, ty);
    case "subquery":
      return e.form === "scalar" ? null : LONG;
    case "groupConcat":
      return mk(T.BLOB);
    case "window": {
      const name = e.call.name.toUpperCase();
      if (["ROW_NUMBER", "RANK", "DENSE_RANK", "NTILE"].includes(name)) return LONGLONG;
      if (name === "PERCENT_RANK" || name === "CUME_DIST") return DOUBLE;
      if (["LAG", "LEAD", "FIRST_VALUE", "LAST_VALUE", "NTH_VALUE"].includes(name))
        return e.call.args[0] === undefined ? null : ty(e.call.args[0]);
      return ty(e.call);
    }
  }
}

function callType(name: string, args: Expr[], star: boolean, ty: (e: Expr) => MysqlType | null): MysqlType | null {
  const a = args[0] === undefined ? null : ty(args[0]);
  if (STRING_FUNCTIONS.has(name)) return TEXT;
  if (LONG_FUNCTIONS.has(name)) return LONG;
  if (DOUBLE_FUNCTIONS.has(name) || name.startsWith("SCISQL_")) return DOUBLE;
  switch (name) {
    case "COUNT":
      return star || args.length > 0 ? LONGLONG : null;
    case "PI":
      return mk(T.DOUBLE, 6);
    case "SUM":
    case "AVG": {
      if (a === null) return null;
      const x = numeric(a);
      if (isFloat(x)) return x.decimals < NOT_FIXED && name === "SUM" ? x : DOUBLE;
      return mk(T.NEWDECIMAL, Math.min(x.decimals + (name === "AVG" ? DIV_SCALE : 0), 30));
    }
    case "MIN":
    case "MAX":
    case "ABS":
      return a;
    case "MOD": {
      const b = args[1] === undefined ? null : ty(args[1]);
      return a === null || b === null ? null : arithmetic("MOD", a, b);
    }
    case "STD":
    case "STDDEV":
    case "STDDEV_POP":
    case "STDDEV_SAMP":
    case "VARIANCE":
    case "VAR_POP":
    case "VAR_SAMP":
      // MariaDB shows the argument's decimals + 4 (a DOUBLE argument: all digits).
      return a === null ? null : mk(T.DOUBLE, Math.min(numeric(a).decimals + DIV_SCALE, NOT_FIXED));
    case "BIT_AND":
    case "BIT_OR":
    case "BIT_XOR":
      return mk(T.LONGLONG, 0, true);
    case "BIT_COUNT":
    case "ORD":
    case "TO_DAYS":
    case "ASCII":
    case "FIELD":
    case "FIND_IN_SET":
    case "DAYOFWEEK":
    case "WEEKDAY":
    case "QUARTER":
    case "YEAR":
    case "MONTH":
    case "DAY":
    case "DAYOFMONTH":
    case "DAYOFYEAR":
    case "HOUR":
    case "MINUTE":
    case "SECOND":
    case "DATEDIFF":
      return LONG;
    case "UNIX_TIMESTAMP":
      return LONGLONG;
    case "DATE":
    case "LAST_DAY":
      return mk(T.DATE);
    case "ELT":
      return TEXT;
    case "DATE_FORMAT":
      return TEXT;
    case "FROM_UNIXTIME": {
      if (args.length === 2) return TEXT;
      const x = args[0];
      const literal = x?.kind === "decimal" ? x.text : null;
      const d = literal === null || /e/i.test(literal) ? 0 : Math.min(6, (literal.split(".")[1] ?? "").length);
      return a !== null && isFloat(a) && literal === null ? mk(T.DATETIME, 6) : mk(T.DATETIME, d);
    }
    case "ROUND":
    case "TRUNCATE": {
      if (a === null) return null;
      const d = args[1];
      const scale = d === undefined ? 0 : d.kind === "integer" ? Number(d.text) : null;
      if (isInt(a)) return a.type === T.LONG ? LONG : LONGLONG;
      if (scale === null) return isFloat(numeric(a)) ? DOUBLE : null;
      if (isFloat(numeric(a))) return mk(T.DOUBLE, Math.min(scale, NOT_FIXED));
      return mk(T.NEWDECIMAL, Math.min(scale, 30));
    }
    case "FLOOR":
    case "CEIL":
    case "CEILING": {
      if (a === null) return null;
      if (isFloat(numeric(a))) return mk(T.DOUBLE, 0);
      return a.type === T.NEWDECIMAL ? LONG : a;
    }
    case "IFNULL":
    case "COALESCE":
    case "GREATEST":
    case "LEAST":
      return common(args.map(ty));
    case "NULLIF":
      return a;
    default:
      return null;
  }
}
