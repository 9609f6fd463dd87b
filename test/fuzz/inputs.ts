/**
 * Seeded generators of hostile input for the fuzz run (test/fuzz/run.ts): SQL texts (mutated
 * valid queries, deep nesting, long chains, big IN lists, random bytes), raw MySQL packets, raw
 * HTTP requests, gRPC payloads and ingest requests (configs and catalog bytes). Same seed, same inputs.
 */
import { gzipSync } from "node:zlib";

export type Rand = () => number;

export const int = (r: Rand, n: number) => Math.floor(r() * n);
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)] as T;

/** Valid queries on case01's Object and Source: what the mutations start from. */
const CORPUS = [
  "SELECT objectId, ra_PS, decl_PS FROM Object WHERE qserv_areaspec_box(0, -6, 4, 6)",
  "SELECT COUNT(*) FROM Object",
  "SELECT objectId FROM Object WHERE objectId = 386942193651348",
  "SELECT objectId FROM Object WHERE objectId IN (386942193651348, 390034570102582, 1)",
  "SELECT o.objectId, COUNT(*), AVG(s.psfFlux) FROM Object o JOIN Source s USING (objectId) GROUP BY o.objectId",
  "SELECT filterId, COUNT(*) AS n FROM Source GROUP BY filterId HAVING n > 10 ORDER BY filterId",
  "SELECT DISTINCT filterId FROM Source ORDER BY filterId DESC LIMIT 3",
  "SELECT MIN(ra), MAX(decl), SUM(psfFlux) FROM Source WHERE decl BETWEEN -5 AND 5",
  "SELECT sourceId, ra * 2 + 1 AS x FROM Source WHERE ra > 1.5 AND decl < 0 ORDER BY x LIMIT 10 OFFSET 2",
  "SELECT objectId, CASE WHEN ra_PS > 1 THEN 'a' WHEN ra_PS > 0 THEN 'b' ELSE NULL END FROM Object",
  "SELECT CONCAT(objectId, '-', iauId), LENGTH(iauId), UPPER(iauId) FROM Object WHERE iauId LIKE 'A%'",
  "SELECT objectId FROM Object WHERE scisql_s2PtInCircle(ra_PS, decl_PS, 1.2, 3.4, 0.5) = 1",
  "SELECT o1.objectId, o2.objectId FROM Object o1, Object o2 WHERE scisql_angSep(o1.ra_PS, o1.decl_PS, o2.ra_PS, o2.decl_PS) < 0.01",
  "SELECT COUNT(*) FROM (SELECT objectId FROM Object WHERE ra_PS > 1) AS t",
  "SELECT objectId FROM Object WHERE objectId IN (SELECT objectId FROM Source WHERE filterId = 2)",
  "SELECT 1 + 2 * 3, 7 / 2, 7 DIV 2, 7 MOD 3, 1 << 3, NULL <=> NULL, 'a' = 'A'",
  "SELECT ra_PS FROM Object UNION ALL SELECT ra FROM Source ORDER BY 1 LIMIT 5",
  "WITH t AS (SELECT objectId, ra_PS FROM Object) SELECT COUNT(*) FROM t WHERE ra_PS < 2",
  "SELECT CAST(ra_PS AS SIGNED), CAST('12' AS DECIMAL(5, 2)), ROUND(decl_PS, 3), ABS(-1) FROM Object LIMIT 4",
  "SHOW TABLES",
  "SHOW COLUMNS FROM Object",
  "DESCRIBE Source",
  "SELECT @@version, DATABASE()",
  "SET NAMES utf8mb4",
  "SELECT objectId FROM Object WHERE objectId BETWEEN 386942193651348 AND 390034570102582",
  "SELECT s.sourceId FROM Source s WHERE s.objectId = 386942193651348 AND s.filterId IN (1, 2, 3)",
  "SELECT GROUP_CONCAT(filterId ORDER BY filterId SEPARATOR ';') FROM Source WHERE objectId = 386942193651348",
  "SELECT objectId, ROW_NUMBER() OVER (ORDER BY ra_PS) FROM Object",
];

