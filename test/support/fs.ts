import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

/** A fresh temporary directory; the caller removes it (for code that runs outside node:test). */
export function makeTempDir(prefix = "mq-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A fresh temporary directory, removed when the test file ends. */
export function tempDir(prefix = "mq-test-"): string {
  const dir = makeTempDir(prefix);
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
