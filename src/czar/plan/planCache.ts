/**
 * The czar's plan cache. A statement is keyed on its normalised text: the tokens with every
 * number literal a parameter (`?i` an integer, `?d` a decimal), under its default database.
 * - Parse: a SELECT whose number literals in WHERE are all it differs in from one seen before
 *   reuses that one's tree, those literals replaced (no lexing into a tree, no parsing); other
 *   literals (select items, LIMIT, strings) must be the same text.
 * - Plan: the plan of an exact text is kept and reused as it is.
 * Both are dropped when the metadata changes (a load published, a table dropped or unloaded, a
 * replica added or removed: `CzarCatalog.generation`). A tree made from a template is planned
 * like a parsed one; a planning error on it sends the text through the parser again, so errors
 * name the positions of the text as written.
 */
import type { CzarCatalog } from "../catalog.js";
import type { Expr, Pos, Select, Statement } from "../sql/ast.js";
import { type Token, tokenize } from "../sql/lexer.js";
import { mapExpr } from "../sql/walk.js";
import type { Plan } from "./planner.js";

/** Entries kept (least recently used dropped first). */
const DEFAULT_ENTRIES = 512;
/** Texts longer than this are neither kept nor looked up (they are planned in planner threads anyway). */
const MAX_TEXT = 4096;

type NumberToken = Token & { type: "integer" | "decimal" };

/** A parsed SELECT whose WHERE number literals (by index in the text's number tokens) are slots. */
interface Template {
  generation: string;
  stmt: Select;
  /** Number-token index → true when the literal is a WHERE slot (else it must match `texts`). */
  slots: boolean[];
  texts: string[];
  /** Where each number literal was in the template's text (its node keeps that position). */
  positions: Pos[];
}

interface Normalised {
  key: string;
  numbers: NumberToken[];
}

const isNumber = (t: Token): t is NumberToken => t.type === "integer" || t.type === "decimal";
const posKey = (p: Pos) => `${p.line}:${p.column}`;

/** The text's tokens with number literals as parameters; null when it does not lex. */
function normalise(sql: string): Normalised | null {
  let tokens: Token[];
  try {
    tokens = tokenize(sql, "mysql");
  } catch {
    return null;
  }
  const numbers: NumberToken[] = [];
  const parts: string[] = [];
  for (const t of tokens) {
    if (isNumber(t)) {
      numbers.push(t);
      parts.push(t.type === "integer" ? "?i" : "?d");
    } else parts.push(`${t.type}:${t.text}`);
  }
  return { key: parts.join(" "), numbers };
}

/** A small LRU map. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
  delete(k: string): void {
    this.map.delete(k);
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}

export interface PlanCacheStats {
  templates: number;
  plans: number;
  templateHits: number;
  planHits: number;
}

export class PlanCache {
  private readonly templates: Lru<Template>;
  private readonly plans: Lru<{ generation: string; plan: Plan }>;
  private readonly counts = { templateHits: 0, planHits: 0 };
  private seen = "";

  constructor(
    private readonly cat: CzarCatalog,
    entries = DEFAULT_ENTRIES,
  ) {
    this.templates = new Lru(entries);
    this.plans = new Lru(entries);
  }

  /** The metadata's generation now ("" when the catalog keeps none: nothing is cached). */
  generation(): string {
    const g = this.cat.generation?.() ?? "";
    if (g !== this.seen) {
      // Every entry was made under an older generation: drop them at once.
      this.templates.clear();
      this.plans.clear();
      this.seen = g;
    }
    return g;
  }

  stats(): PlanCacheStats {
    return { templates: this.templates.size, plans: this.plans.size, ...this.counts };
  }

  /**
   * The statement of `sql`: from a template of its normalised text when there is one, else
   * `parse()` (kept as a template when `keep` says so, a SELECT with FROM). `fromTemplate` says which.
   */
  statement(
    sql: string,
    db: string | null,
    parse: () => Statement,
    keep: (s: Statement) => boolean,
  ): { stmt: Statement; fromTemplate: boolean } {
    const gen = this.generation();
    const n = gen === "" || sql.length > MAX_TEXT ? null : normalise(sql);
    if (n === null) return { stmt: parse(), fromTemplate: false };
    const key = `${db ?? ""}\0${n.key}`;
    const t = this.templates.get(key);
    if (t !== undefined && t.generation === gen) {
      const stmt = instantiate(t, n.numbers);
      if (stmt !== null) {
        this.counts.templateHits++;
        return { stmt, fromTemplate: true };
      }
    }
    const stmt = parse();
    const made = keep(stmt) ? template(stmt, n.numbers, gen) : null;
    if (made !== null) this.templates.set(key, made);
    return { stmt, fromTemplate: false };
  }

  /** The plan of exactly `sql` under `db`: kept from before, or made by `plan()` and kept. */
  plan(sql: string, db: string | null, plan: () => Plan): Plan {
    const gen = this.generation();
    if (gen === "" || sql.length > MAX_TEXT) return plan();
    const key = `${db ?? ""}\0${sql}`;
    const held = this.plans.get(key);
    if (held !== undefined && held.generation === gen) {
      this.counts.planHits++;
      return held.plan;
    }
    const p = plan();
    this.plans.set(key, { generation: gen, plan: p });
    return p;
  }

  /** Forgets the template of `sql` (its instance failed to plan: the text goes through the parser). */
  forget(sql: string, db: string | null): void {
    const n = normalise(sql);
    if (n !== null) this.templates.delete(`${db ?? ""}\0${n.key}`);
  }
}

/** The number literal nodes of a WHERE clause, by position. */
function whereNumbers(where: Expr | null): Map<string, Expr> {
  const out = new Map<string, Expr>();
  if (where === null) return out;
  mapExpr(where, (e) => {
    if (e.kind === "integer" || e.kind === "decimal") out.set(posKey(e.pos), e);
    return e;
  });
  return out;
}

/** A template of a plain SELECT with FROM (null for anything else). */
function template(stmt: Statement, numbers: NumberToken[], generation: string): Template | null {
  if (stmt.kind !== "select" || stmt.from.length === 0) return null;
  const inWhere = whereNumbers(stmt.where);
  const slots = numbers.map((t) => inWhere.has(posKey(t.pos)));
  // Every WHERE literal came from exactly one number token (none was made by the parser).
  if (slots.filter(Boolean).length !== inWhere.size) return null;
  return { generation, stmt, slots, texts: numbers.map((t) => t.value), positions: numbers.map((t) => t.pos) };
}

/** The template's tree with this text's WHERE numbers; null when another literal differs. */
function instantiate(t: Template, numbers: NumberToken[]): Select | null {
  if (numbers.length !== t.slots.length) return null;
  const byPos = new Map<string, NumberToken>();
  for (let i = 0; i < numbers.length; i++) {
    const tok = numbers[i]!;
    if (!t.slots[i]) {
      if (tok.value !== t.texts[i]) return null;
      continue;
    }
    byPos.set(posKey(t.positions[i]!), tok);
  }
  if (t.stmt.where === null) return t.stmt;
  const where = mapExpr(t.stmt.where, (e) => {
    if (e.kind !== "integer" && e.kind !== "decimal") return e;
    const tok = byPos.get(posKey(e.pos));
    return tok === undefined ? e : { ...e, text: tok.value };
  });
  return { ...t.stmt, where };
}
