import { type ErrorCode, QservError } from "../../common/errors.js";
import type { Pos } from "./ast.js";

/**
 * Token types. Keywords are `ident` tokens (the parser compares them case-insensitively);
 * `qident` is a backquoted identifier, which is never a keyword.
 */
export type TokenType =
  | "ident"
  | "qident"
  | "string"
  | "integer"
  | "decimal"
  | "hex"
  | "op"
  | "uservar"
  | "sysvar"
  | "param"
  | "eof";

export interface Token {
  type: TokenType;
  /** The source text of the token. */
  text: string;
  /** Identifier name, decoded string value, hex digits or operator; else the text. */
  value: string;
  pos: Pos;
  /** Offsets of the token in the source text: [start, end). */
  start: number;
  end: number;
}

/** The error for a problem at `pos`: `<what> at line L, column C near 'tok'[: detail]`. */
export function sqlError(
  what: string,
  pos: Pos,
  token: string,
  detail?: string,
  code: ErrorCode = "SYNTAX_ERROR",
): QservError {
  const near = token === "" ? "at end of input" : `near '${token.length > 40 ? `${token.slice(0, 40)}...` : token}'`;
  const msg = `${what} at line ${pos.line}, column ${pos.column} ${near}${detail === undefined ? "" : `: ${detail}`}`;
  return new QservError(code, msg, { line: pos.line, column: pos.column, token });
}

// Longest first, so that `<=>` wins over `<=` and `<`.
const OPERATORS = [
  "<=>",
  "<=",
  ">=",
  "<>",
  "!=",
  "<<",
  ">>",
  "&&",
  "||",
  ":=",
  "=",
  "<",
  ">",
  "!",
  "~",
  "+",
  "-",
  "*",
  "/",
  "%",
  "&",
  "|",
  "^",
  "(",
  ")",
  ",",
  ".",
  ";",
];

const STRING_ESCAPES: Record<string, string> = {
  "0": "\0",
  b: "\b",
  n: "\n",
  r: "\r",
  t: "\t",
  Z: "\x1a",
  "%": "\\%", // kept with the backslash, for LIKE patterns
  _: "\\_",
};

function isIdentChar(c: string | undefined): boolean {
  return c !== undefined && (/[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) >= 0x80);
}

const NUMBER = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const IDENT = /[A-Za-z0-9_$\u0080-\uffff]+/y;
const HEX = /0x[0-9A-Fa-f]+/y;

/** The SQL dialect of a text: MySQL, or IVOA ADQL (where `"x"` is an identifier and `\\` no escape). */
export type Dialect = "mysql" | "adql";

