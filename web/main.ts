/**
 * The web console's entry: tabs by URL hash, the views fed by the czar's event stream
 * (GET /events: `status` and `query` events), the sky map reloaded when replicas change.
 */
import { ApiError } from "./api.js";
import { Console } from "./console.js";
import { type Colouring, SkyMap } from "./map.js";
import { History, loadHistory, renderIngests, renderRunning, renderWorkers, type Status } from "./views.js";
import "./style.css";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function show(view: string): void {
  for (const s of document.querySelectorAll<HTMLElement>("section.view")) s.hidden = s.id !== `view-${view}`;
  for (const a of document.querySelectorAll<HTMLElement>("nav a"))
    a.classList.toggle("active", a.dataset.view === view);
}

const report = (e: unknown) => {
  const live = $("live");
  live.textContent = e instanceof ApiError ? `${e.body.code}: ${e.body.message}` : String(e);
  live.className = "live failed";
};

const history = new History(report);
const console_ = new Console(() => {});
const map = new SkyMap($("map"), (sql) => {
  console_.set(sql);
  const db = ($("map-db") as HTMLSelectElement).value;
  ($("console-db") as HTMLSelectElement).value = db;
  location.hash = "#console";
});

/** Fills a database select with the names, keeping its choice. */
function databases(id: string, names: string[]): void {
  const sel = $(id) as HTMLSelectElement;
  const had = sel.value;
  const now = [...sel.options].map((o) => o.value);
  if (now.join() === names.join()) return;
  sel.replaceChildren(
    ...names.map((n) => Object.assign(document.createElement("option"), { value: n, textContent: n })),
  );
  if (names.includes(had)) sel.value = had;
}

let last: Status | null = null;
/** What the map depends on: a change reloads it. */
let mapKey = "";

async function reloadMap(): Promise<void> {
  const db = ($("map-db") as HTMLSelectElement).value;
  if (db === "") return;
  const d = last?.databases.find((x) => x.database === db);
  map.director = d?.tables.find((t) => t.kind === "director")?.name ?? "Object";
  await map.load(db);
  if (last !== null) renderWorkers(last, map.chunks);
}

function onStatus(s: Status): void {
  last = s;
  const names = s.databases.map((d) => d.database);
  databases("map-db", names);
  databases("console-db", names);
  const db = ($("map-db") as HTMLSelectElement).value;
  const d = s.databases.find((x) => x.database === db);
  const key = JSON.stringify([
    db,
    d?.snapshot,
    d?.replicas.underReplicated,
    s.workers.map((w) => [w.id, w.up, w.chunks]),
  ]);
  if (key !== mapKey) {
    mapKey = key;
    reloadMap().catch(report);
  }
  renderWorkers(s, map.chunks);
  renderRunning(s, report);
  const ingesting = s.ingests.length;
  renderIngests(s);
  if (ingesting !== lastIngests) {
    lastIngests = ingesting;
    loadHistory().catch(report);
  }
}
let lastIngests = -1;

function connect(): void {
  const es = new EventSource("/events");
  es.addEventListener("open", () => {
    $("live").textContent = "live";
    $("live").className = "live ok";
  });
  es.addEventListener("status", (e) => onStatus(JSON.parse((e as MessageEvent<string>).data) as Status));
  es.addEventListener("query", () => history.ended());
  es.addEventListener("error", () => {
    $("live").textContent = "reconnecting…";
    $("live").className = "live failed";
  });
}

$("map-db").addEventListener("change", () => {
  mapKey = "";
  reloadMap().catch(report);
});
$("map-colour").addEventListener("change", () =>
  map.colourBy(($("map-colour") as HTMLSelectElement).value as Colouring),
);
window.addEventListener("hashchange", () => show(location.hash.slice(1) || "map"));
show(location.hash.slice(1) || "map");
history.load().catch(report);
connect();
