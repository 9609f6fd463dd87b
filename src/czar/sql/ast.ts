/**
 * Typed AST of the MySQL-flavoured SQL subset the czar accepts. Every union is discriminated by
 * `kind`; absent parts are `null` (never missing) and lists are `[]`, so that two ASTs can be
 * compared structurally. `pos` is where the node's defining token starts (a name, keyword or
 * operator), 1-based.
 */

export interface Pos {
  line: number;
  column: number;
}

// --- expressions ------------------------------------------------------------------------------

/** An integer literal, kept as its source digits so that 64-bit ids stay exact. */
export interface IntegerLit {
  kind: "integer";
  text: string;
  pos: Pos;
}

/** A fixed-point or floating-point literal (`1.5`, `.5`, `1.`, `1e-32`), kept as source text. */
export interface DecimalLit {
  kind: "decimal";
  text: string;
  pos: Pos;
}

/** A string literal; `value` has quotes removed and MySQL escapes resolved. */
export interface StringLit {
  kind: "string";
  value: string;
  pos: Pos;
}

/** A hexadecimal literal (`0xA1`, `X'A1'`): `digits` as written, without prefix or quotes. */
export interface HexLit {
  kind: "hex";
  digits: string;
  pos: Pos;
}

export interface NullLit {
  kind: "null";
  pos: Pos;
}

export interface BooleanLit {
  kind: "boolean";
  value: boolean;
  pos: Pos;
}

/** `col`, `t.col` or `db.t.col`; names as spelled (backquotes removed). */
export interface ColumnRef {
  kind: "column";
  db: string | null;
  table: string | null;
  name: string;
  pos: Pos;
}

/** A system variable: `@@name`, `@@session.name`, `@@global.name`. */
export interface SysVar {
  kind: "sysvar";
  scope: "GLOBAL" | "SESSION" | null;
  name: string;
  pos: Pos;
}

/** A function call; `name` as spelled. `star` is COUNT(*) (then `args` is empty). */
export interface Call {
  kind: "call";
  name: string;
  distinct: boolean;
  star: boolean;
  args: Expr[];
  pos: Pos;
}

/** Prefix operators. `!` is parsed as NOT. */
export type UnaryOp = "-" | "+" | "~" | "NOT";

export interface Unary {
  kind: "unary";
  op: UnaryOp;
  operand: Expr;
  pos: Pos;
}

/**
 * Binary operators, with MySQL's synonyms folded: `&&` is AND, `||` is OR (MySQL's default
 * sql_mode), `!=` is `<>`, `%` is MOD.
 */
export type BinaryOp =
  | "OR"
  | "XOR"
  | "AND"
  | "="
  | "<=>"
  | "<>"
  | "<"
  | "<="
  | ">"
  | ">="
  | "|"
  | "&"
  | "<<"
  | ">>"
  | "+"
  | "-"
  | "*"
  | "/"
  | "DIV"
  | "MOD"
  | "^";

export interface Binary {
  kind: "binary";
  op: BinaryOp;
  left: Expr;
  right: Expr;
  pos: Pos;
}

/** `expr IS [NOT] NULL | TRUE | FALSE | UNKNOWN`. */
export interface Is {
  kind: "is";
  not: boolean;
  expr: Expr;
  what: "NULL" | "TRUE" | "FALSE" | "UNKNOWN";
  pos: Pos;
}

export interface Between {
  kind: "between";
  not: boolean;
  expr: Expr;
  low: Expr;
  high: Expr;
  pos: Pos;
}

export interface In {
  kind: "in";
  not: boolean;
  expr: Expr;
  list: Expr[];
  pos: Pos;
}

export interface Like {
  kind: "like";
  not: boolean;
  expr: Expr;
  pattern: Expr;
  escape: Expr | null;
  pos: Pos;
}

/** `WHEN condition THEN result`. */
export interface When {
  condition: Expr;
  result: Expr;
}

/** `CASE [operand] WHEN .. THEN .. [ELSE ..] END`; `operand` is null for the searched form. */
export interface Case {
  kind: "case";
  operand: Expr | null;
  whens: When[];
  else: Expr | null;
  pos: Pos;
}