/** Tokens dropped into texts: keywords, operators, odd literals. */
const ATOMS = [
  "SELECT",
  "FROM",
  "WHERE",
  "AND",
  "OR",
  "NOT",
  "XOR",
  "IN",
  "BETWEEN",
  "LIKE",
  "IS",
  "NULL",
  "JOIN",
  "ON",
  "USING",
  "GROUP BY",
  "ORDER BY",
  "HAVING",
  "LIMIT",
  "OFFSET",
  "UNION",
  "ALL",
  "DISTINCT",
  "AS",
  "CASE",
  "WHEN",
  "THEN",
  "ELSE",
  "END",
  "EXISTS",
  "WITH",
  "OVER",
  "(",
  ")",
  ",",
  ";",
  ".",
  "*",
  "+",
  "-",
  "/",
  "%",
  "=",
  "<=>",
  "<>",
  "!=",
  "<",
  ">",
  "||",
  "&&",
  "|",
  "&",
  "^",
  "~",
  "!",
  "<<",
  ">>",
  ":=",
  "@",
  "@@",
  "?",
  "`",
  "'",
  '"',
  "\\",
  "#",
  "-- ",
  "/*",
  "*/",
  "/*!",
  "0",
  "-1",
  "1e308",
  "1e-400",
  "0x",
  "0xFF",
  "x'4'",
  "18446744073709551616",
  "9223372036854775807",
  "-9223372036854775808",
  "99999999999999999999999999",
  "1.",
  ".5",
  "1e",
  "''",
  "'\\0'",
  "'\u0000'",
  "'é'",
  "'\u{1F600}'",
  "N'x'",
  "_utf8'x'",
  "b'1'",
  "Object",
  "Source",
  "objectId",
  "ra_PS",
  "qcase01.Object",
  "information_schema.tables",
  "Filter",
  "COUNT(*)",
  "SUM(",
  "scisql_angSep(",
  "qserv_areaspec_box(",
  "qserv_areaspec_circle(1, 2,",
  "scisql_s2PtInBox(ra_PS, decl_PS, ",
  "CAST(",
  "CONVERT(",
  "INTERVAL 1 DAY",
  "DATE_ADD(",
  "SLEEP(1)",
  "BENCHMARK(1000, 1)",
  "LOAD_FILE('/etc/passwd')",
  "INTO OUTFILE '/tmp/x'",
  "FOR UPDATE",
  "KILL 1",
  "USE qcase01",
  "SHOW PROCESSLIST",
  "DROP TABLE Object",
  "DELETE FROM Object",
  "\u0000",
  "\n",
  "\t",
  "REGEXP '(a+)+$'",
  "ROW_NUMBER()",
  "LAG(",
  "PARTITION BY",
  "WINDOW w AS ()",
];

function tokens(sql: string): string[] {
  return sql.match(/'[^']*'|\w+|[^\s\w]/g) ?? [];
}

const rep = (s: string, n: number) => s.repeat(n);

/** The largest nesting, chain, list or CASE of a light input (heavy ones go to the sizes). */
const LIGHT_SIZE = 200;

/** What kind of SQL text a fuzz input is (the run counts them apart). */
export type SqlKind = "shape" | "heavy" | "bytes" | "splice" | "limit" | "mutation";

/** One SQL text; `big` allows the sizes (1 in 20 of the nested and long shapes), else they stay small. */
export function sqlInput(r: Rand, big: boolean): string {
  return sqlCase(r, big ? 0.05 * (5 / 12) : 0).sql;
}

/**
 * One SQL text and its kind: with probability `heavy` a nesting, chain, `IN` list or `CASE` at
 * the sizes (up to 12k deep, 110k long, 100k keys, 10k branches), else a light one (the
 * same shapes up to LIGHT_SIZE, random bytes, spliced or mutated valid queries, huge LIMITs).
 */
export function sqlCase(r: Rand, heavy: number): { kind: SqlKind; sql: string } {
  if (heavy > 0 && r() < heavy) return { kind: "heavy", sql: shape(r, int(r, 5), (n) => 1 + int(r, n)) };
  const base = pick(r, CORPUS);
  const which = int(r, 12);
  switch (which) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
      return { kind: "shape", sql: shape(r, which, (n) => 1 + int(r, Math.min(n, LIGHT_SIZE))) };
    case 5:
      return {
        kind: "bytes",
        sql: Array.from({ length: 1 + int(r, 200) }, () => String.fromCharCode(int(r, r() < 0.9 ? 128 : 0xffff))).join(
          "",
        ),
      };
    case 6: {
      const other = tokens(pick(r, CORPUS));
      const t = tokens(base);
      return {
        kind: "splice",
        sql: [...t.slice(0, int(r, t.length + 1)), ...other.slice(int(r, other.length))].join(" "),
      };
    }
    case 7:
      return {
        kind: "limit",
        sql: `${base} LIMIT ${pick(r, ["18446744073709551615", "9223372036854775807", "0", "-1", "1e3", "1, 18446744073709551615", "99999999999999999999"])}`,
      };
    default: {
      // 1 to 5 token edits: replace, delete, insert, duplicate.
      const t = tokens(base);
      for (let k = 1 + int(r, 5); k > 0; k--) {
        const at = int(r, t.length + 1);
        const what = int(r, 4);
        if (what === 0 && t.length > 0) t[Math.min(at, t.length - 1)] = pick(r, ATOMS);
        else if (what === 1 && t.length > 1) t.splice(Math.min(at, t.length - 1), 1);
        else if (what === 2) t.splice(at, 0, pick(r, ATOMS));
        else t.splice(at, 0, ...t.slice(at, at + 1 + int(r, 4)));
      }
      return { kind: "mutation", sql: t.join(r() < 0.9 ? " " : "") };
    }
  }
}

