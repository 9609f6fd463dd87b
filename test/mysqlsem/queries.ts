/**
 * The differential queries, by topic: each is asked of MariaDB and of mini-qserv (database
 * msem, table Object of catalog.ts) and the answers compared. `ordered` queries have an ORDER BY
 * that is total (ties broken by objectId, or one row per group): there the order is compared too.
 */
export interface DiffQuery {
  sql: string;
  ordered: boolean;
}

const q = (sql: string): DiffQuery => ({ sql, ordered: false });
const o = (sql: string): DiffQuery => ({ sql, ordered: true });

export const QUERIES: Record<string, DiffQuery[]> = {
  basics: [
    q("SELECT objectId, ra, decl, name, spType, vMag, flags, nObs FROM Object"),
    q("SELECT COUNT(*) FROM Object"),
    q("SELECT COUNT(*), COUNT(name), COUNT(vMag), COUNT(spType) FROM Object"),
    q("SELECT objectId FROM Object WHERE decl > 0 AND ra < 30"),
    o("SELECT objectId, vMag FROM Object ORDER BY vMag, objectId"),
    o("SELECT objectId, vMag FROM Object ORDER BY vMag DESC, objectId LIMIT 20"),
    o("SELECT objectId FROM Object ORDER BY objectId LIMIT 5 OFFSET 3"),
    q("SELECT objectId FROM Object WHERE name IS NULL"),
    q("SELECT objectId FROM Object WHERE vMag IS NOT NULL AND vMag < 3"),
    q("SELECT IFNULL(name, 'none'), COALESCE(vMag, 0) FROM Object WHERE objectId < 1100"),
    q("SELECT name <=> NULL, vMag <=> NULL FROM Object WHERE objectId < 1100"),
    q("SELECT nope FROM Object"),
    q("SELECT COUNT(*) FROM NoSuchTable"),
    q("SELECT objectId FROM Object WHERE"),
  ],
  collation: [
    q("SELECT spType, COUNT(*) FROM Object GROUP BY spType"),
    o("SELECT spType, COUNT(*) FROM Object GROUP BY spType ORDER BY spType"),
    o("SELECT spType, COUNT(*) AS n FROM Object GROUP BY spType ORDER BY n DESC, spType"),
    q("SELECT name, COUNT(*) FROM Object GROUP BY name"),
    o("SELECT name, COUNT(*), MIN(objectId) FROM Object GROUP BY name ORDER BY MIN(objectId)"),
    q("SELECT DISTINCT spType FROM Object"),
    q("SELECT DISTINCT name FROM Object"),
    q("SELECT DISTINCT UPPER(spType) FROM Object"),
    q("SELECT COUNT(DISTINCT spType) FROM Object"),
    q("SELECT COUNT(DISTINCT name) FROM Object"),
    q("SELECT COUNT(DISTINCT name), COUNT(DISTINCT spType) FROM Object WHERE decl > 0"),
    q("SELECT MIN(spType), MAX(spType) FROM Object"),
    q("SELECT MIN(name), MAX(name) FROM Object"),
    q("SELECT MIN(name), MAX(name) FROM Object WHERE decl < 0"),
    o("SELECT spType, MIN(name), MAX(name) FROM Object GROUP BY spType ORDER BY spType"),
    o("SELECT objectId, spType FROM Object ORDER BY spType, objectId"),
    o("SELECT objectId, name FROM Object ORDER BY name DESC, objectId LIMIT 30"),
    o("SELECT objectId, name FROM Object WHERE name IS NOT NULL ORDER BY name, objectId LIMIT 40"),
    q("SELECT objectId FROM Object WHERE spType = 'g2v'"),
    q("SELECT objectId FROM Object WHERE spType = 'SD'"),
    q("SELECT objectId FROM Object WHERE name = 'vega'"),
    q("SELECT objectId FROM Object WHERE name = 'Vega'"),
    q("SELECT objectId FROM Object WHERE name = 'Vega      '"),
    q("SELECT objectId FROM Object WHERE name = 'VÉGA'"),
    q("SELECT objectId FROM Object WHERE name = 'vega' OR name = 'MULLER'"),
    q("SELECT objectId FROM Object WHERE name = 'straße'"),
    q("SELECT objectId FROM Object WHERE name <> 'vega'"),
    q("SELECT objectId FROM Object WHERE name < 'M'"),
    q("SELECT objectId FROM Object WHERE name >= 'sirius'"),
    q("SELECT objectId FROM Object WHERE spType IN ('sd', 'k0iii')"),
    q("SELECT objectId FROM Object WHERE spType NOT IN ('sd', 'k0iii', 'm')"),
    q("SELECT objectId FROM Object WHERE spType BETWEEN 'a' AND 'h'"),
    q("SELECT objectId FROM Object WHERE name LIKE 've%'"),
    q("SELECT objectId FROM Object WHERE name LIKE 'vé%'"),
    q("SELECT objectId FROM Object WHERE name LIKE '%ER'"),
    q("SELECT objectId, CASE spType WHEN 'sd' THEN 1 WHEN 'g2v' THEN 2 ELSE 0 END FROM Object"),
    q("SELECT spType, COUNT(*) AS n FROM Object GROUP BY spType HAVING n > 40"),
    q("SELECT spType, COUNT(*) FROM Object WHERE decl > 0 GROUP BY 1"),
    q("SELECT spType, name, COUNT(*) FROM Object GROUP BY spType, name"),
    q("SELECT 'Vega   ' = 'Vega', 'a' = 'A', 'é' = 'E', 'ß' = 's', 'a' < 'B'"),
    q("SELECT 'Vega' = 'Vega   ', 'Vega ' < 'Vega', 'abc' LIKE 'ABC'"),
  ],
  caseMapping: [
    q("SELECT UPPER(name), LOWER(name) FROM Object WHERE name IS NOT NULL"),
    q("SELECT UPPER('éßa'), LOWER('ÉÀÆ'), UCASE('ångström'), LCASE('ÅNGSTRÖM')"),
    q("SELECT LENGTH(name), CHAR_LENGTH(name) FROM Object WHERE name IS NOT NULL"),
    q("SELECT CONCAT('[', name, ']') FROM Object WHERE name IS NOT NULL"),
    q("SELECT objectId FROM Object WHERE UPPER(name) = 'VÉGA'"),
  ],
  integers: [
    q("SELECT objectId, ~flags FROM Object WHERE objectId < 1200"),
    q("SELECT ~0, ~1, ~flags FROM Object WHERE flags = 0 LIMIT 1"),
    q("SELECT (1<<62)+(1<<62)-1"),
    q("SELECT (1<<62)+(1<<62)"),
    q("SELECT 9223372036854775807 + 1"),
    q("SELECT -9223372036854775807 - 2"),
    q("SELECT objectId * 10 FROM Object"),
    q("SELECT objectId * 10 FROM Object WHERE objectId < 100000"),
    q("SELECT objectId + 1, objectId - 1 FROM Object WHERE objectId > 9007199254740992"),
    q("SELECT objectId FROM Object WHERE objectId = 9007199254740993"),
    q("SELECT objectId FROM Object WHERE objectId > 9007199254740993"),
    q("SELECT MIN(objectId), MAX(objectId) FROM Object"),
    q("SELECT SUM(objectId) FROM Object"),
    q("SELECT AVG(objectId) FROM Object"),
    q("SELECT SUM(objectId) FROM Object WHERE objectId < 100000"),
    q("SELECT SUM(nObs), AVG(nObs) FROM Object"),
    q("SELECT spType, SUM(nObs), AVG(nObs) FROM Object GROUP BY spType"),
    q("SELECT SUM(flags), AVG(flags) FROM Object"),
    q("SELECT flags & 255, flags | 1, flags ^ 3, flags >> 2, flags << 1 FROM Object"),
    q("SELECT objectId, flags FROM Object WHERE flags & 4 <> 0"),
    q("SELECT -1 << 1, 1 << 63, -1 >> 1, 5 & -1"),
    q("SELECT -objectId FROM Object WHERE objectId > 9007199254740992"),
    q("SELECT objectId DIV 7, objectId MOD 7 FROM Object"),
    q("SELECT nObs - 100, nObs * nObs, nObs DIV 3, nObs % 7 FROM Object"),
    q("SELECT CAST(flags AS UNSIGNED), CAST(-1 AS UNSIGNED), CAST(nObs AS SIGNED) FROM Object WHERE objectId < 1100"),
    q("SELECT COUNT(*), SUM(nObs), MAX(flags) FROM Object GROUP BY spType"),
    q("SELECT ABS(-9223372036854775807), 9223372036854775807 DIV 2"),
  ],
  numbers: [
    q("SELECT CONCAT(objectId, ':', vMag) FROM Object"),
    q("SELECT CONCAT(ra, ',', decl) FROM Object"),
    q("SELECT CONCAT(nObs, '') FROM Object"),
    q("SELECT CAST(vMag AS CHAR), CAST(nObs AS CHAR) FROM Object"),
    q("SELECT CAST(1/3 AS CHAR), CAST(0.1 + 0.2 AS CHAR), CAST(1e0/3 AS CHAR)"),
    q("SELECT FLOOR(vMag), CEILING(vMag), CEIL(vMag) FROM Object"),
    q("SELECT ROUND(vMag), ROUND(vMag, 1), ROUND(vMag, 4), TRUNCATE(vMag, 2) FROM Object"),
    q("SELECT FLOOR(ra), ROUND(decl, 2) FROM Object"),
    q("SELECT FLOOR(1.5), ROUND(2.5), ROUND(1.23456, 4), ROUND(-2.5), TRUNCATE(1.999, 1)"),
    q("SELECT nObs / 3, nObs / 4 FROM Object"),
    q("SELECT 1/3, 7/2, 1/7, 10/5, 2/3*3"),
    q("SELECT AVG(nObs) FROM Object"),
    q("SELECT AVG(nObs), spType FROM Object GROUP BY spType"),
    q("SELECT PI(), PI() * 2, SQRT(2), EXP(1), LN(10), LOG10(2), POW(2, 0.5)"),
    q("SELECT PI() * vMag FROM Object"),
    q("SELECT 0x10, 0x41, HEX(0x41)"),
    q("SELECT ra + decl, ra * 2, vMag - 1 FROM Object"),
    q("SELECT 0.1 + 0.2, 1e0 / 3, 1.5 * 2, 1e1, 2e-3, 1.0"),
    q("SELECT SUM(vMag), AVG(vMag), MIN(vMag), MAX(vMag) FROM Object"),
    q("SELECT spType, AVG(ra), SUM(decl) FROM Object GROUP BY spType"),
    q("SELECT ROUND(AVG(vMag), 2) FROM Object"),
    q("SELECT ABS(decl), SIGN(decl) FROM Object"),
    q("SELECT vMag * 1000000000000, vMag / 1e10, vMag * 1e-10 FROM Object"),
    q("SELECT CAST(vMag AS DECIMAL(6, 2)) FROM Object"),
    q("SELECT ra / decl FROM Object"),
    q("SELECT 1e300 * 10"),
    q("SELECT 1 / 0, nObs / 0 FROM Object WHERE objectId < 1100"),
  ],
  columnNames: [
    q("SELECT +vMag FROM Object"),
    q("SELECT vMag AS m, -vMag, (vMag), objectId + 0 FROM Object"),
    q("SELECT Object.objectId, o.name FROM Object o"),
    q("SELECT COUNT(*) AS n, count(*) FROM Object"),
    q("SELECT `vMag`, VMAG FROM Object"),
    q("SELECT ra  +  decl FROM Object"),
    q("SELECT sum( vMag ) FROM Object"),
    q("SELECT 'x', 1, 1.5, NULL FROM Object WHERE objectId = 1000"),
  ],
};