/** A CAST target type: canonical upper-case name (`SIGNED INTEGER` is `SIGNED`) and its numbers. */
export interface CastType {
  name: string;
  params: number[];
}

export interface Cast {
  kind: "cast";
  expr: Expr;
  type: CastType;
  pos: Pos;
}

/**
 * A subquery in an expression: `(SELECT ...)` (scalar), `[NOT] EXISTS (SELECT ...)` or
 * `expr [NOT] IN (SELECT ...)` (`expr` is the IN operand, else null). The czar evaluates it
 * before the query that holds it (src/czar/compose/).
 */
export interface Subquery {
  kind: "subquery";
  form: "scalar" | "exists" | "in";
  not: boolean;
  expr: Expr | null;
  query: Query;
  pos: Pos;
}

/** `GROUP_CONCAT([DISTINCT] expr, ... [ORDER BY ...] [SEPARATOR 'sep'])`: an aggregate. */
export interface GroupConcat {
  kind: "groupConcat";
  distinct: boolean;
  args: Expr[];
  orderBy: OrderItem[];
  separator: string;
  pos: Pos;
}

/** A window function: `call OVER ([PARTITION BY ...] [ORDER BY ...] [frame])`; `frame` as written. */
export interface WindowCall {
  kind: "window";
  call: Call;
  partitionBy: Expr[];
  orderBy: OrderItem[];
  frame: string | null;
  pos: Pos;
}

export type Expr =
  | Subquery
  | GroupConcat
  | WindowCall
  | IntegerLit
  | DecimalLit
  | StringLit
  | HexLit
  | NullLit
  | BooleanLit
  | ColumnRef
  | SysVar
  | Call
  | Unary
  | Binary
  | Is
  | Between
  | In
  | Like
  | Case
  | Cast;

// --- SELECT -----------------------------------------------------------------------------------

/** `expr [AS alias]`. */
export interface ExprItem {
  kind: "expr";
  expr: Expr;
  alias: string | null;
  /** The expression's source text: MySQL's name for an unaliased result column. */
  text: string;
  pos: Pos;
}

/**
 * The result column's name as MySQL gives it: the alias, a column's name, a string literal's
 * value, `@@scope.name` for a system variable, else the expression's source text.
 */
export function itemName(it: ExprItem): string {
  if (it.alias !== null) return it.alias;
  let e = it.expr;
  // MySQL's parser drops a unary plus: `+vMag` is named `vMag`, `+1` is `1` (but `+-x` is `+-x`).
  while (e.kind === "unary" && e.op === "+") e = e.operand;
  if (e !== it.expr && (e.kind === "integer" || e.kind === "decimal")) return e.text;
  if (e.kind === "column") return e.name;
  if (e.kind === "string") return e.value;
  if (e.kind === "sysvar") return `@@${e.scope === null ? "" : `${e.scope.toLowerCase()}.`}${e.name}`;
  return it.text;
}

/** `*`, `t.*` or `db.t.*`. */
export interface AllColumns {
  kind: "allColumns";
  db: string | null;
  table: string | null;
  pos: Pos;
}

export type SelectItem = ExprItem | AllColumns;

/** A named table: `[db.]name [[AS] alias]`. */
export interface TableRef {
  kind: "table";
  db: string | null;
  name: string;
  alias: string | null;
  pos: Pos;
}

/** A subquery in FROM: `(SELECT ...) [AS] alias`, or a common table expression named in FROM. */
export interface DerivedTable {
  kind: "derived";
  select: Query;
  alias: string;
  pos: Pos;
}

export type JoinType = "INNER" | "CROSS" | "LEFT" | "RIGHT";

/**
 * `left [NATURAL] type JOIN right [ON on | USING (using)]`; a NATURAL join has neither `on`
 * nor `using`. Plain `JOIN` is INNER.
 */
export interface Join {
  kind: "join";
  type: JoinType;
  natural: boolean;
  left: FromItem;
  right: FromItem;
  on: Expr | null;
  using: string[] | null;
  pos: Pos;
}

export type FromItem = TableRef | DerivedTable | Join;

export interface OrderItem {
  expr: Expr;
  desc: boolean;
  pos: Pos;
}

