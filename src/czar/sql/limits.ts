/**
 * Bounds on the work one statement may ask of the czar before anything runs: its text size, how
 * deeply the parser may recurse, and the height and size of the tree it yields (later stages walk
 * it recursively). Past any of them the statement is refused with TOO_LARGE, never a stack overflow.
 */
import { QservError } from "../../common/errors.js";
import type { Pos } from "./ast.js";
import { sqlError } from "./lexer.js";

/** Default largest query text, in bytes (`--max-query-mb`). */
export const DEFAULT_MAX_QUERY_BYTES = 16 << 20;

/** Levels the parser may nest: parentheses, calls, subqueries, unary operators, BETWEEN's bound. */
export const MAX_NESTING = 200;

/** Height of a statement's tree (a left-deep chain like `a AND b AND ...` is as high as it is long). */
export const MAX_HEIGHT = 1000;

/** Nodes of a statement's tree once its WITH queries are inlined where they are named. */
export const MAX_NODES = 4_000_000;

/** Refuses a query text over `maxBytes` bytes of UTF-8. */
export function checkQueryText(text: string, maxBytes: number = DEFAULT_MAX_QUERY_BYTES): void {
  // A string's UTF-8 length is at most 3 bytes per UTF-16 unit: measure only when it may matter.
  if (text.length * 3 <= maxBytes) return;
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxBytes) {
    throw new QservError("TOO_LARGE", `query text of ${bytes} bytes is over the limit of ${maxBytes} bytes`, {
      bytes,
      limit: maxBytes,
    });
  }
}

/** The error for nesting past `limit` at `pos` (near `token`, when known). */
export function tooDeep(pos: Pos, token: string | null, limit: number): QservError {
  if (token !== null) return sqlError("too deeply nested", pos, token, `more than ${limit} levels`, "TOO_LARGE");
  const msg = `too deeply nested at line ${pos.line}, column ${pos.column}: more than ${limit} levels`;
  return new QservError("TOO_LARGE", msg, { line: pos.line, column: pos.column });
}

type Node = { kind: string; pos?: Pos };

function isNode(v: unknown): v is Node {
  return typeof v === "object" && v !== null && typeof (v as { kind?: unknown }).kind === "string";
}

/** The AST nodes directly under `o`, looking through arrays and plain records (WHEN pairs, ORDER BY items). */
function childNodes(o: object, out: Node[] = []): Node[] {
  for (const v of Object.values(o)) {
    if (typeof v !== "object" || v === null) continue;
    if (isNode(v)) out.push(v);
    else childNodes(v, out); // an array or a record: its values
  }
  return out;
}

/**
 * Checks a parsed statement's height (≤ MAX_HEIGHT) and expanded size (≤ MAX_NODES) without
 * recursion. A WITH query named twice is one object under two parents: counted for each.
 */
export function checkTree(root: object, maxHeight = MAX_HEIGHT, maxNodes = MAX_NODES): void {
  const size = new Map<object, number>();
  const stack: Array<{ node: object; kids: Node[]; next: number; size: number }> = [
    { node: root, kids: childNodes(root), next: 0, size: 1 },
  ];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.kids.length) {
      const kid = top.kids[top.next++]!;
      const known = size.get(kid);
      if (known !== undefined) {
        top.size += known;
        continue;
      }
      if (stack.length >= maxHeight) {
        throw tooDeep(kid.pos ?? { line: 0, column: 0 }, null, maxHeight);
      }
      stack.push({ node: kid, kids: childNodes(kid), next: 0, size: 1 });
      continue;
    }
    stack.pop();
    if (top.size > maxNodes) {
      throw new QservError(
        "TOO_LARGE",
        `query too large: more than ${maxNodes} terms once its WITH queries are inlined`,
      );
    }
    size.set(top.node, top.size);
    const parent = stack[stack.length - 1];
    if (parent !== undefined) parent.size += top.size;
  }
}