/** Families of queries, generated: each text comparison, each grouping, each sort. */
const TEXT_LITERALS = [
  "'vega'",
  "'VEGA '",
  "'véga'",
  "'müller'",
  "'MULLER'",
  "'sd'",
  "'g2v'",
  "'ærø'",
  "'straße'",
  "'zeta'",
];
const COMPARISONS = ["=", "<>", "<", ">=", "<=>"];

QUERIES.textComparisons = COMPARISONS.flatMap((op) =>
  TEXT_LITERALS.map((lit) => q(`SELECT objectId FROM Object WHERE ${lit.length > 6 ? "name" : "spType"} ${op} ${lit}`)),
);

const GROUP_KEYS = ["spType", "name", "UPPER(spType)", "LOWER(name)", "spType, name"];
const GROUP_AGGREGATES = [
  "COUNT(*)",
  "MIN(name)",
  "MAX(spType)",
  "COUNT(DISTINCT name)",
  "SUM(nObs)",
  "AVG(nObs)",
  "AVG(vMag)",
  "MIN(objectId)",
  "SUM(objectId)",
];
QUERIES.grouping = GROUP_KEYS.flatMap((k) =>
  GROUP_AGGREGATES.map((agg) => q(`SELECT ${k}, ${agg} FROM Object GROUP BY ${k}`)),
);

