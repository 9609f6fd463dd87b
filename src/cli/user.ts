import { renameSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { QservError } from "../common/errors.js";
import { firstLineOf } from "../common/firstLine.js";
import { ROLES, type Role, readUsersFile, userEntry } from "../czar/auth/users.js";

/** A password: the first line of `file`, else $MINI_QSERV_PASSWORD. */
export function passwordOf(file: string | undefined, what: string): string | undefined {
  if (file === undefined) return process.env.MINI_QSERV_PASSWORD || undefined;
  return firstLineOf(file, what);
}

export function registerUser(program: Command): void {
  program
    .command("user")
    .description("Manage the czar's users file (give it to the czar with --users-file)")
    .command("add")
    .description("Add a user, or replace one of the same name (the password kept only as hashes: scrypt, MySQL's)")
    .argument("<name>", "the user's name")
    .requiredOption("--users-file <file>", "the users file (created when missing; mode 0600)")
    .option("--role <role>", `one of ${ROLES.join(", ")}`, "reader")
    .action(async (name: string, o: { usersFile: string; role: string }) => {
      if (!ROLES.includes(o.role as Role)) {
        throw new QservError("BAD_ARGUMENT", `--role must be one of ${ROLES.join(", ")}`);
      }
      // The global --password-file (or $MINI_QSERV_PASSWORD): never the password itself on the command line.
      const password = process.env.MINI_QSERV_PASSWORD;
      if (password === undefined || password === "") {
        throw new QservError("BAD_ARGUMENT", "give the password with --password-file FILE or $MINI_QSERV_PASSWORD");
      }
      const entries = readUsersFile(o.usersFile, true).filter((e) => e.user !== name);
      entries.push(await userEntry(name, o.role as Role, password));
      const tmp = `${o.usersFile}.tmp-${process.pid}`;
      writeFileSync(tmp, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, o.usersFile);
      process.stdout.write(`${name} (${o.role}) in ${o.usersFile}\n`);
    });
}
