/**
 * `/tap/examples`: DALI examples (XHTML with RDFa `vocab`/`property` attributes), real queries
 * made from the loaded catalogs' metadata: per director table a cone search and a box count on
 * its position columns, per child table a light curve (its rows joined to the director's in a
 * cone), and a TAP_SCHEMA query.
 */
import type { TableConfig } from "../../common/ingestConfig.js";
import type { CzarCatalog, TableMeta } from "../../czar/catalog.js";
import { element, xmlEscape } from "./xml.js";

export interface Example {
  id: string;
  name: string;
  description: string;
  query: string;
  tables: string[];
}

/** Where the examples look: a point and radius (deg) that a full-sky catalog has rows in. */
const RA = 30;
const DEC = 10;
const RADIUS = 10;

const positioned = (m: TableMeta) =>
  m.kind === "director" && m.config.longitudeKey !== "" && m.config.latitudeKey !== "";

/** Up to two columns of a child table to show per row: times and fluxes first (by UCD), else the first others. */
function shown(c: TableConfig): string[] {
  const skip = new Set([c.directorKey, "chunkId", "subChunkId"]);
  const cols = c.schema.filter((x) => !skip.has(x.name));
  const byUcd = (p: string) => cols.filter((x) => x.ucd?.startsWith(p)).map((x) => x.name);
  const pick = [...byUcd("time"), ...byUcd("phot.flux")].slice(0, 2);
  return pick.length > 0 ? pick : cols.slice(0, 2).map((x) => x.name);
}

export function examples(catalog: CzarCatalog): Example[] {
  const out: Example[] = [];
  for (const db of catalog.databases()) {
    const tables = catalog.tables(db.database);
    for (const t of tables.filter(positioned)) {
      const { longitudeKey: lon, latitudeKey: lat, directorKey: key } = t.config;
      const name = `${db.database}.${t.name}`;
      const point = `POINT('ICRS', ${lon}, ${lat})`;
      out.push({
        id: `cone-${db.database}-${t.name}`,
        name: `Cone search in ${name}`,
        description: `The ${name} rows within ${RADIUS} degrees of (${RA}, ${DEC}), nearest first; only the chunks meeting the circle are asked.`,
        query: `SELECT TOP 100 ${key}, ${lon}, ${lat}, DISTANCE(${point}, POINT('ICRS', ${RA}, ${DEC})) AS dist\nFROM ${name}\nWHERE CONTAINS(${point}, CIRCLE('ICRS', ${RA}, ${DEC}, ${RADIUS})) = 1\nORDER BY dist`,
        tables: [name],
      });
      out.push({
        id: `box-${db.database}-${t.name}`,
        name: `Rows of ${name} in a box`,
        description: `How many ${name} rows lie in a ${2 * RADIUS} by ${2 * RADIUS} degree box centred on (${RA}, ${DEC}).`,
        query: `SELECT COUNT(*) AS n\nFROM ${name}\nWHERE CONTAINS(${point}, BOX('ICRS', ${RA}, ${DEC}, ${2 * RADIUS}, ${2 * RADIUS})) = 1`,
        tables: [name],
      });
      for (const c of tables.filter((x) => x.kind === "child" && x.config.directorTable === t.name)) {
        const child = `${db.database}.${c.name}`;
        const cols = shown(c.config).map((x) => `s.${x}`);
        out.push({
          id: `lightcurve-${db.database}-${c.name}`,
          name: `Light curves from ${child}`,
          description: `The ${child} rows of the ${name} objects in a cone, joined on ${c.config.directorKey}.`,
          query: `SELECT TOP 100 o.${key} AS o_${key}, ${cols.join(", ")}\nFROM ${name} AS o\nJOIN ${child} AS s ON s.${c.config.directorKey} = o.${key}\nWHERE CONTAINS(POINT('ICRS', o.${lon}, o.${lat}), CIRCLE('ICRS', ${RA}, ${DEC}, ${RADIUS})) = 1\nORDER BY o_${key}`,
          tables: [name, child],
        });
      }
    }
  }
  out.push({
    id: "tap-schema-tables",
    name: "The tables of this service",
    description: "Every table TAP_SCHEMA lists, with its description.",
    query: "SELECT table_name, table_type, description\nFROM TAP_SCHEMA.tables\nORDER BY table_name",
    tables: ["TAP_SCHEMA.tables"],
  });
  return out;
}

export function examplesDocument(catalog: CzarCatalog): string {
  const divs = examples(catalog).map(
    (e) => `<div typeof="example" id="${xmlEscape(e.id)}" resource="#${xmlEscape(e.id)}">
${element("h2", e.name, { property: "name" })}
${element("p", e.description)}
${element("pre", e.query, { class: "dali-example-query", property: "query" })}
<p>Tables: ${e.tables.map((t) => element("span", t, { property: "table" })).join(", ")}</p>
</div>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml">
<head><title>mini-qserv TAP examples</title></head>
<body vocab="http://www.ivoa.net/rdf/examples#">
<h1>Example queries</h1>
${divs.join("\n")}
</body>
</html>
`;
}
