/**
 * Reads Qserv's itest query files (see ../shared/qserv-itest/README.md): both forms of each
 * query, its pragmas, what answer is expected, and which tables it names.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import type { FromItem, Query, Select } from "../../src/czar/sql/ast.js";
import { parseStatement } from "../../src/czar/sql/parser.js";
import { HAVE_ITEST, ITEST } from "./paths.js";

/**
 * What a query should get: `answer` (the reference's rows), `error` (`unsupported_*`: Qserv
 * rejects it), `qservOnly` (`unsupported_by_mysql`: valid for Qserv, no plain-SQL reference),
 * `fixme` (`*.FIXME`: a known Qserv failure, skipped).
 */
export type Expectation = "answer" | "error" | "qservOnly" | "fixme";

export interface QueryFile {
  /** "case01". */
  case: string;
  /** Path relative to the itest folder, e.g. "case01/queries/1051_nn.sql". */
  rel: string;
  /** The plain form: `-- noQserv` lines kept, `{DBTAG_A}` removed. */
  plain: string;
  /** The distributed form: `-- noQserv` lines blanked, `-- withQserv` lines uncommented, `{DBTAG_A}` = `qcaseNN.`. */
  qserv: string;
  sortresult: boolean;
  noheader: boolean;
  /** In an `unsupported_*` folder. */
  unsupported: boolean;
  expect: Expectation;
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

/** Query files: `.sql`, `.FIXME`, and names without an extension (case04 has one); not READMEs. */
export function isQueryFile(path: string): boolean {
  const name = basename(path);
  if (name.startsWith(".") || /^readme/i.test(name)) return false;
  return /\.(sql|FIXME)$/.test(name) || !/\.[A-Za-z]+$/.test(name);
}

/** Splits a query file's text into its two forms and pragmas. */
export function parseQueryText(
  text: string,
  caseName: string,
): Pick<QueryFile, "plain" | "qserv" | "sortresult" | "noheader"> {
  const pragmas = new Set<string>();
  for (const m of text.matchAll(/^\s*--\s*pragma\s+(.*)$/gim)) {
    for (const w of (m[1] ?? "").trim().split(/\s+/)) pragmas.add(w.toLowerCase());
  }
  // Line numbers of the distributed form stay those of the file.
  const qserv = text
    .split("\n")
    .map((l) => (/--\s*noQserv/i.test(l) ? "" : l.replace(/^\s*--\s*withQserv\s?/i, "")))
    .join("\n");
  return {
    plain: text.replaceAll("{DBTAG_A}", ""),
    qserv: qserv.replaceAll("{DBTAG_A}", `q${caseName}.`),
    sortresult: pragmas.has("sortresult"),
    noheader: pragmas.has("noheader"),
  };
}

function expectation(rel: string): Expectation {
  if (rel.endsWith(".FIXME")) return "fixme";
  if (rel.includes("/unsupported_by_mysql/")) return "qservOnly";
  if (rel.includes("/unsupported_")) return "error";
  return "answer";
}

/** The itest case folders present ("case01", ...). */
export function itestCases(): string[] {
  if (!HAVE_ITEST) return [];
  return readdirSync(ITEST)
    .filter((d) => /^case\d\d$/.test(d))
    .sort();
}

/** Every query file of the given cases (all present cases by default), in path order. */
export function queryFiles(cases: readonly string[] = itestCases()): QueryFile[] {
  return cases.flatMap((c) =>
    walk(join(ITEST, c, "queries"))
      .filter(isQueryFile)
      .map((p) => {
        const rel = relative(ITEST, p);
        const expect = expectation(rel);
        return {
          case: c,
          rel,
          ...parseQueryText(readFileSync(p, "utf8"), c),
          unsupported: rel.includes("/unsupported_"),
          expect,
        };
      }),
  );
}

/** The SELECTs of a query (a union's branches). */
function selectsOf(q: Query): Select[] {
  return q.kind === "select" ? [q] : [...selectsOf(q.left), ...selectsOf(q.right)];
}

function fromTables(items: readonly FromItem[], out: Set<string>): void {
  for (const f of items) {
    if (f.kind === "table") out.add(f.name);
    else if (f.kind === "join") fromTables([f.left, f.right], out);
    else for (const q of selectsOf(f.select)) fromTables(q.from, out);
  }
}

/** SQL text without comments and string literals (identifiers stay). */
function codeOnly(sql: string): string {
  return sql.replace(/--[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"/g, " ");
}

/**
 * The tables a query names, as spelled: from its parse tree when it parses (FROM items, SHOW
 * COLUMNS / DESCRIBE), else every identifier outside comments and strings (callers intersect
 * that with the tables they know).
 */
export function tablesNamed(sql: string): string[] {
  try {
    const stmt = parseStatement(sql);
    const out = new Set<string>();
    if (stmt.kind === "select") fromTables(stmt.from, out);
    else if (stmt.kind === "showColumns" || stmt.kind === "describe") out.add(stmt.table);
    return [...out];
  } catch {
    return [...new Set(codeOnly(sql).match(/[A-Za-z_][A-Za-z0-9_$]*/g) ?? [])];
  }
}
