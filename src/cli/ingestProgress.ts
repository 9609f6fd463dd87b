import cliProgress from "cli-progress";

/** A czar's ingest progress on a terminal: one bar per phase on stderr; silent when not a terminal. */
export function ingestBar(
  table: string,
  enabled = process.stderr.isTTY,
): {
  update(p: Record<string, unknown>): void;
  stop(): void;
} {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${table} {phase} [{bar}] {percentage}% | {what} | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let phase = "";
  const show = (name: string, total: number, value: number, what: string) => {
    if (name !== phase) {
      if (phase !== "") bar.stop();
      phase = name;
      bar.start(Math.max(total, 1), 0, { phase: name, what });
    }
    bar.update(value, { what });
  };
  return {
    update(p) {
      if (p.phase === "partition") {
        const mb = (n: unknown) => `${(Number(n) / 1e6).toFixed(1)} MB`;
        show("partition", Number(p.totalBytes), Number(p.bytes), `${p.rows} rows, ${mb(p.bytes)}/${mb(p.totalBytes)}`);
      } else if (p.phase === "upload") {
        show("upload   ", Number(p.total), Number(p.done), `${p.done}/${p.total} chunk loads`);
      } else if (p.phase === "publish" && phase !== "publish") {
        if (phase !== "") bar.stop();
        phase = "publish";
        process.stderr.write(`${table} publishing\n`);
      }
    },
    stop() {
      if (phase !== "" && phase !== "publish") bar.stop();
    },
  };
}
