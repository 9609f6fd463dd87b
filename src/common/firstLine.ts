import { readFileSync } from "node:fs";
import { QservError } from "./errors.js";

/** The first line of a file holding a secret (a password, the cluster secret); `what` names it in errors. */
export function firstLineOf(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new QservError("BAD_ARGUMENT", `${what} ${path}: ${(e as Error).message}`);
  }
  const line = text.split(/\r?\n/)[0] ?? "";
  if (line === "") throw new QservError("BAD_ARGUMENT", `${what} ${path}: the first line is empty`);
  return line;
}