/** Nesting (0), a unary chain (1), a binary chain (2), an `IN` list (3) or a `CASE` (4) of `size(max)`. */
function shape(r: Rand, which: number, size: (max: number) => number): string {
  switch (which) {
    case 0: {
      const d = size(12_000);
      const [open, close] = pick(r, [
        ["(", ")"],
        ["ABS(", ")"],
        ["(SELECT ", ")"],
        ["CONCAT('a', ", ")"],
      ] as const);
      return `SELECT ${rep(open, d)}ra_PS${rep(close, d)} FROM Object`;
    }
    case 1: {
      const n = size(110_000);
      return `SELECT objectId FROM Object WHERE ${rep(pick(r, ["NOT ", "- ", "+", "~", "!", "BINARY "]), n)}ra_PS > 1`;
    }
    case 2: {
      const n = size(60_000);
      const op = pick(r, [" AND ra_PS > 0", " OR objectId = 1", " + 1", " * 1", " || 'x'", " XOR 1", " = 1"]);
      return `SELECT objectId FROM Object WHERE objectId > 0${rep(op, n)}`;
    }
    case 3: {
      const n = size(100_000);
      const ids = Array.from({ length: n }, () =>
        r() < 0.01 ? "386942193651348" : String(int(r, 2 ** 52) * (r() < 0.5 ? 1 : -1)),
      );
      return `SELECT COUNT(*) FROM Object WHERE objectId ${r() < 0.2 ? "NOT " : ""}IN (${ids.join(",")})`;
    }
    default: {
      const n = size(10_000);
      const whens = Array.from({ length: n }, (_, i) => `WHEN objectId = ${i} THEN ${i}`).join(" ");
      return `SELECT CASE ${whens} ELSE -1 END FROM Object LIMIT 2`;
    }
  }
}

/** Random bytes. */
export function bytes(r: Rand, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 256);
  return b;
}

/** A MySQL packet: 3-byte length, sequence id, payload. */
export function packet(payload: Buffer, seq: number, declared = payload.length): Buffer {
  const h = Buffer.alloc(4);
  h.writeUIntLE(declared & 0xffffff, 0, 3);
  h[3] = seq & 0xff;
  return Buffer.concat([h, payload]);
}

/** A HandshakeResponse41 logging in as `user` with no password. */
export function handshakeResponse(user = "root", database?: string): Buffer {
  const caps = 0x0200 | 0x8000 | 0x80000 | (database === undefined ? 0 : 0x8);
  const head = Buffer.alloc(32);
  head.writeUInt32LE(caps, 0);
  head.writeUInt32LE(1 << 24, 4);
  head[8] = 33;
  const parts = [head, Buffer.from(`${user}\0`), Buffer.from([0])];
  if (database !== undefined) parts.push(Buffer.from(`${database}\0`));
  parts.push(Buffer.from("mysql_native_password\0"));
  return Buffer.concat(parts);
}

/**
 * What a hostile MySQL client sends after the server's greeting: `[bytes, logsIn]` where logsIn
 * says whether the first packet is a valid login (then commands follow).
 */
export function mysqlSession(r: Rand): Buffer {
  const login = packet(handshakeResponse(r() < 0.5 ? "root" : "x".repeat(int(r, 300)), "qcase01"), 1);
  switch (int(r, 8)) {
    case 0:
      return bytes(r, int(r, 200)); // garbage instead of a login
    case 1:
      return packet(bytes(r, int(r, 100)), 1); // a framed garbage login
    case 2:
      return login.subarray(0, int(r, login.length)); // a cut login
    case 3:
      return Buffer.concat([login, packet(Buffer.from([int(r, 256)]), 0)]); // unknown or empty command
    case 4:
      return Buffer.concat([login, packet(Buffer.concat([Buffer.from([3]), bytes(r, int(r, 300))]), 0)]);
    case 5: // a length that promises more than comes
      return Buffer.concat([login, packet(Buffer.from([3, 0x53]), 0, 2 + int(r, 0xffffff))]);
    case 6: // many small commands: ping, init db, field list, statistics, prepare
      return Buffer.concat([
        login,
        ...Array.from({ length: 1 + int(r, 20) }, () =>
          packet(
            Buffer.concat([
              Buffer.from([pick(r, [0x0e, 0x02, 0x04, 0x09, 0x16, 0x17, 0x19, 0x1f])]),
              bytes(r, int(r, 20)),
            ]),
            0,
          ),
        ),
      ]);
    default: // a query, then garbage
      return Buffer.concat([login, packet(Buffer.from(`\x03${sqlInput(r, false)}`, "utf8"), 0), bytes(r, int(r, 50))]);
  }
}

