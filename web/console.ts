/** The console: SQL (POST /query) or ADQL (POST /tap/sync), a paged result, downloads and plots. */
import { ApiError, adql, type Cell, type QueryResult, query } from "./api.js";
import { frame, lonOf, SVG_NS, skyProjection, svgEl } from "./sky.js";

const PAGE = 50;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** The position columns of a result: a RA-like and a Dec-like column, if it has both. */
export function positionColumns(cols: string[]): [number, number] | null {
  const find = (re: RegExp) => cols.findIndex((c) => re.test(c));
  const ra = find(/^(.*_)?ra(_.*)?$/i);
  const dec = find(/^(.*_)?(decl?|dec)(_.*)?$/i);
  return ra < 0 || dec < 0 ? null : [ra, dec];
}

const csvField = (v: Cell) => {
  const s = v === null ? "" : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const xml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);

export function toCsv(r: QueryResult): string {
  return [r.columns.map((c) => csvField(c.name)), ...r.rows.map((row) => row.map(csvField))]
    .map((l) => l.join(","))
    .join("\r\n");
}

/** A VOTable (TABLEDATA) of the result: integers as long, reals as double, the rest as char. */
export function toVotable(r: QueryResult): string {
  const kind = (i: number) => {
    const t = r.columns[i]!.type.toLowerCase();
    if (/int|long|short/.test(t)) return 'datatype="long"';
    if (/real|double|float/.test(t)) return 'datatype="double"';
    return 'datatype="char" arraysize="*"';
  };
  const fields = r.columns.map((c, i) => `<FIELD name="${xml(c.name)}" ${kind(i)}/>`).join("\n");
  const rows = r.rows.map(
    (row) => `<TR>${row.map((v) => `<TD>${v === null ? "" : xml(String(v))}</TD>`).join("")}</TR>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
<RESOURCE type="results"><TABLE>
${fields}
<DATA><TABLEDATA>
${rows.join("\n")}
</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>
`;
}

export class Console {
  private result: QueryResult | null = null;
  private page = 0;
  private urls: string[] = [];

  constructor(private readonly afterRun: () => void) {
    $("run").addEventListener("click", () => void this.run());
    $("sql").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void this.run();
    });
    $("prev").addEventListener("click", () => this.turn(-1));
    $("next").addEventListener("click", () => this.turn(1));
    $("hist-col").addEventListener("change", () => this.histogram());
  }

  /** Puts `sql` in the editor (a region drawn on the map). */
  set(sql: string): void {
    ($("sql") as HTMLTextAreaElement).value = sql;
    ($("console-lang") as HTMLSelectElement).value = "sql";
  }

  async run(): Promise<void> {
    const text = ($("sql") as HTMLTextAreaElement).value;
    const db = ($("console-db") as HTMLSelectElement).value || null;
    const lang = ($("console-lang") as HTMLSelectElement).value;
    const status = $("console-status");
    const err = $("console-error");
    err.hidden = true;
    status.textContent = "running…";
    const t0 = performance.now();
    try {
      this.result = lang === "adql" ? await adql(text) : await query(text, db);
      const s = this.result.stats;
      status.textContent = `${this.result.rows.length} rows in ${Math.round(performance.now() - t0)} ms${s === undefined ? "" : ` (${s.chunks} chunks, ${s.retries} retries)`}`;
      this.page = 0;
      this.show();
    } catch (e) {
      status.textContent = "failed";
      $("result").hidden = true;
      this.error(text, e);
    } finally {
      this.afterRun();
    }
  }

  /** The error's message, and where it points in the text: its line with a caret under the column. */
  private error(text: string, e: unknown): void {
    const err = $("console-error");
    const b = e instanceof ApiError ? e.body : { code: "ERROR", message: String(e) };
    let where = "";
    if (b.line !== undefined && b.column !== undefined) {
      const line = text.split("\n")[b.line - 1] ?? "";
      where = `\nline ${b.line}, column ${b.column}:\n${line}\n${" ".repeat(Math.max(0, b.column - 1))}^`;
    }
    err.textContent = `${b.code}: ${b.message}${where}`;
    err.hidden = false;
  }

  private turn(d: number): void {
    const n = this.result?.rows.length ?? 0;
    this.page = Math.max(0, Math.min(Math.ceil(n / PAGE) - 1, this.page + d));
    this.table();
  }

  private show(): void {
    const r = this.result!;
    $("result").hidden = false;
    for (const u of this.urls) URL.revokeObjectURL(u);
    const blob = (s: string, type: string) => URL.createObjectURL(new Blob([s], { type }));
    this.urls = [blob(toCsv(r), "text/csv"), blob(toVotable(r), "application/x-votable+xml")];
    ($("csv") as HTMLAnchorElement).href = this.urls[0]!;
    ($("votable") as HTMLAnchorElement).href = this.urls[1]!;
    const numeric = r.columns
      .map((c, i) => ({ c, i }))
      .filter(({ i }) =>
        r.rows.some(
          (row) =>
            typeof row[i] === "number" ||
            (typeof row[i] === "string" && row[i] !== "" && Number.isFinite(Number(row[i]))),
        ),
      );
    $("hist-col").replaceChildren(
      ...numeric.map(({ c, i }) =>
        Object.assign(document.createElement("option"), { value: String(i), textContent: c.name }),
      ),
    );
    this.table();
    this.sky();
    this.histogram();
  }

  private table(): void {
    const r = this.result!;
    const head = document.createElement("tr");
    for (const c of r.columns) head.append(Object.assign(document.createElement("th"), { textContent: c.name }));
    $("rows").querySelector("thead")!.replaceChildren(head);
    const rows = r.rows.slice(this.page * PAGE, (this.page + 1) * PAGE).map((row) => {
      const tr = document.createElement("tr");
      for (const v of row)
        tr.append(Object.assign(document.createElement("td"), { textContent: v === null ? "NULL" : String(v) }));
      return tr;
    });
    $("rows")
      .querySelector("tbody")!
      .replaceChildren(...rows);
    const pages = Math.max(1, Math.ceil(r.rows.length / PAGE));
    $("page").textContent = ` page ${this.page + 1} of ${pages} `;
  }

  /** The result's positions on the sky (when it has RA and Dec columns). */
  private sky(): void {
    const host = $("sky-plot");
    const r = this.result!;
    const pos = positionColumns(r.columns.map((c) => c.name));
    if (pos === null) {
      host.replaceChildren();
      return;
    }
    const w = 480;
    const p = skyProjection(w);
    const f = frame(p);
    const svg = svgEl("svg", { viewBox: `0 0 ${w} ${w / 2}`, class: "sky scatter" });
    svg.append(svgEl("path", { d: f.sphere, class: "sphere" }), svgEl("path", { d: f.graticule, class: "graticule" }));
    const g = svgEl("g", {});
    for (const row of r.rows) {
      const ra = Number(row[pos[0]]);
      const dec = Number(row[pos[1]]);
      if (!Number.isFinite(ra) || !Number.isFinite(dec)) continue;
      const xy = p([lonOf(ra), dec]);
      if (xy !== null)
        g.append(svgEl("circle", { cx: xy[0].toFixed(1), cy: xy[1].toFixed(1), r: 1.5, class: "point" }));
    }
    svg.append(g);
    const title = document.createElement("h3");
    title.textContent = `${g.childElementCount} positions (${r.columns[pos[0]]!.name}, ${r.columns[pos[1]]!.name})`;
    host.replaceChildren(title, svg);
  }

  private histogram(): void {
    const host = $("histogram");
    const r = this.result;
    const col = Number(($("hist-col") as HTMLSelectElement).value);
    const values =
      r === null || ($("hist-col") as HTMLSelectElement).value === ""
        ? []
        : r.rows.map((row) => Number(row[col])).filter(Number.isFinite);
    if (values.length === 0) {
      host.replaceChildren();
      return;
    }
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const bins = 30;
    const counts = new Array<number>(bins).fill(0);
    for (const v of values) counts[hi === lo ? 0 : Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]!++;
    const max = Math.max(...counts);
    const W = 480;
    const H = 200;
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H + 20}`);
    svg.setAttribute("class", "histogram");
    counts.forEach((n, i) => {
      const h = (n / max) * H;
      svg.append(svgEl("rect", { x: (i * W) / bins + 1, y: H - h, width: W / bins - 2, height: h, class: "bin" }));
    });
    const label = (x: number, text: string, anchor: string) => {
      const t = svgEl("text", { x, y: H + 15, "text-anchor": anchor });
      t.textContent = text;
      svg.append(t);
    };
    label(0, String(lo), "start");
    label(W, String(hi), "end");
    const title = document.createElement("h3");
    title.textContent = `histogram of ${r!.columns[col]!.name} (${values.length} values, 30 bins, highest ${max})`;
    host.replaceChildren(title, svg);
  }
}
