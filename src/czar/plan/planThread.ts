/**
 * A planner thread (see planPool.ts): parses long statement texts and plans their SELECTs against
 * its own read-only connection to the czar's metadata, so the czar's event loop stays free.
 */
import { existsSync, writeFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { isQservError } from "../../common/errors.js";
import { isComposite } from "../compose/compose.js";
import { Metadata } from "../metadata.js";
import type { Select } from "../sql/ast.js";
import { parseStatement } from "../sql/parser.js";
import { planSelect } from "./planner.js";
import type { PlanReply, PlanRequest } from "./planPool.js";

const data = workerData as { metadataFile: string; holdFile?: string };
const meta = Metadata.openReader(data.metadataFile);
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Tests only: waits while the hold file exists, having said so in `<hold>.reached`. */
function holdWhileAsked(): void {
  const hold = data.holdFile;
  if (hold === undefined || !existsSync(hold)) return;
  writeFileSync(`${hold}.reached`, "");
  while (existsSync(hold)) Atomics.wait(pause, 0, 0, 20);
}
/** Parsed SELECTs by request id, kept to be planned again (under the database's lock). */
const kept = new Map<number, Select>();

function answer(m: PlanRequest): PlanReply | null {
  switch (m.op) {
    case "parse": {
      holdWhileAsked();
      const stmt = parseStatement(m.sql, "mysql", m.maxBytes);
      if (stmt.kind !== "select" || stmt.from.length === 0 || isComposite(stmt)) {
        return { id: m.id, kind: "statement", stmt };
      }
      const plan = meta.reading(() => planSelect(stmt, m.defaultDb, meta));
      kept.set(m.id, stmt);
      return { id: m.id, kind: "plan", plan };
    }
    case "replan": {
      const stmt = kept.get(m.id);
      if (stmt === undefined) return { id: m.id, kind: "error", code: "INTERNAL", message: `no query ${m.id} kept` };
      return { id: m.id, kind: "plan", plan: meta.reading(() => planSelect(stmt, m.defaultDb, meta)) };
    }
    case "forget":
      kept.delete(m.id);
      return null;
  }
}

parentPort?.on("message", (m: PlanRequest) => {
  let reply: PlanReply | null;
  try {
    reply = answer(m);
  } catch (e) {
    reply = isQservError(e)
      ? { id: m.id, kind: "error", code: e.code, message: e.message, details: { ...e.details } }
      : { id: m.id, kind: "error", code: "INTERNAL", message: (e as Error).message };
  }
  if (reply !== null) parentPort?.postMessage(reply);
});
