/** FROM resolution: table references → catalog tables, `*` expansion and column checks. */
import { QservError } from "../../common/errors.js";
import type { CzarCatalog, TableMeta } from "../catalog.js";
import { UPLOAD_SCHEMA, type UploadTable, uploadMeta } from "../plan/uploads.js";
import type { ColumnRef, Expr, FromItem, Pos, Select, SelectItem, TableRef } from "../sql/ast.js";
import { column, visit } from "../sql/walk.js";

/** A table of the FROM list as the query refers to it. */
export interface Binding {
  /** The name SQL uses for it: the alias, else the table name. */
  name: string;
  ref: TableRef;
  meta: TableMeta;
  /** The table's columns, in schema order. */
  columns: readonly string[];
  /** An uploaded table (TAP_UPLOAD.name): its rows go with the chunk queries. */
  upload?: UploadTable;
}

export function badQuery(message: string, pos: Pos): QservError {
  return new QservError("BAD_QUERY", `${message} (line ${pos.line}, column ${pos.column})`, {
    line: pos.line,
    column: pos.column,
  });
}

export function unsupported(what: string, pos: Pos): QservError {
  return new QservError("UNSUPPORTED", `${what} is not supported (line ${pos.line}, column ${pos.column})`, {
    line: pos.line,
    column: pos.column,
  });
}

/**
 * Resolves every table reference of the FROM list; all must be in one database, but for the
 * request's uploaded tables (`TAP_UPLOAD.name`).
 */
