/**
 * Recursive-descent parser for the MySQL SELECT subset and the session statements the czar
 * accepts. Expression precedence follows MySQL's grammar (sql_yacc.yy): OR/|| < XOR < AND/&& <
 * NOT < comparisons and IS < [NOT] IN/BETWEEN/LIKE < | < & < << >> < + - < * / DIV MOD % < ^ <
 * unary - + ~ ! < primaries.
 */

import { QservError } from "../../common/errors.js";
import { adqlCall, adqlILike } from "./adql.js";
import type {
  BinaryOp,
  Call,
  Case,
  Cast,
  CastType,
  Expr,
  FromItem,
  JoinType,
  Limit,
  OrderItem,
  Query,
  Select,
  SelectItem,
  SetItem,
  ShowFilter,
  Statement,
  UnaryOp,
} from "./ast.js";
import { ADQL_RESERVED, type Dialect, RESERVED, sqlError, type Token, tokenize } from "./lexer.js";
import { checkQueryText, checkTree, DEFAULT_MAX_QUERY_BYTES, MAX_NESTING, tooDeep } from "./limits.js";
import { visit } from "./walk.js";

/**
 * Parses one statement (an optional trailing `;` allowed). Throws QservError on bad input, and
 * TOO_LARGE past the limits of src/czar/sql/limits.ts (text over `maxBytes`, too deep, too big). ADQL
 * (`dialect` "adql") becomes the same AST: TOP and OFFSET a LIMIT, `||` CONCAT, geometry the scisql calls.
 */
export function parseStatement(
  text: string,
  dialect: Dialect = "mysql",
  maxBytes: number = DEFAULT_MAX_QUERY_BYTES,
): Statement {
  checkQueryText(text, maxBytes);
  const p = new Parser(text, dialect);
  const stmt = p.statement();
  p.end();
  checkTree(stmt);
  return stmt;
}

/** Parses one expression alone (the whole text). Throws QservError on bad input. */
export function parseExpression(text: string): Expr {
  const p = new Parser(text);
  const e = p.expr();
  p.end();
  checkTree(e);
  return e;
}

function words(s: string): ReadonlySet<string> {
  return new Set(s.split(" "));
}

const COMPARISONS: Record<string, BinaryOp> = {
  "=": "=",
  "<=>": "<=>",
  "<>": "<>",
  "!=": "<>",
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
};

/** Binary operators of bit_expr, lowest precedence first; keys are op text or keyword. */
const BIT_LEVELS: Record<string, BinaryOp>[] = [
  { "|": "|" },
  { "&": "&" },
  { "<<": "<<", ">>": ">>" },
  { "+": "+", "-": "-" },
  { "*": "*", "/": "/", "%": "MOD", DIV: "DIV", MOD: "MOD" },
  { "^": "^" },
];

const AGGREGATES = words(
  "COUNT SUM AVG MIN MAX GROUP_CONCAT STD STDDEV STDDEV_POP STDDEV_SAMP VARIANCE VAR_POP VAR_SAMP BIT_AND BIT_OR BIT_XOR",
);

/** Reserved words that are also function names when followed by `(`. */
/** Reserved words that shape a statement: where one is misplaced, it is not taken for a column's name. */
const STRUCTURE = words(
  "SELECT FROM WHERE HAVING LIMIT UNION JOIN INNER LEFT RIGHT CROSS NATURAL STRAIGHT_JOIN ON USING AS AND OR XOR NOT IS IN LIKE BETWEEN CASE WHEN THEN ELSE NULL TRUE FALSE DISTINCT DISTINCTROW ALL WITH BY ASC DESC INTO EXISTS DIV MOD REGEXP RLIKE INTERVAL OVER WINDOW PARTITION ROWS RANGE FOR LOCK EXCEPT INTERSECT SET SHOW DESCRIBE EXPLAIN KILL USE VALUES INSERT UPDATE DELETE DROP CREATE ALTER",
);

const RESERVED_FUNCTIONS = words(
  "ROW_NUMBER RANK DENSE_RANK PERCENT_RANK CUME_DIST NTILE LAG LEAD FIRST_VALUE LAST_VALUE NTH_VALUE IF LEFT RIGHT MOD REPLACE INSERT REPEAT CHAR DATABASE SCHEMA CURRENT_USER CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP LOCALTIME LOCALTIMESTAMP UTC_DATE UTC_TIME UTC_TIMESTAMP",
);

/** Functions that MySQL also accepts without parentheses. */
const NILADIC = words(
  "CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER LOCALTIME LOCALTIMESTAMP UTC_DATE UTC_TIME UTC_TIMESTAMP",
);

/** CAST target types; values say how many numeric parameters each may take. */
const CAST_TYPES: Record<string, number> = {
  BINARY: 1,
  CHAR: 1,
  NCHAR: 1,
  DATE: 0,
  DATETIME: 1,
  TIME: 1,
  DECIMAL: 2,
  DOUBLE: 0,
  FLOAT: 1,
  REAL: 0,
  JSON: 0,
  SIGNED: 0,
  UNSIGNED: 0,
  YEAR: 0,
};

/** Functions that exist only as window functions. */
const WINDOW_ONLY = words(
  "ROW_NUMBER RANK DENSE_RANK PERCENT_RANK CUME_DIST NTILE LAG LEAD FIRST_VALUE LAST_VALUE NTH_VALUE",
);

const UNARY_OPS: Record<string, UnaryOp> = { "-": "-", "+": "+", "~": "~", "!": "NOT" };

/** The largest LIMIT MySQL takes (2^64 - 1). */
const MAX_UNSIGNED_BIGINT = 2n ** 64n - 1n;

const IS_WHAT = ["NULL", "TRUE", "FALSE", "UNKNOWN"] as const;

/** `query` with its result columns named `columns` (a WITH query's column list). */
function renamed(query: Query, columns: readonly string[], at: Token): Query {
  if (query.kind === "union") return { ...query, left: renamed(query.left, columns, at) };
  if (query.items.length !== columns.length || query.items.some((it) => it.kind !== "expr")) {
    throw sqlError(
      "In definition of view, derived table or common table expression, SELECT list and column names list have different column counts",
      at.pos,
      at.text,
    );
  }
  return { ...query, items: query.items.map((it, i) => ({ ...it, alias: columns[i]! })) };
}

