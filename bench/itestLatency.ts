/**
 * `node dist/bench/itestLatency.js BEFORE.json AFTER.json [...more pairs]`: per-query latency over
 * Qserv's itest suite, before against after, from the files `npm run conformance -- --times FILE`
 * writes (each query's time at the client). Prints a markdown table: the queries both ran, their
 * total and percentiles, the median of the per-query ratios, and the queries that moved most.
 */
import { readFileSync } from "node:fs";
import { quantile } from "./stats.js";

interface Times {
  via: string;
  times: Record<string, number>;
}

const read = (f: string): Times => JSON.parse(readFileSync(f, "utf8")) as Times;
const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));

const files = process.argv.slice(2);
if (files.length < 2 || files.length % 2 !== 0) {
  console.error("usage: itestLatency BEFORE.json AFTER.json [BEFORE2.json AFTER2.json ...]");
  process.exit(2);
}
const lines: string[] = [
  "| via | queries | total before | total after | p50 before | p50 after | p95 before | p95 after | median after ÷ before | faster / slower |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
];
const moved: string[] = [];
for (let i = 0; i < files.length; i += 2) {
  const a = read(files[i] as string);
  const b = read(files[i + 1] as string);
  const keys = Object.keys(a.times).filter((k) => b.times[k] !== undefined);
  const before = keys.map((k) => a.times[k] as number);
  const after = keys.map((k) => b.times[k] as number);
  const ratios = keys.map((_, j) => (after[j] as number) / Math.max(before[j] as number, 1e-3));
  const sum = (v: number[]) => v.reduce((x, y) => x + y, 0);
  const faster = ratios.filter((r) => r < 1).length;
  lines.push(
    `| ${b.via} | ${keys.length} | ${ms(sum(before))} ms | ${ms(sum(after))} ms | ${ms(quantile(before, 0.5))} | ${ms(quantile(after, 0.5))} | ${ms(quantile(before, 0.95))} | ${ms(quantile(after, 0.95))} | ${quantile(ratios, 0.5).toFixed(2)}× | ${faster} / ${keys.length - faster} |`,
  );
  const byChange = keys
    .map((k, j) => ({
      k,
      d: (after[j] as number) - (before[j] as number),
      a: before[j] as number,
      b: after[j] as number,
    }))
    .sort((x, y) => Math.abs(y.d) - Math.abs(x.d))
    .slice(0, 5);
  for (const c of byChange) moved.push(`- ${b.via} \`${c.k}\`: ${ms(c.a)} → ${ms(c.b)} ms`);
}
console.log(lines.join("\n"));
console.log("\nLargest changes:\n");
console.log(moved.join("\n"));
