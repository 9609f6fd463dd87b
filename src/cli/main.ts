import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { isQservError } from "../common/errors.js";
import { registerCzar } from "./czar.js";
import { registerDemo } from "./demo.js";
import { registerDescribe } from "./describe.js";
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
registerDescribe(program);
registerQuery(program);
registerUp(program);
registerStatus(program);
registerReplicate(program);
registerGc(program);
registerLoads(program);
registerUser(program);

/** The package's version, for --version on the command and every sub-command. */
const version = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;
program.version(version);
/** A working example under each sub-command's --help (partition and ingest have their own). */
const EXAMPLES: Record<string, string> = {
  up: "mini-qserv up --demo            # a czar and 2 workers on loopback, the demo catalog loaded",
  worker: "mini-qserv worker --port 7001 --data-dir data/w1",
  czar: "mini-qserv czar --data-dir data/czar --worker w1=127.0.0.1:7001 --worker w2=127.0.0.1:7002",
  query: 'mini-qserv query --database demo "SELECT COUNT(*) FROM Object WHERE qserv_areaspec_box(0, -5, 10, 5)"',
  status: "mini-qserv status --json",
  replicate: "mini-qserv replicate",
  gc: "mini-qserv gc",
  demo: "mini-qserv demo --objects 10000",
};
for (const c of program.commands) {
  c.version(version);
  const example = EXAMPLES[c.name()];
  if (example !== undefined) c.addHelpText("after", `\nExample:\n  ${example}\n`);
}

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
