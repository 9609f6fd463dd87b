import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * Appends lines to many files in one directory while holding at most one file open: lines are
 * buffered per file and the buffers are written out whenever together they pass `maxBuffered`
 * bytes, so memory stays flat whatever the number of files. Text is latin1 (one char = one byte),
 * so rows pass through byte for byte.
 */
export class BufferedFiles {
  private readonly buffers = new Map<string, string[]>();
  private readonly counts = new Map<string, number>();
  private buffered = 0;

  constructor(
    readonly dir: string,
    private readonly maxBuffered = 64 * 1024 * 1024,
  ) {}

  /** Append one line (with its newline) and return its 0-based ordinal in the file. */
  add(name: string, line: string): number {
    let buf = this.buffers.get(name);
    if (buf === undefined) {
      buf = [];
      this.buffers.set(name, buf);
    }
    buf.push(line);
    this.buffered += line.length;
    const ordinal = this.counts.get(name) ?? 0;
    this.counts.set(name, ordinal + 1);
    if (this.buffered >= this.maxBuffered) this.flush();
    return ordinal;
  }

  /** Lines added to a file so far. */
  count(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  names(): IterableIterator<string> {
    return this.counts.keys();
  }

  flush(): void {
    for (const [name, lines] of this.buffers) {
      if (lines.length === 0) continue;
      const fd = openSync(join(this.dir, name), "a");
      try {
        writeSync(fd, lines.join(""), null, "latin1");
      } finally {
        closeSync(fd);
      }
    }
    this.buffers.clear();
    this.buffered = 0;
  }
}