/** Splits SQL text into tokens, skipping whitespace and comments; the last token is `eof`. */
export function tokenize(text: string, dialect: Dialect = "mysql"): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const posAt = (at: number): Pos => ({ line, column: at - lineStart + 1 });
  // Advances to `to`, counting newlines.
  const skipTo = (to: number): void => {
    for (; i < to; i++) {
      if (text[i] === "\n") {
        line++;
        lineStart = i + 1;
      }
    }
  };
  const match = (re: RegExp): string | null => {
    re.lastIndex = i;
    const m = re.exec(text);
    return m === null ? null : m[0];
  };

  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (/\s/.test(c)) {
      skipTo(i + 1);
      continue;
    }
    // MySQL: `--` starts a comment only when followed by whitespace or a control character;
    // here also at the start of a line (the itest files have `--- text` lines).
    const dashes = c === "-" && next === "-";
    if (
      c === "#" ||
      (dashes && (i + 2 >= text.length || text.charCodeAt(i + 2) <= 32 || /^\s*$/.test(text.slice(lineStart, i))))
    ) {
      const end = text.indexOf("\n", i);
      skipTo(end < 0 ? text.length : end);
      continue;
    }
    const pos = posAt(i);
    if (c === "/" && next === "*") {
      if (text[i + 2] === "!") {
        throw sqlError("MySQL executable comments /*! ... */ are not supported", pos, text.slice(i, i + 3));
      }
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw sqlError("unterminated comment", pos, text.slice(i, i + 2));
      skipTo(end + 2);
      continue;
    }
    const start = i;
    const push = (type: TokenType, value: string, end: number): void => {
      tokens.push({ type, text: text.slice(start, end), value, pos, start, end });
      skipTo(end);
    };

    if (dialect === "adql" && c === '"') {
      const [name, end] = scanString(text, i, pos, false); // a delimited identifier
      if (name === "") throw sqlError("syntax error", pos, '""', "empty identifier");
      push("qident", name, end);
    } else if (c === "'" || c === '"') {
      const [value, end] = scanString(text, i, pos, dialect === "mysql");
      push("string", value, end);
    } else if (c === "`" && dialect === "mysql") {
      let name = "";
      let j = i + 1;
      for (;;) {
        const k = text.indexOf("`", j);
        if (k < 0) throw sqlError("unterminated quoted identifier", pos, text.slice(i, i + 20));
        name += text.slice(j, k);
        if (text[k + 1] !== "`") {
          j = k + 1;
          break;
        }
        name += "`";
        j = k + 2;
      }
      if (name === "") throw sqlError("syntax error", pos, "``", "empty identifier");
      push("qident", name, j);
    } else if ((c === "n" || c === "N") && next === "'") {
      const [value, end] = scanString(text, i + 1, pos); // national string: N'...'
      push("string", value, end);
    } else if ((c === "b" || c === "B") && next === "'") {
      throw sqlError("bit-value literals are not supported", pos, text.slice(i, i + 2));
    } else if ((c === "x" || c === "X") && next === "'") {
      const end = text.indexOf("'", i + 2);
      const digits = end < 0 ? "" : text.slice(i + 2, end);
      if (end < 0 || !/^[0-9A-Fa-f]*$/.test(digits) || digits.length % 2 !== 0) {
        throw sqlError("bad hexadecimal literal", pos, text.slice(i, end < 0 ? i + 2 : end + 1));
      }
      push("hex", digits, end + 1);
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(next ?? ""))) {
      const hex = match(HEX);
      const num = match(NUMBER)!;
      const word = match(IDENT);
      if (hex !== null && !isIdentChar(text[i + hex.length])) {
        push("hex", hex.slice(2), i + hex.length);
      } else if (word !== null && word.length > num.length && !num.includes(".") && !/^\d+$/.test(word)) {
        push("ident", word, i + word.length); // MySQL identifiers may start with digits: `1abc`
      } else if (/^\d+$/.test(num)) {
        push("integer", num, i + num.length);
      } else {
        push("decimal", num, i + num.length);
      }
    } else if (isIdentChar(c)) {
      const word = match(IDENT)!;
      push("ident", word, i + word.length);
    } else if (c === "@") {
      const sys = next === "@";
      const from = i + (sys ? 2 : 1);
      IDENT.lastIndex = from;
      const name = IDENT.exec(text)?.[0] ?? "";
      push(sys ? "sysvar" : "uservar", name, from + name.length);
    } else if (c === "?" || (c === ":" && isIdentChar(next))) {
      IDENT.lastIndex = i + 1;
      const name = c === "?" ? "" : (IDENT.exec(text)?.[0] ?? "");
      push("param", name, i + 1 + name.length);
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op === undefined) throw sqlError("syntax error", pos, c, "unexpected character");
      push("op", op, i + op.length);
    }
  }
  tokens.push({ type: "eof", text: "", value: "", pos: posAt(i), start: i, end: i });
  return tokens;
}

/** Scans a '..' or ".." string starting at `at` (`\\` escapes when `escapes`); returns its value and the index after it. */
function scanString(text: string, at: number, pos: Pos, escapes = true): [string, number] {
  const quote = text[at]!;
  let value = "";
  let j = at + 1;
  for (;;) {
    const ch = text[j];
    if (ch === undefined) throw sqlError("unterminated string", pos, text.slice(at, at + 20));
    if (ch === "\\" && escapes) {
      const e = text[j + 1];
      if (e === undefined) throw sqlError("unterminated string", pos, text.slice(at, at + 20));
      value += STRING_ESCAPES[e] ?? e;
      j += 2;
    } else if (ch === quote) {
      if (text[j + 1] !== quote) return [value, j + 1];
      value += quote;
      j += 2;
    } else {
      value += ch;
      j++;
    }
  }
}

/**
 * MySQL 8.0 reserved words: a bare identifier may not be one of these (backquote it), and an
 * alias without AS may not be one. Other keywords (COUNT, COMMENT, OFFSET, ...) are identifiers
 * wherever the grammar does not expect them.
 */