/** A raw HTTP/1.1 request to the czar. */
export function httpRequest(r: Rand): Buffer {
  const json = () =>
    pick(r, [
      "{",
      "[]",
      "null",
      '{"query": 1}',
      '{"query": null, "database": {}}',
      `{"query": "SELECT 1", "timeout": ${pick(r, ["-1", '"x"', "1e309", "0"])}}`,
      `{"query": ${JSON.stringify(sqlInput(r, false))}, "database": ${pick(r, ['"qcase01"', '"../x"', "7", '""'])}}`,
      `{"database": {"database": "../x"}, "table": {}, "files": ["/dev/zero"]}`,
      `{"database": 1, "table": [], "files": []}`,
      `{"__proto__": {"x": 1}, "query": "SELECT 1"}`,
      bytes(r, int(r, 100)).toString("latin1"),
    ]);
  const path = pick(r, [
    "/query",
    "/ingest",
    "/status",
    "/replicate",
    "/gc",
    "/tap/sync",
    "/tap/async",
    "/x",
    "/%",
    "/query?x=%zz",
    "//",
    "/tap/sync?QUERY=SELECT%201&LANG=ADQL",
  ]);
  const method = pick(r, ["POST", "GET", "PUT", "DELETE", "OPTIONS", "HEAD", "BREW", "post", ""]);
  const body = int(r, 4) === 0 ? "" : json();
  switch (int(r, 7)) {
    case 0:
      return bytes(r, 1 + int(r, 300));
    case 1: // a header section that never ends, or an enormous header
      return Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(int(r, 40_000))}\r\n`);
    case 2: // a body shorter than its content-length
      return Buffer.from(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length + 1 + int(r, 1000)}\r\n\r\n${body}`,
      );
    case 3: // bad chunked encoding
      return Buffer.from(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${pick(r, ["zz", "5\r\nab", "-1\r\n", "ffffffffff\r\n"])}\r\n`,
      );
    case 4:
      return Buffer.from(`${method} ${path} HTTP/${pick(r, ["1.1", "1.0", "2.0", "9", ""])}\r\nHost: x\r\n\r\n`);
    case 5: // the upload format, malformed
      return Buffer.from(
        `POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.mini-qserv.upload\r\nContent-Length: ${body.length + 5}\r\n\r\n${body}\n${bytes(r, 4).toString("latin1")}`,
        "latin1",
      );
    default:
      return Buffer.from(
        `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
  }
}

/** Ingest requests: a mutated config and mutated catalog bytes, for database `db`. */
export function ingestInput(
  r: Rand,
  db: string,
  base: { database: Record<string, unknown>; table: Record<string, unknown>; file: Buffer; name: string },
): { head: Record<string, unknown>; file: Buffer; name: string } {
  const database: Record<string, unknown> = { ...base.database, database: db };
  const table: Record<string, unknown> = { ...base.table, database: db };
  const odd = () =>
    pick(r, [null, -1, 0, 1e9, 1.5, "", "../x", "a/b", "x".repeat(300), [], {}, true, "\u0000", NaN, "85"] as const);
  for (let k = int(r, 3); k > 0; k--) {
    const target = r() < 0.5 ? database : table;
    const key = pick(r, Object.keys(target));
    if (r() < 0.3) delete target[key];
    else target[key] = odd();
  }
  if (r() < 0.2)
    table.schema = [
      { name: pick(r, ["", "a`b", "x".repeat(100), "chunkId"]), type: pick(r, ["INT", "", "BLOB(", "x"]) },
    ];
  let file = base.file;
  let name = base.name;
  switch (int(r, 6)) {
    case 0:
      file = bytes(r, int(r, 2000));
      break;
    case 1:
      file = file.subarray(0, int(r, file.length)); // a cut gzip
      break;
    case 2: {
      const text = Buffer.from(
        file.toString("latin1").replace(/\t/g, () => (r() < 0.05 ? "\t\t" : "\t")),
        "latin1",
      );
      file = name.endsWith(".gz") ? gzipSync(text) : text; // rows with extra fields
      break;
    }
    case 3:
      name = pick(r, ["x.csv", "x.tsv", "x", "x.parquet", "x.fits", "x.gz"]);
      break;
    case 4:
      file = gzipSync(Buffer.from(`${"9".repeat(int(r, 100_000))}\t${"\\".repeat(int(r, 10))}\n`));
      break;
    default:
      break; // the file as it is: the config alone is hostile
  }
  return { head: { database, table }, file, name };
}
