/** Column metadata astropy writes beside a table (FITS COMMENT cards, Parquet `table_meta_yaml`). */
export interface ColumnMeta {
  unit?: string;
  description?: string;
}

/**
 * The `datatype:` list of astropy's serialized-columns YAML: one flow mapping a column
 * (`- {name: ra, unit: deg, datatype: float64, description: Right ascension}`), long lines
 * continued with a trailing backslash. Only the keys read here are parsed; nothing else of YAML.
 */
export function astropyColumns(yaml: string): Map<string, ColumnMeta> {
  const out = new Map<string, ColumnMeta>();
  const text = yaml
    .split("\n")
    .map((l) => l.replace(/^# ?/, ""))
    .join("\n")
    .replace(/\\\n/g, "");
  for (const line of text.split("\n")) {
    const m = /^\s*- \{(.*)\}\s*$/.exec(line);
    if (m === null) continue;
    const fields = new Map<string, string>();
    for (const part of splitTop(m[1] as string)) {
      const colon = part.indexOf(": ");
      if (colon < 0) continue;
      fields.set(part.slice(0, colon).trim(), unquote(part.slice(colon + 2).trim()));
    }
    const name = fields.get("name");
    if (name === undefined) continue;
    const unit = fields.get("unit");
    const description = fields.get("description");
    out.set(name, { ...(unit ? { unit } : {}), ...(description ? { description } : {}) });
  }
  return out;
}

/** Splits `a: 1, b: 'x, y'` at the commas outside quotes. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let cur = "";
  let q: string | null = null;
  for (const c of s) {
    if (q !== null) {
      if (c === q) q = null;
      cur += c;
    } else if (c === "'" || c === '"') {
      q = c;
      cur += c;
    } else if (c === ",") {
      parts.push(cur);
      cur = "";
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function unquote(v: string): string {
  if (v.length >= 2 && v[0] === "'" && v.endsWith("'")) return v.slice(1, -1).replaceAll("''", "'");
  if (v.length >= 2 && v[0] === '"' && v.endsWith('"')) return JSON.parse(v) as string;
  return v;
}
