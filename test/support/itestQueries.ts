import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { HAVE_ITEST, ITEST } from "./paths.js";

/** One Qserv itest query file, in both its forms. */
export interface QueryFile {
  rel: string;
  plain: string;
  qserv: string;
  unsupported: boolean;
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

/**
 * Both forms of each query file (see the itest README): the plain form keeps `-- noQserv`
 * lines; the distributed form blanks them and replaces each `-- withQserv <text>` line by its
 * text (line numbers stay those of the file). `{DBTAG_A}` is `qcaseNN.` or nothing.
 */
export function queryFiles(): QueryFile[] {
  if (!HAVE_ITEST) return [];
  const cases = readdirSync(ITEST).filter((d) => /^case0\d$/.test(d));
  return cases.flatMap((c) =>
    walk(join(ITEST, c, "queries"))
      .filter((p) => p.endsWith(".sql"))
      .map((p) => {
        const text = readFileSync(p, "utf8");
        const qserv = text
          .split("\n")
          .map((l) => (/--\s*noQserv/.test(l) ? "" : l.replace(/^\s*--\s*withQserv\s?/, "")))
          .join("\n");
        const rel = relative(ITEST, p);
        return {
          rel,
          plain: text.replaceAll("{DBTAG_A}", ""),
          qserv: qserv.replaceAll("{DBTAG_A}", `q${c}.`),
          unsupported: rel.includes("/unsupported_"),
        };
      }),
  );
}
