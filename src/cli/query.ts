import type { Command } from "commander";
import { QservError } from "../common/errors.js";
import { postJson } from "./httpClient.js";
import { czarUrl, seconds } from "./options.js";

type Cell = null | number | string;

interface Answer {
  columns: Array<{ name: string; type: string }>;
  rows: Cell[][];
  stats: { chunks: number; elapsedMs: number };
}

const show = (v: Cell): string => (v === null ? "NULL" : String(v));

/** mysql-style boxed table. */
function table(a: Answer): string {
  if (a.columns.length === 0) return "";
  const cells = a.rows.map((r) => r.map(show));
  const widths = a.columns.map((c, i) => Math.max(c.name.length, ...cells.map((r) => r[i]!.length)));
  const line = `+${widths.map((w) => "-".repeat(w + 2)).join("+")}+`;
  const numeric = a.columns.map((c) => c.type === "INTEGER" || c.type === "REAL");
  const row = (r: string[], header = false) =>
    `| ${r.map((v, i) => (numeric[i] && !header ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(" | ")} |`;
  return [
    line,
    row(
      a.columns.map((c) => c.name),
      true,
    ),
    line,
    ...cells.map((r) => row(r)),
    line,
    "",
  ].join("\n");
}

function csvField(v: Cell): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function csv(a: Answer): string {
  return [a.columns.map((c) => csvField(c.name)).join(","), ...a.rows.map((r) => r.map(csvField).join(",")), ""].join(
    "\n",
  );
}

export function registerQuery(program: Command): void {
  program
    .command("query")
    .description("Run one SQL statement on the czar and print the answer")
    .argument("<sql>", "the statement (MySQL dialect)")
    .option("--czar <url>", "czar HTTP API (default $MINI_QSERV_CZAR or http://127.0.0.1:8080)")
    .option("--database <db>", "default database")
    .option("--format <f>", "table | csv | json", "table")
    .option("--timeout <s>", "time limit of the query in seconds (default: the czar's --query-timeout)")
    .action(async (sql: string, o: { czar?: string; database?: string; format: string; timeout?: string }) => {
      if (!["table", "csv", "json"].includes(o.format)) {
        throw new QservError("BAD_ARGUMENT", `--format must be table, csv or json, got ${o.format}`);
      }
      const a = (await postJson(`${czarUrl(o.czar)}/query`, {
        query: sql,
        database: o.database ?? "",
        ...(o.timeout === undefined ? {} : { timeout: seconds("--timeout", o.timeout) }),
      })) as unknown as Answer;
      if (o.format === "json") process.stdout.write(`${JSON.stringify(a)}\n`);
      else if (o.format === "csv") process.stdout.write(csv(a));
      else {
        process.stdout.write(table(a));
        const n = a.rows.length;
        process.stderr.write(
          `${n} row${n === 1 ? "" : "s"} in set (${(a.stats.elapsedMs / 1000).toFixed(2)} sec, ${a.stats.chunks} chunks)\n`,
        );
      }
    });
}
