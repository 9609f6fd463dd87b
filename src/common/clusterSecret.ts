/**
 * The cluster secret: every czar ↔ worker gRPC call carries it (metadata `mq-cluster-secret`),
 * and a worker given one refuses calls without it (UNAUTHENTICATED). It reaches a node through a
 * file (`--secret-file`, `$MINI_QSERV_CLUSTER_SECRET_FILE`) or `$MINI_QSERV_CLUSTER_SECRET`,
 * never as a command-line value.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { QservError } from "./errors.js";
import { firstLineOf } from "./firstLine.js";

/** The gRPC metadata key carrying the secret. */
export const SECRET_METADATA_KEY = "mq-cluster-secret";

/** The secret of a node: the file's first line, else `$MINI_QSERV_CLUSTER_SECRET`; undefined: none. */
export function loadClusterSecret(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = file ?? env.MINI_QSERV_CLUSTER_SECRET_FILE;
  if (path === undefined || path === "") {
    const v = env.MINI_QSERV_CLUSTER_SECRET;
    return v === undefined || v === "" ? undefined : v;
  }
  const secret = firstLineOf(path, "cluster secret file").trim();
  if (secret.length < 16) throw new QservError("BAD_ARGUMENT", `cluster secret file ${path}: under 16 characters`);
  return secret;
}

/** Writes a new random secret to `path` (mode 0600) unless the file exists; returns the path. */
export function ensureSecretFile(path: string): string {
  if (!existsSync(path)) writeFileSync(path, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  return path;
}

/** Constant-time comparison (of digests, so that the length leaks nothing either). */
export function sameSecret(expected: string, given: string): boolean {
  const a = createHash("sha256").update(expected).digest();
  const b = createHash("sha256").update(given).digest();
  return timingSafeEqual(a, b);
}