export function bindTables(
  s: Select,
  defaultDb: string | null,
  cat: CzarCatalog,
  uploads: readonly UploadTable[] = [],
): { db: string; bindings: Binding[] } {
  const refs: TableRef[] = [];
  const walk = (f: FromItem): void => {
    if (f.kind === "derived") throw unsupported("a subquery in FROM", f.pos);
    if (f.kind === "table") refs.push(f);
    else {
      if (f.type === "RIGHT") throw unsupported("RIGHT JOIN", f.pos);
      walk(f.left);
      walk(f.right);
    }
  };
  for (const f of s.from) walk(f);
  let db: string | null = null;
  const bindings: Binding[] = [];
  const named = (ref: TableRef) => {
    const name = ref.alias ?? ref.name;
    if (bindings.some((b) => b.name === name)) throw badQuery(`Not unique table/alias: '${name}'`, ref.pos);
    return name;
  };
  for (const ref of refs) {
    if (uploads.length > 0 && ref.db?.toUpperCase() === UPLOAD_SCHEMA) {
      const u = uploads.find((x) => same(x.name, ref.name));
      if (u === undefined) throw badQuery(`no uploaded table ${UPLOAD_SCHEMA}.${ref.name}`, ref.pos);
      const meta = uploadMeta(u);
      bindings.push({ name: named(ref), ref, meta, columns: u.columns.map((c) => c.name), upload: u });
      continue;
    }
    const d = ref.db ?? defaultDb;
    if (d === null) throw badQuery(`No database selected for table '${ref.name}'`, ref.pos);
    if (cat.database(d) === null) throw badQuery(`Unknown database '${d}'`, ref.pos);
    if (db !== null && d !== db) throw unsupported(`a query over two databases ('${db}', '${d}')`, ref.pos);
    db = d;
    const meta = cat.table(d, ref.name);
    if (meta === null) throw badQuery(`Table '${d}.${ref.name}' doesn't exist`, ref.pos);
    bindings.push({ name: named(ref), ref, meta, columns: meta.config.schema.map((c) => c.name) });
  }
  if (db === null && bindings.length > 0)
    throw unsupported(`a query of uploaded tables only through the czar's engine`, s.pos);
  if (db === null) throw new QservError("INTERNAL", "bindTables called without FROM");
  return { db, bindings };
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** What column checks need of a FROM table: its name, its reference and its columns. */
export type ColumnScope = Pick<Binding, "name" | "ref" | "columns">;

/** The bindings a column reference may denote. */
export function candidates<B extends ColumnScope>(bindings: readonly B[], ref: ColumnRef, db: string): B[] {
  if (ref.db !== null && ref.db !== db) return [];
  return bindings.filter(
    (b) => (ref.table === null || b.name === ref.table) && b.columns.some((c) => same(c, ref.name)),
  );
}

/** The binding a column reference denotes (first of several for a USING column), or null. */
export function bindingOf(bindings: readonly Binding[], ref: ColumnRef, db: string): Binding | null {
  return candidates(bindings, ref, db)[0] ?? null;
}

/** A visible column of a FROM item: which binding it comes from. */
interface Visible {
  binding: ColumnScope;
  name: string;
}

/** The columns `*` shows for a FROM item: MySQL puts USING/NATURAL columns first, once. */
function visibleColumns(f: FromItem, byRef: Map<TableRef, ColumnScope>): Visible[] {
  if (f.kind === "table") {
    const b = byRef.get(f)!;
    return b.columns.map((name) => ({ binding: b, name }));
  }
  if (f.kind === "derived") throw unsupported("a subquery in FROM", f.pos);
  const left = visibleColumns(f.left, byRef);
  const right = visibleColumns(f.right, byRef);
  const using =
    f.using ?? (f.natural ? left.filter((l) => right.some((r) => same(r.name, l.name))).map((l) => l.name) : []);
  if (using.length === 0) return [...left, ...right];
  const isUsing = (v: Visible) => using.some((u) => same(u, v.name));
  const first = using.map((u) => left.find((l) => same(l.name, u)) ?? right.find((r) => same(r.name, u))!);
  return [...first, ...left.filter((v) => !isUsing(v)), ...right.filter((v) => !isUsing(v))];
}

/** The select list with `*` and `t.*` replaced by qualified column references. */
export function expandStars(s: Select, bindings: readonly Binding[]): SelectItem[] {
  const byRef = new Map(bindings.map((b) => [b.ref, b] as const));
  const out: SelectItem[] = [];
  for (const it of s.items) {
    if (it.kind === "expr") {
      out.push(it);
      continue;
    }
    let cols: Visible[];
    if (it.table === null) {
      if (s.from.length === 0) throw badQuery("No tables used", it.pos);
      cols = s.from.flatMap((f) => visibleColumns(f, byRef));
    } else {
      const b = bindings.find((x) => x.name === it.table);
      if (b === undefined) throw badQuery(`Unknown table '${it.table}'`, it.pos);
      cols = b.columns.map((name) => ({ binding: b, name }));
    }
    for (const c of cols) {
      out.push({
        kind: "expr",
        expr: { ...column(c.binding.name, c.name), pos: it.pos },
        alias: null,
        text: c.name,
        pos: it.pos,
      });
    }
  }
  return out;
}

/** USING / NATURAL column names of the FROM list's joins (an unqualified reference to one is not ambiguous). */
function usingColumns(from: readonly FromItem[], byRef: Map<TableRef, ColumnScope>): string[] {
  const out: string[] = [];
  const walk = (f: FromItem): void => {
    if (f.kind !== "join") return;
    walk(f.left);
    walk(f.right);
    if (f.using !== null) out.push(...f.using);
    else if (f.natural) {
      const l = visibleColumns(f.left, byRef);
      const r = visibleColumns(f.right, byRef);
      out.push(...l.filter((x) => r.some((y) => same(x.name, y.name))).map((x) => x.name));
    }
  };
  for (const f of from) walk(f);
  return out;
}

/**
 * Checks that every column reference denotes exactly one table column; in GROUP BY, HAVING and
 * ORDER BY a bare name may also be a select-list alias.
 */
export function checkColumns(s: Select, bindings: readonly ColumnScope[], db: string): void {
  const byRef = new Map(bindings.map((b) => [b.ref, b] as const));
  const usingCols = usingColumns(s.from, byRef);
  const aliases = s.items.flatMap((it) => (it.kind === "expr" && it.alias !== null ? [it.alias] : []));
  const check = (e: Expr, clause: string, aliasOk: boolean): void =>
    visit(e, (x) => {
      if (x.kind !== "column") return;
      const found = candidates(bindings, x, db);
      const label = [x.db, x.table, x.name].filter((p) => p !== null).join(".");
      if (found.length === 0) {
        if (aliasOk && x.table === null && aliases.some((a) => same(a, x.name))) return;
        if (x.table !== null && !bindings.some((b) => b.name === x.table)) {
          throw badQuery(`Unknown column '${label}' in '${clause}': no table '${x.table}' in FROM`, x.pos);
        }
        throw badQuery(`Unknown column '${label}' in '${clause}'`, x.pos);
      }
      if (found.length > 1 && x.table === null && !usingCols.some((u) => same(u, x.name))) {
        throw badQuery(`Column '${x.name}' in ${clause} is ambiguous`, x.pos);
      }
    });
  for (const it of s.items) if (it.kind === "expr") check(it.expr, "field list", false);
  const on = (f: FromItem): void => {
    if (f.kind !== "join") return;
    on(f.left);
    on(f.right);
    if (f.on !== null) check(f.on, "on clause", false);
    for (const u of f.using ?? []) {
      const l = bindings.filter((b) => b.columns.some((c) => same(c, u)));
      if (l.length < 2) throw badQuery(`Unknown column '${u}' in 'from clause'`, f.pos);
    }
  };
  for (const f of s.from) on(f);
  if (s.where !== null) check(s.where, "where clause", false);
  for (const g of s.groupBy) check(g, "group statement", true);
  if (s.having !== null) check(s.having, "having clause", true);
  for (const o of s.orderBy) check(o.expr, "order clause", true);
}
