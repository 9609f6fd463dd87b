import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (tests run from dist/test/...). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const CLI = join(ROOT, "bin", "mini-qserv.js");
/** Qserv's integration-test data, beside the project as ../shared. */
export const ITEST = resolve(ROOT, "..", "shared", "qserv-itest");
export const HAVE_ITEST = existsSync(join(ITEST, "case01"));
export const SKIP_ITEST = HAVE_ITEST ? false : `../shared/qserv-itest not found beside the project (${ITEST})`;
