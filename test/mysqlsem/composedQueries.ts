/**
 * Differential queries (see queries.ts) for the functions and aggregates MySQL has and SQLite
 * lacks, and for queries made of queries (subqueries, UNION, derived tables, WITH).
 */
import type { DiffQuery } from "./queries.js";

const q = (sql: string): DiffQuery => ({ sql, ordered: false });
const o = (sql: string): DiffQuery => ({ sql, ordered: true });

export const COMPOSED_QUERIES: Record<string, DiffQuery[]> = {
  stringFunctions: [
    q("SELECT objectId, SUBSTRING_INDEX(name, 'e', 1), SUBSTRING_INDEX(spType, 'V', -1) FROM Object"),
    q(
      "SELECT SUBSTRING_INDEX('www.MySQL.com', '.', 2), SUBSTRING_INDEX('a.b.c', '.', -10), SUBSTRING_INDEX('abc', '', 1)",
    ),
    q("SELECT objectId, LPAD(name, 8, '*'), RPAD(spType, 5, 'xy'), LPAD(name, 2, '?') FROM Object"),
    q("SELECT LPAD('hi', 5, ''), LPAD('hi', -1, 'x'), LPAD(12, 5, 0), RPAD('hé', 4, 'ü')"),
    q("SELECT objectId, REVERSE(name), REVERSE(spType) FROM Object"),
    q("SELECT objectId, BIN(nObs), OCT(nObs), CONV(flags, 10, 16), CONV(objectId, 10, 36) FROM Object"),
    q("SELECT BIN(-1), BIN(12.7), CONV('6E', 18, 8), CONV(-17, 10, -18), CONV('zz', 36, 10), CONV('', 10, 2)"),
    q("SELECT CONV('99999999999999999999', 10, 10), CONV('-1', 10, 16), CONV('12', 1, 2), CONV(-3.7, 10, 10)"),
    q("SELECT objectId, BIT_COUNT(flags), BIT_COUNT(nObs) FROM Object"),
    q("SELECT BIT_COUNT(-1), BIT_COUNT(2.6), BIT_COUNT('3x'), BIT_COUNT(NULL)"),
    q("SELECT objectId, FORMAT(vMag, 2), FORMAT(ra * 1000, 3), FORMAT(objectId, 0) FROM Object"),
    q("SELECT FORMAT(12332.123456, 4), FORMAT(-1234567.891, 2), FORMAT(2.5, 0), FORMAT(2.5e0, 0), FORMAT(123, -2)"),
    q("SELECT objectId, MD5(name), SHA1(spType), SHA2(name, 256), SHA2(name, 384), SHA2(name, 1) FROM Object"),
    q("SELECT objectId FROM Object WHERE name REGEXP '^v'"),
    q("SELECT objectId FROM Object WHERE BINARY name = 'vega'"),
    q("SELECT COUNT(*) FROM Object WHERE BINARY spType = 'SD' OR BINARY(name) = 'Vega   '"),
    q("SELECT BINARY 'a' = 'A', BINARY 'a' = 'a', 'a' = BINARY 'A '"),
    q("SELECT objectId FROM Object WHERE spType RLIKE '[0-9]V$' OR name NOT REGEXP 'e'"),
    q("SELECT objectId, name REGEXP 'GA$', spType REGEXP 'sd' FROM Object"),
  ],
  aggregates: [
    q("SELECT STDDEV(vMag), STD(ra), STDDEV_POP(decl), STDDEV_SAMP(vMag) FROM Object"),
    q("SELECT VARIANCE(vMag), VAR_POP(decl), VAR_SAMP(ra) FROM Object"),
    q("SELECT STDDEV(nObs), VAR_SAMP(nObs), VARIANCE(flags) FROM Object"),
    q("SELECT spType, STDDEV(vMag), VAR_SAMP(nObs), COUNT(*) FROM Object GROUP BY spType"),
    q("SELECT STDDEV_SAMP(vMag), VAR_SAMP(vMag) FROM Object WHERE objectId = 1000"),
    q("SELECT STDDEV(vMag) FROM Object WHERE objectId < 0"),
    q("SELECT BIT_AND(flags), BIT_OR(flags), BIT_XOR(flags) FROM Object"),
    q("SELECT BIT_AND(nObs), BIT_OR(nObs), BIT_XOR(objectId) FROM Object"),
    q("SELECT spType, BIT_OR(nObs), BIT_AND(nObs) FROM Object GROUP BY spType"),
    q("SELECT BIT_AND(flags), BIT_OR(flags) FROM Object WHERE objectId < 0"),
    q(
      "SELECT COUNT(DISTINCT spType, nObs % 3), COUNT(DISTINCT name, spType), COUNT(DISTINCT vMag, spType) FROM Object",
    ),
    q("SELECT nObs % 4 AS k, COUNT(DISTINCT spType, name) FROM Object GROUP BY k"),
  ],
  having: [
    o("SELECT objectId, vMag * 2 AS m FROM Object HAVING m > 10 ORDER BY objectId"),
    q("SELECT objectId, ra AS r FROM Object HAVING r < 100"),
    q("SELECT objectId, name AS n FROM Object HAVING n = 'vega'"),
  ],
  subqueries: [
    q("SELECT objectId FROM Object WHERE vMag > (SELECT AVG(vMag) FROM Object)"),
    q("SELECT objectId, (SELECT MAX(vMag) FROM Object) - vMag FROM Object"),
    q("SELECT (SELECT COUNT(*) FROM Object), (SELECT MIN(name) FROM Object WHERE decl > 0)"),
    q("SELECT objectId FROM Object WHERE objectId IN (SELECT objectId FROM Object WHERE nObs > 5)"),
    q("SELECT objectId FROM Object WHERE objectId NOT IN (SELECT objectId FROM Object WHERE vMag < 5)"),
    q("SELECT objectId FROM Object WHERE objectId NOT IN (SELECT objectId FROM Object WHERE vMag IS NULL)"),
    q("SELECT COUNT(*) FROM Object WHERE name IN (SELECT name FROM Object WHERE spType = 'sd')"),
    q("SELECT COUNT(*) FROM Object WHERE spType IN (SELECT spType FROM Object WHERE objectId < 0)"),
    q("SELECT COUNT(*) FROM Object WHERE spType NOT IN (SELECT spType FROM Object WHERE objectId < 0)"),
    q("SELECT EXISTS (SELECT 1 FROM Object WHERE vMag > 5), NOT EXISTS (SELECT 1 FROM Object WHERE ra > 400)"),
    q("SELECT objectId FROM Object WHERE EXISTS (SELECT 1 FROM Object WHERE name = 'VEGA')"),
    q("SELECT objectId FROM Object WHERE vMag = (SELECT MAX(vMag) FROM Object)"),
    q("SELECT objectId FROM Object WHERE nObs = (SELECT nObs FROM Object)"),
    q("SELECT objectId FROM Object WHERE nObs = (SELECT nObs, flags FROM Object WHERE objectId = 1000)"),
    q("SELECT objectId FROM Object WHERE name = (SELECT name FROM Object WHERE objectId < 0)"),
    q("SELECT objectId FROM Object WHERE objectId IN (SELECT MAX(objectId) FROM Object GROUP BY spType)"),
  ],
  derivedTables: [
    q("SELECT n, COUNT(*) FROM (SELECT spType, COUNT(*) AS n FROM Object GROUP BY spType) AS t GROUP BY n"),
    q("SELECT MAX(n), MIN(n), SUM(n) FROM (SELECT spType, COUNT(*) AS n FROM Object GROUP BY spType) AS t"),
    q("SELECT t.* FROM (SELECT objectId, vMag FROM Object WHERE vMag < 5) AS t"),
    q("SELECT * FROM (SELECT objectId AS id, name FROM Object) t WHERE name = 'vega'"),
    o("SELECT id, m FROM (SELECT objectId AS id, vMag AS m FROM Object) AS t ORDER BY m DESC, id LIMIT 5"),
    q("SELECT COUNT(*) FROM (SELECT DISTINCT name FROM Object) AS t"),
    q(
      "SELECT a.spType, a.n, b.n FROM (SELECT spType, COUNT(*) AS n FROM Object GROUP BY spType) a JOIN (SELECT spType, MAX(nObs) AS n FROM Object GROUP BY spType) b ON a.spType = b.spType",
    ),
    q("WITH c AS (SELECT spType, COUNT(*) AS n FROM Object GROUP BY spType) SELECT SUM(n), COUNT(*) FROM c"),
    q(
      "WITH c (s, n) AS (SELECT spType, MAX(vMag) FROM Object GROUP BY spType), d AS (SELECT * FROM c WHERE n > 3) SELECT s FROM d",
    ),
  ],
  unions: [
    q("SELECT objectId FROM Object WHERE vMag < 2 UNION SELECT objectId FROM Object WHERE decl > 50"),
    q("SELECT objectId FROM Object WHERE vMag < 2 UNION ALL SELECT objectId FROM Object WHERE vMag < 3"),
    q("SELECT name FROM Object WHERE decl > 0 UNION SELECT name FROM Object WHERE decl <= 0"),
    q("SELECT spType FROM Object UNION SELECT 'SD'"),
    o(
      "SELECT objectId, vMag FROM Object WHERE vMag < 3 UNION SELECT objectId, vMag FROM Object WHERE ra < 10 ORDER BY objectId DESC LIMIT 7",
    ),
    o(
      "SELECT objectId AS id FROM Object WHERE vMag < 3 UNION ALL SELECT objectId FROM Object WHERE ra < 10 ORDER BY 1 LIMIT 5 OFFSET 2",
    ),
    q(
      "(SELECT objectId FROM Object ORDER BY objectId LIMIT 3) UNION (SELECT objectId FROM Object ORDER BY objectId DESC LIMIT 2)",
    ),
    q("SELECT objectId FROM Object UNION SELECT objectId, name FROM Object"),
    q(
      "SELECT COUNT(*) FROM (SELECT objectId FROM Object WHERE vMag < 3 UNION SELECT objectId FROM Object WHERE ra < 10) AS u",
    ),
  ],
  windows: [
    q("SELECT objectId, ROW_NUMBER() OVER (ORDER BY objectId) FROM Object"),
    q("SELECT objectId, RANK() OVER (PARTITION BY spType ORDER BY vMag DESC, objectId) AS r FROM Object"),
    q("SELECT objectId, DENSE_RANK() OVER (ORDER BY nObs) FROM Object WHERE decl > 0"),
    q("SELECT objectId, LAG(vMag) OVER (ORDER BY objectId), LEAD(vMag, 2) OVER (ORDER BY objectId) FROM Object"),
    q("SELECT objectId, SUM(nObs) OVER (PARTITION BY spType), COUNT(*) OVER () FROM Object"),
    q("SELECT objectId, SUM(nObs) OVER (ORDER BY objectId ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM Object"),
    q("SELECT objectId, FIRST_VALUE(name) OVER (PARTITION BY spType ORDER BY objectId) FROM Object"),
    o("SELECT objectId, vMag, ROW_NUMBER() OVER (ORDER BY vMag DESC, objectId) AS rn FROM Object ORDER BY rn LIMIT 5"),
    q("SELECT spType, COUNT(*), RANK() OVER (ORDER BY COUNT(*) DESC, spType) FROM Object GROUP BY spType"),
    q("SELECT objectId, NTILE(4) OVER (ORDER BY ra, objectId) FROM Object"),
    // In a window's ORDER BY an alias comes before a column of its name, in its PARTITION BY
    // after one; one naming a window function is refused; elsewhere in the select list a name is
    // the column.
    q("SELECT objectId, -nObs AS vMag, ROW_NUMBER() OVER (PARTITION BY vMag ORDER BY vMag, objectId) FROM Object"),
    q("SELECT objectId, nObs % 3 AS p, ROW_NUMBER() OVER (PARTITION BY p ORDER BY objectId) FROM Object"),
    o("SELECT objectId, ra AS nObs, nObs + 1, RANK() OVER (ORDER BY nObs DESC, objectId) AS r FROM Object ORDER BY r"),
    q("SELECT objectId, ROW_NUMBER() OVER (ORDER BY vMag, objectId) vMag FROM Object"),
    q("SELECT ROW_NUMBER() FROM Object"),
  ],
  groupConcat: [
    q("SELECT spType, GROUP_CONCAT(objectId ORDER BY objectId) FROM Object GROUP BY spType"),
    q("SELECT GROUP_CONCAT(DISTINCT spType ORDER BY spType SEPARATOR '|') FROM Object"),
    q("SELECT spType, GROUP_CONCAT(name, ':', nObs ORDER BY objectId DESC SEPARATOR '; ') FROM Object GROUP BY spType"),
    q("SELECT GROUP_CONCAT(DISTINCT name ORDER BY name) FROM Object"),
    q("SELECT GROUP_CONCAT(objectId) FROM Object WHERE objectId < 0"),
    q("SELECT COUNT(*), GROUP_CONCAT(vMag ORDER BY vMag) FROM Object WHERE vMag < 2"),
  ],
  dates: [
    q("SELECT objectId, FROM_UNIXTIME(nObs * 86400), FROM_UNIXTIME(1700000000 + objectId) FROM Object"),
    q("SELECT FROM_UNIXTIME(0), FROM_UNIXTIME(1700000000.5), FROM_UNIXTIME(-1), FROM_UNIXTIME(3000000000)"),
    q(
      "SELECT FROM_UNIXTIME(1700000000, '%Y-%m-%d %H:%i:%s %j %W %a %b %p %%'), DATE_FORMAT('2023-11-04 05:06:07', '%e/%c/%y %l %k %T %r %f')",
    ),
    q("SELECT objectId, YEAR(FROM_UNIXTIME(objectId * 100000)), MONTH(FROM_UNIXTIME(objectId * 100000)) FROM Object"),
    q("SELECT DATE('2023-11-14 22:13:20'), DATE('2023-02-30'), DATE('x'), YEAR(NULL), DAYOFYEAR('2023-12-31')"),
    q(
      "SELECT UNIX_TIMESTAMP('2023-11-14 22:13:20'), UNIX_TIMESTAMP('1969-01-01'), DATEDIFF('2023-11-14', '2023-01-01 23:59:59')",
    ),
    q(
      "SELECT HOUR('2023-11-14 22:13:20'), MINUTE('2023-11-14 22:13:20'), SECOND('2023-11-14 22:13:20'), DAY('2023-11-14')",
    ),
    q("SELECT COUNT(*), YEAR(FROM_UNIXTIME(nObs * 10000000)) AS y FROM Object GROUP BY y"),
    q("SELECT CONVERT(vMag, SIGNED), CONVERT(objectId, CHAR), CONVERT(nObs, DECIMAL(6, 1)) FROM Object"),
  ],
  moreFunctions: [
    q("SELECT objectId, REPEAT(spType, 2), CONCAT('[', SPACE(nObs % 4), ']'), ASCII(name), ORD(name) FROM Object"),
    q(
      "SELECT objectId, FIELD(spType, 'g2v', 'SD', 'K0III'), FIND_IN_SET(spType, 'a0v,sd,G2V'), ELT(nObs % 3 + 1, 'a', 'b') FROM Object",
    ),
    q("SELECT objectId, INSERT(name, 2, 3, '--'), INSERT(name, 0, 1, 'x'), INSERT(spType, 2, 100, '.') FROM Object"),
    q("SELECT FIELD(2, 1, '2'), FIELD(NULL, 'a'), ELT(0, 'a'), FIND_IN_SET('a,b', 'a,b'), ORD(''), ASCII('')"),
    q("SELECT POSITION('e' IN name), SUBSTRING(name FROM 2 FOR 3), SUBSTRING(spType FROM -2) FROM Object"),
    q(
      "SELECT EXTRACT(YEAR FROM FROM_UNIXTIME(nObs * 10000000)), EXTRACT(SECOND FROM '2023-11-14 01:02:03') FROM Object",
    ),
    q(
      "SELECT DAYOFWEEK('2023-11-14'), WEEKDAY('2023-11-14'), QUARTER('2023-11-14'), LAST_DAY('2024-02-10'), TO_DAYS('2023-11-14'), TO_DAYS('0000-12-31')",
    ),
    q("SELECT objectId, TO_DAYS(FROM_UNIXTIME(nObs * 1000000)), DAYOFWEEK(FROM_UNIXTIME(nObs * 1000000)) FROM Object"),
  ],
  rollup: [
    q("SELECT spType, COUNT(*), SUM(nObs) FROM Object GROUP BY spType WITH ROLLUP"),
    o("SELECT spType, nObs % 2 AS p, COUNT(*) FROM Object GROUP BY spType, p WITH ROLLUP"),
    o("SELECT spType, COUNT(*) FROM Object WHERE objectId < 0 GROUP BY spType WITH ROLLUP"),
    o("SELECT spType, COUNT(*) AS n FROM Object GROUP BY spType WITH ROLLUP HAVING n > 50"),
    o("SELECT UPPER(spType), COUNT(*), MAX(vMag) FROM Object GROUP BY UPPER(spType) WITH ROLLUP LIMIT 4"),
    q("SELECT spType, COUNT(*) FROM Object GROUP BY spType WITH ROLLUP ORDER BY spType"),
  ],
};
