/** VOSI documents: /tap/tables (VODataService tableset), /tap/capabilities (TAPRegExt), /tap/availability. */
import type { CzarCatalog } from "../../czar/catalog.js";
import { MAX_BODY } from "../http/requestBody.js";
import { tapTables } from "./tapSchema.js";
import { DEFAULT_DESTRUCTION_S, DEFAULT_EXECUTION_S, MAX_EXECUTION_S } from "./uwsJobs.js";
import { attrs, element } from "./xml.js";

const XML = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** Output rows: MAXREC when none is asked for, and the most a sync query returns. */
export const DEFAULT_MAXREC = 100_000;
export const HARD_MAXREC = 1_000_000;

export function tablesDocument(catalog: CzarCatalog): string {
  const schemas = [...tapTables(catalog)].map(([schema, tables]) => {
    const ts = tables.map((t) => {
      const cols = t.columns.map((c) => {
        const flags = [c.indexed ? "indexed" : "", c.principal ? "principal" : "", c.std ? "std" : ""]
          .filter((f) => f !== "")
          .map((f) => element("flag", f))
          .join("");
        const type = element("dataType", c.datatype, {
          "xsi:type": "vs:VOTableType",
          arraysize: c.arraysize,
          extendedType: c.xtype,
        });
        return `<column>${element("name", c.name)}${c.description ? element("description", c.description) : ""}${c.unit ? element("unit", c.unit) : ""}${c.ucd ? element("ucd", c.ucd) : ""}${type}${flags}</column>`;
      });
      const keys = t.keys.map(
        (k) =>
          `<foreignKey>${element("targetTable", k.target)}<fkColumn>${element("fromColumn", k.from)}${element("targetColumn", k.to)}</fkColumn></foreignKey>`,
      );
      const desc = t.description ? element("description", t.description) : "";
      return `<table type="table">${element("name", t.name)}${desc}\n${cols.join("\n")}\n${keys.join("\n")}</table>`;
    });
    return `<schema>${element("name", schema)}\n${ts.join("\n")}\n</schema>`;
  });
  return `${XML}<vosi:tableset xmlns:vosi="http://www.ivoa.net/xml/VOSITables/v1.0" xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n${schemas.join("\n")}\n</vosi:tableset>\n`;
}

export function availabilityDocument(): string {
  return `${XML}<vosi:availability xmlns:vosi="http://www.ivoa.net/xml/VOSIAvailability/v1.0"><vosi:available>true</vosi:available><vosi:note>service is accepting queries</vosi:note></vosi:availability>\n`;
}

const FORMATS: Array<[string, string, string]> = [
  ["application/x-votable+xml;serialization=BINARY2", "ivo://ivoa.net/std/TAPRegExt#output-votable-binary2", "votable"],
  ["application/x-votable+xml;serialization=TABLEDATA", "ivo://ivoa.net/std/TAPRegExt#output-votable-td", "votable/td"],
  ["text/csv;header=present", "", "csv"],
  ["text/tab-separated-values", "", "tsv"],
  ["application/json", "", "json"],
];

const GEOMETRY = ["POINT", "CIRCLE", "BOX", "POLYGON", "CONTAINS", "INTERSECTS", "DISTANCE", "COORD1", "COORD2"];

/** `base`: the service URL, e.g. http://127.0.0.1:4048/tap. */
export function capabilitiesDocument(base: string): string {
  const vosi = (what: string) =>
    `<capability standardID="ivo://ivoa.net/std/VOSI#${what}"><interface xsi:type="vs:ParamHTTP">${element("accessURL", `${base}/${what}`, { use: "full" })}</interface></capability>`;
  const formats = FORMATS.map(
    ([mime, id, alias]) =>
      `<outputFormat${attrs({ "ivo-id": id })}>${element("mime", mime)}${element("alias", alias)}</outputFormat>`,
  ).join("\n");
  const geo = GEOMETRY.map((g) => `<feature>${element("form", g)}</feature>`).join("");
  const tap = `<capability standardID="ivo://ivoa.net/std/TAP" xsi:type="tr:TableAccess">
<interface xsi:type="vs:ParamHTTP" role="std" version="1.1">${element("accessURL", base, { use: "base" })}</interface>
<language>${element("name", "ADQL")}${element("version", "2.0", { "ivo-id": "ivo://ivoa.net/std/ADQL#v2.0" })}${element("description", "ADQL 2.0, translated to Qserv SQL (regions restrict the chunks asked)")}
<languageFeatures type="ivo://ivoa.net/std/TAPRegExt#features-adqlgeo">${geo}</languageFeatures>
</language>
${formats}
<uploadMethod ivo-id="ivo://ivoa.net/std/TAPRegExt#upload-inline"/>
<uploadMethod ivo-id="ivo://ivoa.net/std/TAPRegExt#upload-http"/>
<uploadMethod ivo-id="ivo://ivoa.net/std/TAPRegExt#upload-https"/>
<retentionPeriod>${element("default", DEFAULT_DESTRUCTION_S)}</retentionPeriod>
<executionDuration>${element("default", DEFAULT_EXECUTION_S)}${element("hard", MAX_EXECUTION_S)}</executionDuration>
<outputLimit>${element("default", DEFAULT_MAXREC, { unit: "row" })}${element("hard", HARD_MAXREC, { unit: "row" })}</outputLimit>
<uploadLimit>${element("hard", MAX_BODY, { unit: "byte" })}</uploadLimit>
</capability>`;
  return `${XML}<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1" xmlns:vr="http://www.ivoa.net/xml/VOResource/v1.0" xmlns:tr="http://www.ivoa.net/xml/TAPRegExt/v1.0">
${tap}
${vosi("capabilities")}
${vosi("availability")}
${vosi("tables")}
<capability standardID="ivo://ivoa.net/std/DALI#examples"><interface xsi:type="vr:WebBrowser">${element("accessURL", `${base}/examples`, { use: "full" })}</interface></capability>
</vosi:capabilities>\n`;
}
