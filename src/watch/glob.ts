/** File-name globs of the watch mode: `*` (any run of characters), `?` (one), `[abc]` / `[a-z]` / `[!a]`, `{a,b}`. */
import { QservError } from "../common/errors.js";

const SPECIAL = /[\\^$.|+()]/;

/** A glob as an anchored regular expression over a whole file name (no `/` in it). */
export function globRegExp(glob: string): RegExp {
  let re = "";
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) throw new QservError("BAD_ARGUMENT", `glob ${JSON.stringify(glob)}: "[" without "]"`);
      const body = glob.slice(i + 1, end).replace(/\\/g, "\\\\");
      re += body.startsWith("!") ? `[^${body.slice(1)}]` : `[${body}]`;
      i = end;
    } else if (c === "{") {
      braces++;
      re += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      re += ")";
    } else if (c === "," && braces > 0) re += "|";
    else re += SPECIAL.test(c) ? `\\${c}` : c;
  }
  if (braces > 0) throw new QservError("BAD_ARGUMENT", `glob ${JSON.stringify(glob)}: "{" without "}"`);
  return new RegExp(`^${re}$`);
}