/** `LIMIT count [OFFSET offset]` (also written `LIMIT offset, count`). */
export interface Limit {
  count: number;
  offset: number | null;
}

export interface Select {
  kind: "select";
  distinct: boolean;
  items: SelectItem[];
  /** The comma-separated FROM list; empty without FROM (or with FROM DUAL). */
  from: FromItem[];
  where: Expr | null;
  groupBy: Expr[];
  /** `GROUP BY ... WITH ROLLUP`. */
  rollup: boolean;
  having: Expr | null;
  orderBy: OrderItem[];
  limit: Limit | null;
  pos: Pos;
}

/**
 * `left UNION [ALL | DISTINCT] right`, left-associative; ORDER BY and LIMIT after the last
 * unparenthesized SELECT belong to the union, as in MySQL.
 */
export interface Union {
  kind: "union";
  left: Query;
  right: Query;
  all: boolean;
  orderBy: OrderItem[];
  limit: Limit | null;
  pos: Pos;
}

export type Query = Select | Union;

// --- other statements -------------------------------------------------------------------------

/** `LIKE 'pattern'` or `WHERE expr` after a SHOW statement. */
export type ShowFilter = { kind: "like"; pattern: string } | { kind: "where"; expr: Expr };

export interface ShowDatabases {
  kind: "showDatabases";
  filter: ShowFilter | null;
  pos: Pos;
}

export interface ShowTables {
  kind: "showTables";
  full: boolean;
  db: string | null;
  filter: ShowFilter | null;
  pos: Pos;
}

/** `SHOW [FULL] COLUMNS|FIELDS FROM [db.]t [FROM db]` (the second FROM wins, as in MySQL). */
export interface ShowColumns {
  kind: "showColumns";
  full: boolean;
  db: string | null;
  table: string;
  filter: ShowFilter | null;
  pos: Pos;
}

/** `DESCRIBE|DESC|EXPLAIN [db.]t`. */
export interface Describe {
  kind: "describe";
  db: string | null;
  table: string;
  pos: Pos;
}

export interface ShowProcesslist {
  kind: "showProcesslist";
  full: boolean;
  pos: Pos;
}

/** `KILL [QUERY|CONNECTION] id`; `query` is true for KILL QUERY. */
export interface Kill {
  kind: "kill";
  query: boolean;
  id: number;
  pos: Pos;
}

/** Qserv's `SUBMIT SELECT ...`: the query runs as an async job; the answer is its id. */
export interface Submit {
  kind: "submit";
  query: Query;
  pos: Pos;
}

/** Qserv's `SELECT * FROM qserv_result(id)`: a finished async job's rows. */
export interface QservResult {
  kind: "qservResult";
  id: string;
  pos: Pos;
}

/** Qserv's `CANCEL id`: stops an async job. */
export interface Cancel {
  kind: "cancel";
  id: string;
  pos: Pos;
}

export interface Use {
  kind: "use";
  db: string;
  pos: Pos;
}

/** `NAMES charset [COLLATE c]` (`charset` null for DEFAULT) or `[scope] name = value`. */
export type SetItem =
  | { kind: "names"; charset: string | null; collate: string | null }
  | { kind: "variable"; scope: "GLOBAL" | "SESSION" | null; name: string; value: Expr };

export interface SetStmt {
  kind: "set";
  items: SetItem[];
  pos: Pos;
}

/** `DROP TABLE [IF EXISTS] [db.]t [RESTRICT]`. */
export interface DropTable {
  kind: "dropTable";
  db: string | null;
  table: string;
  ifExists: boolean;
  pos: Pos;
}

/** `DROP DATABASE|SCHEMA [IF EXISTS] db`. */
export interface DropDatabase {
  kind: "dropDatabase";
  db: string;
  ifExists: boolean;
  pos: Pos;
}

export type Statement =
  | Select
  | Union
  | ShowDatabases
  | ShowTables
  | ShowColumns
  | Describe
  | ShowProcesslist
  | Kill
  | Submit
  | QservResult
  | Cancel
  | Use
  | SetStmt
  | DropTable
  | DropDatabase;