export const RESERVED: ReadonlySet<string> = new Set(
  `ACCESSIBLE ADD ALL ALTER ANALYZE AND AS ASC ASENSITIVE BEFORE BETWEEN BIGINT BINARY BLOB BOTH BY
  CALL CASCADE CASE CHANGE CHAR CHARACTER CHECK COLLATE COLUMN CONDITION CONSTRAINT CONTINUE CONVERT
  CREATE CROSS CUBE CUME_DIST CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATABASE
  DATABASES DAY_HOUR DAY_MICROSECOND DAY_MINUTE DAY_SECOND DEC DECIMAL DECLARE DEFAULT DELAYED DELETE
  DENSE_RANK DESC DESCRIBE DETERMINISTIC DISTINCT DISTINCTROW DIV DOUBLE DROP DUAL EACH ELSE ELSEIF
  EMPTY ENCLOSED ESCAPED EXCEPT EXISTS EXIT EXPLAIN FALSE FETCH FIRST_VALUE FLOAT FLOAT4 FLOAT8 FOR
  FORCE FOREIGN FROM FULLTEXT FUNCTION GENERATED GET GRANT GROUP GROUPING GROUPS HAVING HIGH_PRIORITY
  HOUR_MICROSECOND HOUR_MINUTE HOUR_SECOND IF IGNORE IN INDEX INFILE INNER INOUT INSENSITIVE INSERT INT
  INT1 INT2 INT3 INT4 INT8 INTEGER INTERSECT INTERVAL INTO IO_AFTER_GTIDS IO_BEFORE_GTIDS IS ITERATE
  JOIN JSON_TABLE KEY KEYS KILL LAG LAST_VALUE LATERAL LEAD LEADING LEAVE LEFT LIKE LIMIT LINEAR LINES
  LOAD LOCALTIME LOCALTIMESTAMP LOCK LONG LONGBLOB LONGTEXT LOOP LOW_PRIORITY MASTER_BIND
  MASTER_SSL_VERIFY_SERVER_CERT MATCH MAXVALUE MEDIUMBLOB MEDIUMINT MEDIUMTEXT MIDDLEINT
  MINUTE_MICROSECOND MINUTE_SECOND MOD MODIFIES NATURAL NOT NO_WRITE_TO_BINLOG NTH_VALUE NTILE NULL
  NUMERIC OF ON OPTIMIZE OPTIMIZER_COSTS OPTION OPTIONALLY OR ORDER OUT OUTER OUTFILE OVER PARTITION
  PERCENT_RANK PRECISION PRIMARY PROCEDURE PURGE RANGE RANK READ READS READ_WRITE REAL RECURSIVE
  REFERENCES REGEXP RELEASE RENAME REPEAT REPLACE REQUIRE RESIGNAL RESTRICT RETURN REVOKE RIGHT RLIKE
  ROW ROWS ROW_NUMBER SCHEMA SCHEMAS SECOND_MICROSECOND SELECT SENSITIVE SEPARATOR SET SHOW SIGNAL
  SMALLINT SPATIAL SPECIFIC SQL SQLEXCEPTION SQLSTATE SQLWARNING SQL_BIG_RESULT SQL_CALC_FOUND_ROWS
  SQL_SMALL_RESULT SSL STARTING STORED STRAIGHT_JOIN SYSTEM TABLE TERMINATED THEN TINYBLOB TINYINT
  TINYTEXT TO TRAILING TRIGGER TRUE UNDO UNION UNIQUE UNLOCK UNSIGNED UPDATE USAGE USE USING UTC_DATE
  UTC_TIME UTC_TIMESTAMP VALUES VARBINARY VARCHAR VARCHARACTER VARYING VIRTUAL WHEN WHERE WHILE WINDOW
  WITH WRITE XOR YEAR_MONTH ZEROFILL`.split(/\s+/),
);

/**
 * The words ADQL's grammar gives a meaning where an identifier could stand (and LIMIT, refused
 * with a hint); other words (DEC, SIZE, ...) are identifiers there, even where MySQL reserves them.
 */
export const ADQL_RESERVED: ReadonlySet<string> = new Set(
  `ALL AND AS ASC BETWEEN BY CASE CROSS DESC DISTINCT ELSE END EXCEPT EXISTS FROM FULL GROUP HAVING ILIKE IN
  INNER INTERSECT IS JOIN LEFT LIKE LIMIT NATURAL NOT NULL OFFSET ON OR ORDER OUTER RIGHT SELECT THEN TOP UNION
  USING WHEN WHERE WITH`.split(/\s+/),
);
