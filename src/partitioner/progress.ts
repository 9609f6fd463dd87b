import cliProgress from "cli-progress";

/** Progress of a long job: rows, rows/s and ETA on a terminal; silent otherwise. */
export interface Progress {
  update(rows: number, bytes: number): void;
  stop(): void;
}

export const silentProgress: Progress = { update() {}, stop() {} };

/** A progress bar on stderr when it is a terminal (and `enabled`), else silent. */
export function terminalProgress(label: string, totalBytes: number, enabled = process.stderr.isTTY): Progress {
  if (!enabled || totalBytes <= 0) return silentProgress;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const t0 = Date.now();
  bar.start(totalBytes, 0, { rows: 0, rate: 0 });
  return {
    update(rows, bytes) {
      const s = (Date.now() - t0) / 1000;
      bar.update(Math.min(bytes, totalBytes), { rows, rate: s > 0 ? Math.round(rows / s) : 0 });
    },
    stop() {
      bar.stop();
    },
  };
}