const SORT_KEYS = ["name", "spType", "vMag", "flags", "nObs", "UPPER(name)", "LOWER(spType)", "ra"];
QUERIES.sorting = SORT_KEYS.flatMap((k) => [
  o(`SELECT objectId, ${k} FROM Object ORDER BY ${k}, objectId LIMIT 25`),
  o(`SELECT objectId, ${k} FROM Object ORDER BY ${k} DESC, objectId DESC LIMIT 25`),
  o(`SELECT objectId, ${k} FROM Object WHERE decl > 10 ORDER BY ${k}, objectId`),
]);

const NUMERIC_EXPRESSIONS = [
  "vMag",
  "vMag * 2",
  "vMag / 3",
  "nObs / 3",
  "nObs * 1.5",
  "nObs + 0.25",
  "nObs - vMag",
  "ROUND(vMag, 2)",
  "ROUND(nObs / 7, 2)",
  "TRUNCATE(ra, 3)",
  "FLOOR(decl)",
  "CEILING(decl)",
  "ABS(decl)",
  "SQRT(nObs)",
  "POW(vMag, 2)",
  "ra * decl",
  "ra / 7",
  "MOD(nObs, 7)",
  "nObs DIV 7",
  "objectId MOD 1000",
  "objectId DIV 1000",
  "flags >> 40",
  "flags & 7",
  "flags | 8",
  "~nObs",
  "-nObs",
  "CAST(vMag AS SIGNED)",
  "CAST(nObs AS DECIMAL(10, 3))",
  "CAST(ra AS CHAR)",
  "CONCAT(nObs / 3)",
  "CONCAT(vMag * 10)",
  "IFNULL(vMag, nObs)",
  "COALESCE(vMag, -1)",
  "CASE WHEN vMag > 10 THEN vMag ELSE nObs END",
  "GREATEST(nObs, 50)",
  "LEAST(ra, 30)",
];
QUERIES.expressions = NUMERIC_EXPRESSIONS.flatMap((e) => [
  q(`SELECT objectId, ${e} FROM Object`),
  q(`SELECT MIN(${e}), MAX(${e}), SUM(${e}), COUNT(${e}) FROM Object`),
]);

QUERIES.textFunctions = [
  "SUBSTRING(name, 2, 3)",
  "LEFT(name, 2)",
  "RIGHT(name, 3)",
  "TRIM(name)",
  "RTRIM(name)",
  "LENGTH(name)",
  "CHAR_LENGTH(name)",
  "REPLACE(name, 'a', 'o')",
  "CONCAT(name, spType)",
  "CONCAT_WS('/', name, spType)",
  "LOCATE('e', name)",
  "INSTR(name, 'E')",
  "HEX(name)",
  "UPPER(name) = LOWER(name)",
  "name LIKE '%a%'",
  "name LIKE '_e%'",
  "spType LIKE 's_'",
  "name IN ('vega', 'sirius')",
  "name BETWEEN 'a' AND 'n'",
  "NULLIF(name, 'VEGA')",
].map((e) => q(`SELECT objectId, ${e} FROM Object`));

/** Every query with its topic. */
export function allQueries(): Array<DiffQuery & { topic: string }> {
  return Object.entries(QUERIES).flatMap(([topic, qs]) => qs.map((x) => ({ ...x, topic })));
}
