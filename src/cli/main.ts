import { Command, CommanderError } from "commander";
import { isQservError } from "../common/errors.js";
import { registerCzar } from "./czar.js";
import { registerDemo } from "./demo.js";
import { registerGc } from "./gc.js";
import { registerIngest } from "./ingest.js";
import { registerLoads } from "./loads.js";
import { registerPartition } from "./partition.js";
import { registerQuery } from "./query.js";
import { registerReplicate } from "./replicate.js";
import { registerStatus } from "./status.js";
import { registerUp } from "./up.js";
import { passwordOf, registerUser } from "./user.js";
import { registerWorker } from "./worker.js";

/** The `mini-qserv` command: one sub-command per file in this folder. */
const program = new Command("mini-qserv")
  .description("A distributed, sharded SQL database for astronomical catalogs, modeled on LSST's Qserv")
  .showHelpAfterError()
  .exitOverride()
  .option("--user <name>", "the czar user the client commands log in as (default $MINI_QSERV_USER)")
  .option("--password-file <file>", "that user's password, the file's first line (default $MINI_QSERV_PASSWORD)")
  .hook("preAction", (cmd) => {
    // The client commands send these (src/cli/httpClient.ts); `user add` takes the password.
    const o = cmd.opts<{ user?: string; passwordFile?: string }>();
    if (o.user !== undefined) process.env.MINI_QSERV_USER = o.user;
    const pw = passwordOf(o.passwordFile, "--password-file");
    if (pw !== undefined) process.env.MINI_QSERV_PASSWORD = pw;
  });
registerPartition(program);
registerDemo(program);
registerWorker(program);
registerCzar(program);
registerIngest(program);
registerQuery(program);
registerUp(program);
registerStatus(program);
registerReplicate(program);
registerGc(program);
registerLoads(program);
registerUser(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (isQservError(e)) {
    process.stderr.write(`mini-qserv: error [${e.code}]: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
}
