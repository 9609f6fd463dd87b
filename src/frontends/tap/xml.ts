/** Hand-written XML output: text and attribute escaping (characters XML 1.0 cannot hold are dropped). */

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML 1.0 cannot hold
const NEEDS_ESCAPE = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

/** `s` as XML text or attribute value. */
export function xmlEscape(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff) continue;
    out += ENTITIES[ch] ?? ch;
  }
  return out;
}

/** ` name="value"` for each defined, non-empty attribute. */
export function attrs(a: Record<string, string | number | undefined | null>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join("");
}

/** `<tag attrs>text</tag>`, or `<tag attrs/>` when the text is empty. */
export function element(
  tag: string,
  text: string | number | undefined | null,
  a: Parameters<typeof attrs>[0] = {},
): string {
  const t = text === undefined || text === null ? "" : String(text);
  return t === "" ? `<${tag}${attrs(a)}/>` : `<${tag}${attrs(a)}>${xmlEscape(t)}</${tag}>`;
}