class Parser {
  private readonly toks: Token[];
  private i = 0;
  /** Levels of recursion under way (MAX_NESTING at most: deeper input is refused, not a stack overflow). */
  private depth = 0;
  /** Common table expressions in scope, by lower-case name. */
  private ctes = new Map<string, Query>();

  constructor(
    private readonly source: string,
    private readonly dialect: Dialect = "mysql",
  ) {
    this.toks = tokenize(source, dialect);
  }

  /** Enters one more level of nesting at the current token; `leave()` when done. */
  private enter(): void {
    if (++this.depth > MAX_NESTING) {
      const t = this.peek();
      throw tooDeep(t.pos, t.text, MAX_NESTING);
    }
  }

  private leave<T>(result: T): T {
    this.depth--;
    return result;
  }

  // --- token helpers --------------------------------------------------------------------------

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.type !== "eof") this.i++;
    return t;
  }

  /** Whether the token `k` ahead is the (unquoted) keyword `word`. */
  private isKw(word: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === "ident" && t.value.toUpperCase() === word;
  }

  private acceptKw(word: string): boolean {
    if (!this.isKw(word)) return false;
    this.i++;
    return true;
  }

  private expectKw(word: string): Token {
    if (!this.isKw(word)) this.fail(word);
    return this.next();
  }

  private isOp(op: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === "op" && t.value === op;
  }

  private acceptOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.i++;
    return true;
  }

  private expectOp(op: string): Token {
    if (!this.isOp(op)) this.fail(`'${op}'`);
    return this.next();
  }

  private fail(expected: string, t: Token = this.peek()): never {
    if (/expression|name|identifier/.test(expected) && t === this.peek() && this.reservedName()) {
      throw sqlError("syntax error", t.pos, t.text, `reserved word, quote it as \`${t.text}\``);
    }
    throw sqlError("syntax error", t.pos, t.text, `expected ${expected}`);
  }

  /**
   * Whether the current token is a reserved word standing where a name would (a column called
   * `dec`, `index`, `order`): not one of the words that shape a statement (FROM, WHERE, ORDER BY, ...).
   */
  private reservedName(): boolean {
    const t = this.peek();
    if (t.type !== "ident" || !this.reserved(t.value.toUpperCase())) return false;
    const word = t.value.toUpperCase();
    if (STRUCTURE.has(word)) return false;
    const next = this.peek(1);
    return !((word === "ORDER" || word === "GROUP") && next.type === "ident" && next.value.toUpperCase() === "BY");
  }

  /** "<what> is|are not supported"; the verb is guessed from a plural `what` unless given. */
  private unsupported(what: string, t: Token = this.peek(), verb = /s$/.test(what) ? "are" : "is"): never {
    throw sqlError(`${what} ${verb} not supported`, t.pos, t.text);
  }

  /** Whether the current token can be an identifier: backquoted, or a non-reserved word. */
  private isIdent(k = 0): boolean {
    const t = this.peek(k);
    return t.type === "qident" || (t.type === "ident" && !this.reserved(t.value.toUpperCase()));
  }

  /** Whether an (upper-case) word is reserved in this dialect. */
  private reserved(word: string): boolean {
    return (this.dialect === "adql" ? ADQL_RESERVED : RESERVED).has(word);
  }

  /** An identifier; after a `.` (`anyWord`) MySQL accepts reserved words too. */
  private ident(what: string, anyWord = false): string {
    const t = this.peek();
    if (this.isIdent() || (anyWord && t.type === "ident")) return this.next().value;
    return this.fail(what);
  }

  /** `name` or `qualifier.name`. */
  private qualifiedName(what: string): [string | null, string] {
    const first = this.ident(what);
    if (!this.acceptOp(".")) return [null, first];
    return [first, this.ident(what, true)];
  }

  /** Requires the end of input, after an optional `;`. */
  end(): void {
    const semi = this.acceptOp(";");
    const t = this.peek();
    if (t.type === "eof") return;
    if (semi) this.unsupported("multiple statements", t);
    if (this.isKw("INTERSECT") || this.isKw("EXCEPT")) this.unsupported(t.value.toUpperCase());
    if (this.isKw("INTO")) this.unsupported("SELECT ... INTO");
    if (this.isKw("FOR") || this.isKw("LOCK")) this.unsupported("locking clauses");
    this.fail("end of statement");
  }

  // --- statements -----------------------------------------------------------------------------

  statement(): Statement {
    const t = this.peek();
    if (this.isOp("(") && (this.isKw("SELECT", 1) || this.isOp("(", 1))) return this.query();
    if (t.type !== "ident") return this.fail("a statement");
    switch (t.value.toUpperCase()) {
      case "SELECT":
        return this.qservResult() ?? this.query();
      case "WITH":
        return this.query();
      case "SUBMIT": {
        this.next();
        if (!this.isKw("SELECT") && !this.isKw("WITH") && !this.isOp("(")) return this.fail("SELECT after SUBMIT");
        return { kind: "submit", query: this.query(), pos: t.pos };
      }
      case "CANCEL":
        this.next();
        return { kind: "cancel", id: this.jobId(), pos: t.pos };
      case "SHOW":
        return this.show();
      case "DESCRIBE":
      case "DESC":
      case "EXPLAIN":
        return this.describe();
      case "KILL": {
        this.next();
        const query = this.acceptKw("QUERY");
        if (!query) this.acceptKw("CONNECTION");
        const n = this.peek();
        if (n.type !== "integer" || !Number.isSafeInteger(Number(n.value))) return this.fail("a process id");
        this.next();
        return { kind: "kill", query, id: Number(n.value), pos: t.pos };
      }
      case "USE":
        this.next();
        return { kind: "use", db: this.ident("a database name"), pos: t.pos };
      case "SET":
        return this.set();
      case "DROP":
        return this.drop();
      default:
        throw sqlError(`unsupported statement ${t.value.toUpperCase()}`, t.pos, t.text);
    }
  }

  /**
   * Qserv's `SELECT * FROM qserv_result(id)`, else null (a plain SELECT); qserv_result used in
   * any other way is refused.
   */
  private qservResult(): Statement | null {
    const at = this.toks.findIndex(
      (x, k) => k >= this.i && x.type === "ident" && x.value.toLowerCase() === "qserv_result",
    );
    if (at < 0 || this.toks[at + 1]?.text !== "(") return null;
    const t = this.peek();
    if (!(this.isOp("*", 1) && this.isKw("FROM", 2) && at === this.i + 3)) {
      this.unsupported("qserv_result(...) other than as SELECT * FROM qserv_result(<id>)", this.toks[at]);
    }
    this.i = at + 2;
    const id = this.jobId();
    this.expectOp(")");
    return { kind: "qservResult", id, pos: t.pos };
  }

  /** An async job's id: digits. */
  private jobId(): string {
    const n = this.peek();
    if (n.type !== "integer") return this.fail("a query id");
    this.next();
    return n.value;
  }

  private show(): Statement {
    const pos = this.next().pos;
    const full = this.acceptKw("FULL");
    const t = this.peek();
    const word = t.type === "ident" ? t.value.toUpperCase() : "";
    if (word === "DATABASES" || word === "SCHEMAS") {
      if (full) this.fail("TABLES, COLUMNS or PROCESSLIST", t);
      this.next();
      return { kind: "showDatabases", filter: this.showFilter(), pos };
    }
    if (word === "TABLES") {
      this.next();
      const db = this.acceptKw("FROM") || this.acceptKw("IN") ? this.ident("a database name") : null;
      return { kind: "showTables", full, db, filter: this.showFilter(), pos };
    }
    if (word === "COLUMNS" || word === "FIELDS") {
      this.next();
      if (!this.acceptKw("FROM") && !this.acceptKw("IN")) this.fail("FROM");
      let [db, table] = this.qualifiedName("a table name");
      if (this.acceptKw("FROM") || this.acceptKw("IN")) db = this.ident("a database name");
      return { kind: "showColumns", full, db, table, filter: this.showFilter(), pos };
    }
    if (word === "PROCESSLIST") {
      this.next();
      return { kind: "showProcesslist", full, pos };
    }
    if (t.type === "eof") this.fail("DATABASES, TABLES, COLUMNS or PROCESSLIST");
    return this.unsupported(`SHOW ${full ? "FULL " : ""}${t.text}`, t, "is");
  }

  /** `DROP TABLE [IF EXISTS] [db.]t [RESTRICT]` or `DROP DATABASE|SCHEMA [IF EXISTS] db`. */
  private drop(): Statement {
    const pos = this.next().pos;
    if (this.isKw("TEMPORARY")) this.unsupported("DROP TEMPORARY TABLE");
    const what = this.peek();
    const word = what.type === "ident" ? what.value.toUpperCase() : "";
    if (word !== "TABLE" && word !== "DATABASE" && word !== "SCHEMA") {
      if (what.type === "eof") this.fail("TABLE or DATABASE");
      return this.unsupported(`DROP ${what.text}`, what, "is");
    }
    this.next();
    let ifExists = false;
    if (this.acceptKw("IF")) {
      this.expectKw("EXISTS");
      ifExists = true;
    }
    if (word !== "TABLE") return { kind: "dropDatabase", db: this.ident("a database name"), ifExists, pos };
    const [db, table] = this.qualifiedName("a table name");
    if (this.isOp(",")) this.unsupported("DROP TABLE of several tables");
    if (this.isKw("CASCADE")) this.unsupported("CASCADE (drop the child tables first)");
    this.acceptKw("RESTRICT");
    return { kind: "dropTable", db, table, ifExists, pos };
  }

  private showFilter(): ShowFilter | null {
    if (this.acceptKw("LIKE")) {
      const t = this.peek();
      if (t.type !== "string") this.fail("a pattern string");
      return { kind: "like", pattern: this.stringValue() };
    }
    if (this.acceptKw("WHERE")) {
      const expr = this.expr();
      visit(expr, (x) => {
        if (x.kind === "subquery") {
          const { line, column } = x.pos;
          throw new QservError(
            "UNSUPPORTED",
            `subqueries in SHOW ... WHERE are not supported at line ${line}, column ${column}`,
            { line, column },
          );
        }
      });
      return { kind: "where", expr };
    }
    return null;
  }

  private describe(): Statement {
    const t = this.next();
    if (this.isKw("SELECT") || this.isKw("FORMAT") || this.isKw("ANALYZE") || this.isKw("FOR")) {
      this.unsupported("EXPLAIN", t);
    }
    const [db, table] = this.qualifiedName("a table name");
    return { kind: "describe", db, table, pos: t.pos };
  }

  private set(): Statement {
    const pos = this.next().pos;
    const items: SetItem[] = [];
    do items.push(this.setItem());
    while (this.acceptOp(","));
    return { kind: "set", items, pos };
  }

  private setItem(): SetItem {
    const t = this.peek();
    if (this.acceptKw("NAMES")) {
      const charset = this.acceptKw("DEFAULT") ? null : this.nameOrString("a character set");
      const collate = charset !== null && this.acceptKw("COLLATE") ? this.nameOrString("a collation") : null;
      return { kind: "names", charset, collate };
    }
    if (t.type === "uservar") this.unsupported("user variables");
    if (this.isKw("TRANSACTION") || this.isKw("CHARACTER") || this.isKw("CHARSET") || this.isKw("PASSWORD")) {
      this.unsupported(`SET ${t.value.toUpperCase()}`);
    }
    let scope: "GLOBAL" | "SESSION" | null = null;
    let name: string;
    if (t.type === "sysvar") {
      const v = this.sysvar();
      scope = v.scope;
      name = v.name;
    } else {
      if (this.acceptKw("GLOBAL")) scope = "GLOBAL";
      else if (this.acceptKw("SESSION") || this.acceptKw("LOCAL")) scope = "SESSION";
      else if (this.isKw("PERSIST") || this.isKw("PERSIST_ONLY")) this.unsupported(`SET ${t.value.toUpperCase()}`);
      name = this.ident("a variable name");
    }
    if (!this.acceptOp("=") && !this.acceptOp(":=")) this.fail("'='");
    const v = this.peek();
    // `SET x = ON` names the value ON; MySQL treats it as the string 'ON'.
    if (this.isKw("ON") && (this.isOp(",", 1) || this.isOp(";", 1) || this.peek(1).type === "eof")) {
      this.next();
      return { kind: "variable", scope, name, value: { kind: "string", value: "ON", pos: v.pos } };
    }
    return { kind: "variable", scope, name, value: this.expr() };
  }

  private nameOrString(what: string): string {
    return this.peek().type === "string" ? this.stringValue() : this.ident(what);
  }

  /** Adjacent string literals concatenate, as in MySQL. */
  private stringValue(): string {
    let s = this.next().value;
    while (this.peek().type === "string") s += this.next().value;
    return s;
  }

  // --- SELECT ---------------------------------------------------------------------------------

  select(): Select {
    const pos = this.expectKw("SELECT").pos;
    let distinct = false;
    for (;;) {
      if (this.acceptKw("DISTINCT") || this.acceptKw("DISTINCTROW")) distinct = true;
      else if (!this.acceptKw("ALL")) break;
    }
    const top = this.dialect === "adql" && this.acceptKw("TOP") ? this.limitNumber() : null;
    const t = this.peek();
    if (t.type === "ident" && /^(HIGH_PRIORITY|STRAIGHT_JOIN|SQL_\w+)$/i.test(t.value)) {
      this.unsupported(`SELECT modifier ${t.value.toUpperCase()}`);
    }
    const items: SelectItem[] = [];
    do items.push(this.selectItem());
    while (this.acceptOp(","));
    if (this.isKw("INTO")) this.unsupported("SELECT ... INTO");
    let from: FromItem[] = [];
    if (this.acceptKw("FROM") && !this.acceptKw("DUAL")) from = this.fromList();
    const where = this.acceptKw("WHERE") ? this.expr() : null;
    let groupBy: Expr[] = [];
    let rollup = false;
    if (this.acceptKw("GROUP")) {
      this.expectKw("BY");
      groupBy = this.exprList();
      if (this.isKw("WITH")) {
        this.next();
        this.expectKw("ROLLUP");
        rollup = true;
      }
    }
    const having = this.acceptKw("HAVING") ? this.expr() : null;
    if (this.isKw("WINDOW")) this.unsupported("named windows");
    const o = this.peek();
    const orderBy = this.orderBy();
    if (rollup && orderBy.length > 0) throw sqlError("Incorrect usage of CUBE/ROLLUP and ORDER BY", o.pos, o.text);
    const limit = this.dialect === "adql" ? this.adqlLimit(top) : this.acceptKw("LIMIT") ? this.limit() : null;
    return { kind: "select", distinct, items, from, where, groupBy, rollup, having, orderBy, limit, pos };
  }

  /** ADQL's `TOP n` and `OFFSET m` as a LIMIT; ADQL has no LIMIT. */
  private adqlLimit(top: number | null): Limit | null {
    if (this.isKw("LIMIT")) this.unsupported("LIMIT in ADQL (use TOP)");
    const offset = this.acceptKw("OFFSET") ? this.limitNumber() : null;
    if (top === null && offset === null) return null;
    return { count: top ?? Number.MAX_SAFE_INTEGER, offset };
  }

  /** `[ORDER BY expr [ASC | DESC], ...]`. */
  private orderBy(): OrderItem[] {
    const orderBy: OrderItem[] = [];
    if (!this.acceptKw("ORDER")) return orderBy;
    this.expectKw("BY");
    do {
      const ipos = this.peek().pos;
      const expr = this.expr();
      const desc = this.acceptKw("DESC");
      if (!desc) this.acceptKw("ASC");
      orderBy.push({ expr, desc, pos: ipos });
    } while (this.acceptOp(","));
    return orderBy;
  }

  /**
   * `[WITH cte, ...] term [UNION [ALL | DISTINCT] term]... [ORDER BY ...] [LIMIT ...]`, a term
   * being a SELECT or a parenthesized query. Common table expressions are inlined where FROM
   * names them, as derived tables.
   */
  query(): Query {
    this.enter();
    return this.leave(this.queryBody());
  }

  private queryBody(): Query {
    const outer = this.ctes;
    if (this.isKw("WITH")) this.withClause();
    try {
      let t = this.queryTerm();
      let q = t.query;
      for (;;) {
        const u = this.peek();
        if (!this.acceptKw("UNION")) break;
        if (!t.parenthesized && q.kind === "select" && (q.orderBy.length > 0 || q.limit !== null)) {
          throw sqlError("Incorrect usage of UNION and ORDER BY or LIMIT", u.pos, u.text);
        }
        const all = this.acceptKw("ALL");
        if (!all) this.acceptKw("DISTINCT");
        t = this.queryTerm();
        q = { kind: "union", left: q, right: t.query, all, orderBy: [], limit: null, pos: u.pos };
      }
      if (q.kind !== "union") return q;
      const last = q.right;
      if (!t.parenthesized && last.kind === "select") {
        // ORDER BY and LIMIT after the last bare SELECT are the union's.
        return { ...q, right: { ...last, orderBy: [], limit: null }, orderBy: last.orderBy, limit: last.limit };
      }
      const orderBy = this.orderBy();
      return { ...q, orderBy, limit: this.acceptKw("LIMIT") ? this.limit() : null };
    } finally {
      this.ctes = outer;
    }
  }

  private queryTerm(): { query: Query; parenthesized: boolean } {
    if (this.isOp("(") && (this.isKw("SELECT", 1) || this.isKw("WITH", 1) || this.isOp("(", 1))) {
      this.next();
      const query = this.query();
      this.expectOp(")");
      return { query, parenthesized: true };
    }
    return { query: this.select(), parenthesized: false };
  }

  /** `WITH name [(columns)] AS (query), ...`: adds the names to the scope of the query that follows. */
  private withClause(): void {
    this.next();
    if (this.isKw("RECURSIVE")) this.unsupported("WITH RECURSIVE");
    const ctes = new Map(this.ctes);
    do {
      const t = this.peek();
      const name = this.ident("a name for the WITH query");
      let columns: string[] | null = null;
      if (this.acceptOp("(")) {
        columns = [this.ident("a column name")];
        while (this.acceptOp(",")) columns.push(this.ident("a column name"));
        this.expectOp(")");
      }
      this.expectKw("AS");
      this.expectOp("(");
      this.ctes = ctes; // a WITH query sees the ones before it
      const query = this.query();
      this.expectOp(")");
      if (ctes.has(name.toLowerCase())) throw sqlError(`Not unique table/alias: '${name}'`, t.pos, t.text);
      ctes.set(name.toLowerCase(), columns === null ? query : renamed(query, columns, t));
    } while (this.acceptOp(","));
    if (!this.isKw("SELECT") && !this.isOp("(")) this.fail("SELECT after WITH", this.peek());
    this.ctes = ctes;
  }

  private limit(): Limit {
    const first = this.limitNumber();
    if (this.acceptOp(",")) return { count: this.limitNumber(), offset: first };
    if (this.acceptKw("OFFSET")) return { count: first, offset: this.limitNumber() };
    return { count: first, offset: null };
  }

  private limitNumber(): number {
    const t = this.peek();
    if (t.type === "param" || t.type === "uservar") this.unsupported("LIMIT parameters");
    if (t.type !== "integer") this.fail("an integer");
    const n = BigInt(this.next().value);
    if (n > MAX_UNSIGNED_BIGINT) this.fail("an integer of at most 18446744073709551615", t);
    // No answer has 2^53 rows: a count or offset past that means "all" or "none", as in MySQL.
    return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
  }

  private selectItem(): SelectItem {
    const t = this.peek();
    if (this.acceptOp("*")) return { kind: "allColumns", db: null, table: null, pos: t.pos };
    // `t.*` or `db.t.*`
    if (this.isIdent() && this.isOp(".", 1)) {
      if (this.isOp("*", 2)) {
        const table = this.next().value;
        this.i += 2;
        return { kind: "allColumns", db: null, table, pos: t.pos };
      }
      if (this.peek(2).type === "ident" || this.peek(2).type === "qident") {
        if (this.isOp(".", 3) && this.isOp("*", 4)) {
          const db = this.next().value;
          this.next();
          const table = this.next().value;
          this.i += 2;
          return { kind: "allColumns", db, table, pos: t.pos };
        }
      }
    }
    const expr = this.expr();
    const text = this.source.slice(t.start, this.toks[this.i - 1]!.end);
    return { kind: "expr", expr, alias: this.alias(), text, pos: t.pos };
  }

  /** `[AS] alias`: an identifier or a string; without AS, not a reserved word. */
  private alias(): string | null {
    if (this.acceptKw("AS")) return this.peek().type === "string" ? this.stringValue() : this.ident("an alias");
    if (this.peek().type === "string") return this.stringValue();
    // MySQL would read `a FULL JOIN b` as `a AS FULL JOIN b`, an inner join: refuse it instead.
    if (this.isKw("FULL") && (this.isKw("JOIN", 1) || this.isKw("OUTER", 1))) this.unsupported("FULL JOIN");
    return this.isIdent() ? this.next().value : null;
  }

  private fromList(): FromItem[] {
    const items = [this.joined()];
    while (this.acceptOp(",")) items.push(this.joined());
    return items;
  }

  /** A table factor followed by any number of JOINs (left-associative). */
  private joined(): FromItem {
    let left = this.tableFactor();
    for (;;) {
      const t = this.peek();
      const natural = this.acceptKw("NATURAL");
      let type: JoinType | null = null;
      if (this.acceptKw("INNER")) type = "INNER";
      else if (!natural && this.acceptKw("CROSS")) type = "CROSS";
      else if (this.acceptKw("LEFT")) type = "LEFT";
      else if (this.acceptKw("RIGHT")) type = "RIGHT";
      else if (this.isKw("STRAIGHT_JOIN")) this.unsupported("STRAIGHT_JOIN");
      else if (this.isKw("FULL")) this.unsupported("FULL JOIN");
      if (type === "LEFT" || type === "RIGHT") this.acceptKw("OUTER");
      if (type === null && !this.isKw("JOIN")) {
        if (natural) this.fail("JOIN");
        return left;
      }
      this.expectKw("JOIN");
      const right = this.tableFactor();
      let on: Expr | null = null;
      let using: string[] | null = null;
      if (!natural && this.acceptKw("ON")) on = this.expr();
      else if (!natural && this.acceptKw("USING")) {
        this.expectOp("(");
        using = [this.ident("a column name")];
        while (this.acceptOp(",")) using.push(this.ident("a column name"));
        this.expectOp(")");
      } else if (!natural && (type === "LEFT" || type === "RIGHT")) this.fail("ON or USING");
      left = { kind: "join", type: type ?? "INNER", natural, left, right, on, using, pos: t.pos };
    }
  }

  private tableFactor(): FromItem {
    const t = this.peek();
    if (this.acceptOp("(")) {
      if (this.isKw("SELECT") || this.isKw("WITH") || (this.isOp("(") && this.isKw("SELECT", 1))) {
        this.i--;
        const select = this.queryTerm().query;
        const a = this.peek();
        const alias = this.alias();
        if (alias === null) throw sqlError("a derived table needs an alias", a.pos, a.text);
        return { kind: "derived", select, alias, pos: t.pos };
      }
      this.enter();
      const inner = this.leave(this.joined());
      this.expectOp(")");
      return inner;
    }
    const [db, name] = this.qualifiedName("a table name");
    const alias = this.alias();
    const cte = db === null ? this.ctes.get(name.toLowerCase()) : undefined;
    if (cte !== undefined) return { kind: "derived", select: cte, alias: alias ?? name, pos: t.pos };
    if (
      (this.isKw("USE") || this.isKw("FORCE") || this.isKw("IGNORE")) &&
      (this.isKw("INDEX", 1) || this.isKw("KEY", 1))
    ) {
      this.unsupported("index hints");
    }
    if (this.isKw("PARTITION")) this.unsupported("PARTITION selection");
    return { kind: "table", db, name, alias, pos: t.pos };
  }

  // --- expressions ----------------------------------------------------------------------------

  expr(): Expr {
    this.enter();
    return this.leave(this.orExpr());
  }

  private orExpr(): Expr {
    let left = this.xor();
    for (;;) {
      const t = this.peek();
      if (!this.acceptKw("OR") && (this.dialect === "adql" || !this.acceptOp("||"))) return left;
      left = { kind: "binary", op: "OR", left, right: this.xor(), pos: t.pos };
    }
  }

  private xor(): Expr {
    let left = this.and();
    for (;;) {
      const t = this.peek();
      if (!this.acceptKw("XOR")) return left;
      left = { kind: "binary", op: "XOR", left, right: this.and(), pos: t.pos };
    }
  }

  private and(): Expr {
    let left = this.not();
    for (;;) {
      const t = this.peek();
      if (!this.acceptKw("AND") && !this.acceptOp("&&")) return left;
      left = { kind: "binary", op: "AND", left, right: this.not(), pos: t.pos };
    }
  }

  private not(): Expr {
    const t = this.peek();
    if (this.acceptKw("NOT")) {
      this.enter();
      return this.leave({ kind: "unary", op: "NOT", operand: this.not(), pos: t.pos });
    }
    return this.boolPrimary();
  }

  /** Comparisons and IS, left-associative; the right operand of a comparison is a predicate. */
  private boolPrimary(): Expr {
    let left = this.predicate();
    for (;;) {
      const t = this.peek();
      const op = t.type === "op" ? COMPARISONS[t.value] : undefined;
      if (op !== undefined) {
        this.next();
        if ((this.isKw("ANY") || this.isKw("SOME") || this.isKw("ALL")) && this.isOp("(", 1))
          this.unsupported("ANY, SOME and ALL subqueries");
        left = { kind: "binary", op, left, right: this.predicate(), pos: t.pos };
      } else if (this.acceptKw("IS")) {
        const not = this.acceptKw("NOT");
        const w = this.peek();
        const what = IS_WHAT.find((x) => w.type === "ident" && w.value.toUpperCase() === x);
        if (what === undefined) return this.fail("NULL, TRUE, FALSE or UNKNOWN");
        this.next();
        left = { kind: "is", not, expr: left, what, pos: t.pos };
      } else {
        return left;
      }
    }
  }

  /** `bit_expr [[NOT] IN (...) | [NOT] BETWEEN .. AND .. | [NOT] LIKE ..]`. */
  private predicate(): Expr {
    const expr = this.bitExpr(0);
    const negated =
      this.isKw("NOT") && ["IN", "BETWEEN", "LIKE", "ILIKE", "REGEXP", "RLIKE"].some((w) => this.isKw(w, 1));
    if (negated) this.next();
    const t = this.peek();
    const word = t.type === "ident" ? t.value.toUpperCase() : "";
    switch (word) {
      case "IN": {
        this.next();
        if (this.isOp("(") && (this.isKw("SELECT", 1) || this.isKw("WITH", 1))) {
          const query = this.queryTerm().query;
          return { kind: "subquery", form: "in", not: negated, expr, query, pos: t.pos };
        }
        this.expectOp("(");
        const list = this.exprList();
        this.expectOp(")");
        return { kind: "in", not: negated, expr, list, pos: t.pos };
      }
      case "BETWEEN": {
        this.next();
        const low = this.bitExpr(0);
        this.expectKw("AND");
        this.enter();
        return this.leave({ kind: "between", not: negated, expr, low, high: this.predicate(), pos: t.pos });
      }
      case "LIKE": {
        this.next();
        const pattern = this.unary();
        const esc = this.acceptKw("ESCAPE") ? this.unary() : null;
        return { kind: "like", not: negated, expr, pattern, escape: esc, pos: t.pos };
      }
      case "REGEXP":
      case "RLIKE": {
        // MySQL 8's function of the same meaning.
        this.next();
        const match: Expr = {
          kind: "call",
          name: "REGEXP_LIKE",
          distinct: false,
          star: false,
          args: [expr, this.bitExpr(0)],
          pos: t.pos,
        };
        return negated ? { kind: "unary", op: "NOT", operand: match, pos: t.pos } : match;
      }
      case "ILIKE":
        if (this.dialect !== "adql") return expr;
        this.next();
        return adqlILike(negated, expr, this.bitExpr(0), t.pos);
      case "SOUNDS":
        if (this.isKw("LIKE", 1)) this.unsupported("SOUNDS LIKE");
        return expr;
      case "MEMBER":
        if (this.isKw("OF", 1)) this.unsupported("MEMBER OF");
        return expr;
      default:
        return expr;
    }
  }

  /** Binary operators of bit_expr by precedence climbing over BIT_LEVELS. */
  private bitExpr(level: number): Expr {
    const ops = BIT_LEVELS[level];
    if (ops === undefined) return this.unary();
    let left = this.bitExpr(level + 1);
    for (;;) {
      const t = this.peek();
      const key = t.type === "op" ? t.value : t.type === "ident" ? t.value.toUpperCase() : "";
      if (key === "||" && this.dialect === "adql" && ops["+"] !== undefined) {
        this.next(); // ADQL's string concatenation, at the level of + and -
        left = {
          kind: "call",
          name: "CONCAT",
          distinct: false,
          star: false,
          args: [left, this.bitExpr(level + 1)],
          pos: t.pos,
        };
        continue;
      }
      const op = Object.hasOwn(ops, key) ? ops[key] : undefined;
      if (op === undefined) return left;
      this.next();
      left = { kind: "binary", op, left, right: this.bitExpr(level + 1), pos: t.pos };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.type === "op" && Object.hasOwn(UNARY_OPS, t.value)) {
      this.next();
      this.enter();
      return this.leave({ kind: "unary", op: UNARY_OPS[t.value]!, operand: this.unary(), pos: t.pos });
    }
    if (this.isKw("BINARY")) {
      // `BINARY x` is CAST(x AS BINARY): compared byte by byte.
      this.next();
      this.enter();
      return this.leave({ kind: "cast", expr: this.unary(), type: { name: "BINARY", params: [] }, pos: t.pos });
    }
    const e = this.primary();
    if (this.isKw("COLLATE")) this.unsupported("COLLATE");
    if (this.isOp("-") && this.isOp(">", 1)) this.unsupported("the JSON operators -> and ->>", this.peek(), "are");
    return e;
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.type) {
      case "integer":
        this.next();
        return { kind: "integer", text: t.value, pos: t.pos };
      case "decimal":
        this.next();
        return { kind: "decimal", text: t.value, pos: t.pos };
      case "hex":
        this.next();
        return { kind: "hex", digits: t.value, pos: t.pos };
      case "string":
        return { kind: "string", value: this.stringValue(), pos: t.pos };
      case "uservar":
        return this.unsupported("user variables");
      case "param":
        return this.unsupported("query parameters");
      case "sysvar":
        return { kind: "sysvar", ...this.sysvar(), pos: t.pos };
      case "op":
        return t.value === "(" ? this.parenthesized() : this.fail("an expression");
      case "qident":
        return this.columnRef();
      case "ident":
        return this.identPrimary(t);
      default:
        return this.fail("an expression");
    }
  }

  private parenthesized(): Expr {
    const t = this.peek();
    if (this.isKw("SELECT", 1) || this.isKw("WITH", 1)) {
      const query = this.queryTerm().query;
      return { kind: "subquery", form: "scalar", not: false, expr: null, query, pos: t.pos };
    }
    this.next();
    const e = this.expr();
    if (this.isOp(",")) this.unsupported("row constructors");
    this.expectOp(")");
    return e;
  }

  /** `@@name`, `@@global.name`, `@@session.name` (`@@local.` is session). */
  private sysvar(): { scope: "GLOBAL" | "SESSION" | null; name: string } {
    const t = this.next();
    if (t.value === "") this.fail("a variable name", t);
    const s = t.value.toUpperCase();
    if ((s === "GLOBAL" || s === "SESSION" || s === "LOCAL") && this.acceptOp(".")) {
      return { scope: s === "GLOBAL" ? "GLOBAL" : "SESSION", name: this.ident("a variable name", true) };
    }
    return { scope: null, name: t.value };
  }

  private identPrimary(t: Token): Expr {
    const word = t.value.toUpperCase();
    const call = this.isOp("(", 1);
    switch (word) {
      case "NULL":
        this.next();
        return { kind: "null", pos: t.pos };
      case "TRUE":
      case "FALSE":
        this.next();
        return { kind: "boolean", value: word === "TRUE", pos: t.pos };
      case "CASE":
        return this.caseExpr();
      case "EXISTS": {
        this.next();
        if (!this.isOp("(") || !(this.isKw("SELECT", 1) || this.isKw("WITH", 1))) this.fail("(SELECT ...)");
        const query = this.queryTerm().query;
        return { kind: "subquery", form: "exists", not: false, expr: null, query, pos: t.pos };
      }
      case "INTERVAL":
        return this.unsupported("INTERVAL expressions");
      case "MATCH":
        return this.unsupported("MATCH ... AGAINST");
      case "ROW":
        if (call) this.unsupported("row constructors");
        break;
      case "CONVERT": {
        // CONVERT(expr, type) is CAST(expr AS type); CONVERT(expr USING charset) is refused.
        this.next();
        this.expectOp("(");
        const expr = this.expr();
        if (this.isKw("USING")) this.unsupported("CONVERT ... USING");
        this.expectOp(",");
        const type = this.castType();
        this.expectOp(")");
        return { kind: "cast", expr, type, pos: t.pos };
      }
    }
    if (word === "CAST" && call) return this.cast();
    if (t.value.startsWith("_") && this.peek(1).type === "string") this.unsupported("character set introducers");
    if (call && (!this.reserved(word) || RESERVED_FUNCTIONS.has(word))) return this.call();
    if (NILADIC.has(word)) {
      this.next();
      return { kind: "call", name: t.value, distinct: false, star: false, args: [], pos: t.pos };
    }
    if (this.reserved(word)) return this.fail("an expression");
    return this.columnRef();
  }

  /** `col`, `t.col` or `db.t.col`. */
  private columnRef(): Expr {
    const pos = this.peek().pos;
    const parts = [this.ident("a column name")];
    while (parts.length < 3 && this.acceptOp(".")) {
      if (this.isOp("*")) this.fail("a column name ('*' is allowed only in the select list)");
      parts.push(this.ident("a column name", true));
    }
    const name = parts.pop()!;
    const table = parts.pop() ?? null;
    const db = parts.pop() ?? null;
    return { kind: "column", db, table, name, pos };
  }

  private call(): Expr {
    const t = this.peek();
    const upper = t.value.toUpperCase();
    if (upper === "GROUP_CONCAT") return this.groupConcat();
    if (upper === "EXTRACT") return this.extract();
    if (upper === "POSITION") return this.position();
    if (upper === "SUBSTRING" || upper === "SUBSTR") return this.substringCall();
    if (upper === "TRIM" && ["LEADING", "TRAILING", "BOTH"].some((w) => this.isKw(w, 2))) {
      this.unsupported("TRIM(LEADING | TRAILING | BOTH ...)", this.peek(2));
    }
    const c = this.plainCall();
    if (this.dialect === "adql" && !this.isKw("OVER")) return adqlCall(c);
    if (this.isKw("OVER")) return this.window(c);
    if (WINDOW_ONLY.has(upper))
      throw sqlError(`window function ${t.value} needs OVER (...)`, this.peek().pos, this.peek().text);
    return c;
  }

  /** `f(...) OVER ([PARTITION BY ...] [ORDER BY ...] [ROWS | RANGE frame])`; named windows are refused. */
  private window(call: Call): Expr {
    const pos = this.next().pos;
    if (!this.isOp("(")) this.unsupported("named windows");
    this.next();
    let partitionBy: Expr[] = [];
    if (this.acceptKw("PARTITION")) {
      this.expectKw("BY");
      partitionBy = this.exprList();
    }
    const orderBy = this.orderBy();
    let frame: string | null = null;
    if (this.isKw("ROWS") || this.isKw("RANGE")) {
      const start = this.peek();
      let depth = 0;
      while (this.peek().type !== "eof" && (depth > 0 || !this.isOp(")"))) {
        if (this.isOp("(")) depth++;
        if (this.isOp(")")) depth--;
        this.next();
      }
      frame = this.source.slice(start.start, this.toks[this.i - 1]!.end);
    }
    this.expectOp(")");
    return { kind: "window", call, partitionBy, orderBy, frame, pos };
  }

  /** `EXTRACT(unit FROM expr)` as the unit's function (`YEAR(expr)`, ...). */
  private extract(): Expr {
    const pos = this.next().pos;
    this.expectOp("(");
    const u = this.peek();
    const unit = u.type === "ident" ? u.value.toUpperCase() : "";
    if (!["YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"].includes(unit))
      this.unsupported(`EXTRACT(${u.text} ...)`);
    this.next();
    this.expectKw("FROM");
    const arg = this.expr();
    this.expectOp(")");
    return { kind: "call", name: unit, distinct: false, star: false, args: [arg], pos };
  }

  /** `POSITION(substr IN str)` as `LOCATE(substr, str)`. */
  private position(): Expr {
    const pos = this.next().pos;
    this.expectOp("(");
    const sub = this.bitExpr(0);
    this.expectKw("IN");
    const str = this.expr();
    this.expectOp(")");
    return { kind: "call", name: "LOCATE", distinct: false, star: false, args: [sub, str], pos };
  }

  /** `SUBSTRING(s, pos[, len])` or `SUBSTRING(s FROM pos [FOR len])`. */
  private substringCall(): Expr {
    const t = this.next();
    this.expectOp("(");
    const args = [this.expr()];
    if (this.acceptKw("FROM")) {
      args.push(this.expr());
      if (this.acceptKw("FOR")) args.push(this.expr());
    } else {
      while (this.acceptOp(",")) args.push(this.expr());
    }
    this.expectOp(")");
    return { kind: "call", name: t.value, distinct: false, star: false, args, pos: t.pos };
  }

  /** `GROUP_CONCAT([DISTINCT] expr, ... [ORDER BY ...] [SEPARATOR 'sep'])`. */
  private groupConcat(): Expr {
    const pos = this.next().pos;
    this.expectOp("(");
    const distinct = this.acceptKw("DISTINCT");
    const args = this.exprList();
    const orderBy = this.orderBy();
    let separator = ",";
    if (this.acceptKw("SEPARATOR")) {
      if (this.peek().type !== "string") this.fail("a separator string");
      separator = this.stringValue();
    }
    this.expectOp(")");
    if (this.isKw("OVER")) this.unsupported("GROUP_CONCAT as a window function");
    return { kind: "groupConcat", distinct, args, orderBy, separator, pos };
  }

  private plainCall(): Call {
    const t = this.next();
    const upper = t.value.toUpperCase();
    this.expectOp("(");
    const star = this.isOp("*");
    if (star) {
      if (upper !== "COUNT") throw sqlError("'*' is allowed only in COUNT(*)", this.peek().pos, "*");
      this.next();
      this.expectOp(")");
      return { kind: "call", name: t.value, distinct: false, star, args: [], pos: t.pos };
    }
    let distinct = false;
    if (this.isKw("DISTINCT") || this.isKw("ALL")) {
      if (!AGGREGATES.has(upper)) this.unsupported(`${this.peek().value.toUpperCase()} in ${t.value}()`);
      distinct = this.next().value.toUpperCase() === "DISTINCT";
    }
    const args = this.isOp(")") && !distinct ? [] : this.exprList();
    this.expectOp(")");
    return { kind: "call", name: t.value, distinct, star, args, pos: t.pos };
  }

  private caseExpr(): Case {
    const pos = this.next().pos;
    const operand = this.isKw("WHEN") ? null : this.expr();
    const whens: Case["whens"] = [];
    do {
      this.expectKw("WHEN");
      const condition = this.expr();
      this.expectKw("THEN");
      whens.push({ condition, result: this.expr() });
    } while (this.isKw("WHEN"));
    const otherwise = this.acceptKw("ELSE") ? this.expr() : null;
    this.expectKw("END");
    return { kind: "case", operand, whens, else: otherwise, pos };
  }

  private cast(): Cast {
    const pos = this.next().pos;
    this.expectOp("(");
    const expr = this.expr();
    this.expectKw("AS");
    const type = this.castType();
    this.expectOp(")");
    return { kind: "cast", expr, type, pos };
  }

  private castType(): CastType {
    const t = this.peek();
    const name = t.type === "ident" ? t.value.toUpperCase() : "";
    const maxParams = CAST_TYPES[name];
    if (maxParams === undefined) return this.fail("a CAST type");
    this.next();
    if (name === "SIGNED" || name === "UNSIGNED") {
      if (!this.acceptKw("INTEGER")) this.acceptKw("INT");
    } else if (name === "DOUBLE") {
      this.acceptKw("PRECISION");
    }
    const params: number[] = [];
    if (maxParams > 0 && this.acceptOp("(")) {
      do {
        const n = this.peek();
        if (n.type !== "integer") this.fail("an integer");
        params.push(Number(this.next().value));
      } while (params.length < maxParams && this.acceptOp(","));
      this.expectOp(")");
    }
    if (this.isKw("CHARACTER") || this.isKw("CHARSET")) this.unsupported("character sets in CAST");
    return { name, params };
  }

  private exprList(): Expr[] {
    const list = [this.expr()];
    while (this.acceptOp(",")) list.push(this.expr());
    return list;
  }
}
