/** The sky map: every chunk of a database on the sky, coloured by live replicas, rows or worker. */
import { geoPath } from "d3-geo";
import type { ChunkCell, ChunkMap } from "../src/frontends/web/apiTypes.js";
import { getJson } from "./api.js";
import { boxPolygon, CATEGORICAL, frame, raOf, separation, sequential, skyProjection, svgEl } from "./sky.js";

export type Colouring = "replicas" | "rows" | "worker";

const WIDTH = 960;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** A chunk's replica state: all live, fewer than the target (under), or none live (lost). */
export const replicaState = (c: ChunkCell, target: number) =>
  c.live.length === 0 ? "lost" : c.live.length < target ? "under" : "ok";
const REPLICA_COLOURS: Record<string, string> = { ok: "#4daf4a", under: "#ff7f00", lost: "#e41a1c" };

export class SkyMap {
  private data: ChunkMap | null = null;
  private colouring: Colouring = "replicas";
  private readonly projection = skyProjection(WIDTH);
  private readonly svg: SVGSVGElement;
  private readonly cells: SVGGElement;
  private readonly drawn: SVGGElement;
  /** The director table a drawn region selects from. */
  director = "Object";
  /** Workers in a stable order, for their colours. */
  private workerOrder: string[] = [];

  constructor(
    host: HTMLElement,
    /** A region drawn on the map, as the SQL that selects it. */
    private readonly onRegion: (sql: string) => void,
  ) {
    this.svg = svgEl("svg", { viewBox: `0 0 ${WIDTH} ${WIDTH / 2}`, class: "sky" });
    const f = frame(this.projection);
    this.svg.append(svgEl("path", { d: f.sphere, class: "sphere" }));
    this.cells = svgEl("g", {});
    this.svg.append(this.cells, svgEl("path", { d: f.graticule, class: "graticule" }));
    this.drawn = svgEl("g", { class: "drawn" });
    this.svg.append(this.drawn);
    host.append(this.svg);
    this.hover();
    this.drawing();
  }

  async load(database: string): Promise<void> {
    this.data = await getJson<ChunkMap>(`/chunks?database=${encodeURIComponent(database)}`);
    for (const c of this.data.chunks)
      for (const w of c.workers) if (!this.workerOrder.includes(w)) this.workerOrder.push(w);
    this.workerOrder.sort();
    this.render();
  }

  get chunks(): ChunkCell[] {
    return this.data?.chunks ?? [];
  }

  colourBy(c: Colouring): void {
    this.colouring = c;
    this.render();
  }

  private colour(c: ChunkCell, maxRows: number): string {
    if (this.colouring === "replicas") return REPLICA_COLOURS[replicaState(c, this.data?.target ?? 1)]!;
    if (this.colouring === "rows") {
      const n = Object.values(c.rows).reduce((a, b) => a + b, 0);
      return sequential(Math.log1p(n) / Math.log1p(maxRows || 1));
    }
    const w = c.live[0] ?? c.workers[0];
    return w === undefined ? "#ccc" : CATEGORICAL[this.workerOrder.indexOf(w) % CATEGORICAL.length]!;
  }

  private render(): void {
    const d = this.data;
    if (d === null) return;
    const path = geoPath(this.projection);
    const maxRows = Math.max(0, ...d.chunks.map((c) => Object.values(c.rows).reduce((a, b) => a + b, 0)));
    this.cells.replaceChildren(
      ...d.chunks.map((c) =>
        svgEl("path", {
          d: path(boxPolygon(c.ra[0], c.ra[1], c.dec[0], c.dec[1])) ?? "",
          class: `chunk ${replicaState(c, d.target)}`,
          fill: this.colour(c, maxRows),
          "data-chunk": c.id,
        }),
      ),
    );
    const counts = { ok: 0, under: 0, lost: 0 };
    for (const c of d.chunks) counts[replicaState(c, d.target)]++;
    $("map-summary").textContent =
      `${d.chunks.length} chunks · ${counts.under} under-replicated · ${counts.lost} without a live replica (target ${d.target})`;
    this.legend(maxRows);
  }

  private legend(maxRows: number): void {
    const items: Array<[string, string]> =
      this.colouring === "replicas"
        ? [
            [REPLICA_COLOURS.ok!, "all replicas live"],
            [REPLICA_COLOURS.under!, "under-replicated"],
            [REPLICA_COLOURS.lost!, "no live replica"],
          ]
        : this.colouring === "rows"
          ? [0, 0.5, 1].map((t) => [sequential(t), `${Math.round(Math.expm1(t * Math.log1p(maxRows)))} rows`])
          : this.workerOrder.map((w, i) => [CATEGORICAL[i % CATEGORICAL.length]!, w]);
    $("map-legend").replaceChildren(
      ...items.map(([colour, label]) => {
        const s = document.createElement("span");
        s.innerHTML = `<i style="background:${colour}"></i>`;
        s.append(label);
        return s;
      }),
    );
  }

  private hover(): void {
    const tip = $("tooltip");
    this.svg.addEventListener("mousemove", (e) => {
      const id = (e.target as Element).getAttribute("data-chunk");
      const c = id === null ? undefined : this.chunks.find((x) => x.id === Number(id));
      if (c === undefined) {
        tip.hidden = true;
        return;
      }
      const rows = Object.entries(c.rows)
        .map(([t, n]) => `${t}: ${n}`)
        .join("<br>");
      const workers = c.workers.map((w) => (c.live.includes(w) ? w : `<s>${w}</s>`)).join(", ");
      tip.innerHTML = `<b>chunk ${c.id}</b><br>RA ${c.ra[0].toFixed(1)}…${c.ra[1].toFixed(1)}, Dec ${c.dec[0].toFixed(1)}…${c.dec[1].toFixed(1)}<br>${rows}<br>workers: ${workers || "none"}`;
      tip.hidden = false;
      tip.style.left = `${e.pageX + 12}px`;
      tip.style.top = `${e.pageY + 12}px`;
    });
    this.svg.addEventListener("mouseleave", () => {
      tip.hidden = true;
    });
  }

  /** Where a mouse event falls on the sky (RA, Dec in degrees), or null off the sphere. */
  private skyAt(e: MouseEvent): [number, number] | null {
    const r = this.svg.getBoundingClientRect();
    const x = ((e.clientX - r.left) / r.width) * WIDTH;
    const y = ((e.clientY - r.top) / r.height) * (WIDTH / 2);
    const ll = this.projection.invert?.([x, y]);
    if (ll == null || !Number.isFinite(ll[0]) || !Number.isFinite(ll[1])) return null;
    const back = this.projection(ll);
    if (back === null || Math.hypot(back[0] - x, back[1] - y) > 1) return null;
    return [raOf(ll[0]), ll[1]];
  }

  /** Dragging draws a box (corner to corner) or a cone (centre to edge); letting go makes it a query. */
  private drawing(): void {
    let start: [number, number] | null = null;
    let region: string | null = null;
    this.svg.addEventListener("mousedown", (e) => {
      start = this.skyAt(e);
      e.preventDefault();
    });
    this.svg.addEventListener("mousemove", (e) => {
      const end = start === null ? null : this.skyAt(e);
      if (start === null || end === null) return;
      const path = geoPath(this.projection);
      const mode = ($("map-draw") as HTMLSelectElement).value;
      const f = (x: number) => Number(x.toFixed(3));
      let shape: GeoJSON.Geometry;
      if (mode === "cone") {
        const radius = separation(start[0], start[1], end[0], end[1]);
        region = `qserv_areaspec_circle(${f(start[0])}, ${f(start[1])}, ${f(radius)})`;
        const ring: Array<[number, number]> = [];
        for (let k = 0; k <= 64; k++) {
          // A small circle about the centre, traced by bearing.
          const b = (k / 64) * 2 * Math.PI;
          const [ra0, dec0, r] = [start[0], start[1], radius].map((v) => (v * Math.PI) / 180) as [
            number,
            number,
            number,
          ];
          const dec = Math.asin(Math.sin(dec0) * Math.cos(r) + Math.cos(dec0) * Math.sin(r) * Math.cos(b));
          const ra =
            ra0 + Math.atan2(Math.sin(b) * Math.sin(r) * Math.cos(dec0), Math.cos(r) - Math.sin(dec0) * Math.sin(dec));
          ring.push([(ra * 180) / Math.PI - 180, (dec * 180) / Math.PI]);
        }
        shape = { type: "Polygon", coordinates: [ring.reverse()] };
      } else {
        const [ra0, ra1] = [Math.min(start[0], end[0]), Math.max(start[0], end[0])];
        const [dec0, dec1] = [Math.min(start[1], end[1]), Math.max(start[1], end[1])];
        region = `qserv_areaspec_box(${f(ra0)}, ${f(dec0)}, ${f(ra1)}, ${f(dec1)})`;
        shape = boxPolygon(ra0, ra1, dec0, dec1);
      }
      this.drawn.replaceChildren(svgEl("path", { d: path(shape) ?? "", class: "region" }));
    });
    this.svg.addEventListener("mouseup", () => {
      if (start !== null && region !== null && this.data !== null) {
        this.onRegion(`SELECT * FROM ${this.director} WHERE ${region} LIMIT 1000`);
      }
      start = null;
      region = null;
    });
  }
}
