/**
 * Who may call the czar's HTTP API (every route, /tap included, goes through `authorize`).
 * With users configured, a request needs HTTP Basic credentials of one of them (failures slowed
 * and locked out per address by the same LoginThrottle as MySQL logins), and a role that allows
 * the route: readers query and read status, writers also ingest, replicate and collect garbage.
 * With no users configured, a czar bound to loopback only answers anyone (trusted local use); one
 * bound to any other address refuses every request until users are configured.
 */
import type http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { QservError } from "../../common/errors.js";
import type { LoginThrottle } from "../../frontends/mysql/loginThrottle.js";
import { isWebRoute } from "../../frontends/web/routes.js";
import { allows, type Principal, type Role, type Users } from "./users.js";

export interface HttpAuth {
  users: Users;
  throttle: LoginThrottle;
  /** The address the API listens on: without users, only a loopback bind answers. */
  host: string;
  log?: Logger;
}

/**
 * The role a route needs: queries (`/query`, TAP), `GET /status`, the recorded loads (`GET
 * /ingest`, `GET /loads`) and the web console's pages and reads a reader; every other route
 * (ingest, replicate, gc, and any route added later unless listed here) a writer.
 */
export function roleFor(method: string, path: string): Role {
  const reads =
    path === "/query" ||
    (method === "GET" && ["/status", "/ingest", "/loads"].includes(path)) ||
    isWebRoute(method, path) ||
    /^\/tap(\/|$)/.test(path);
  return reads ? "reader" : "writer";
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The name and password of a Basic `authorization` header, or null. */
function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (m === null) return null;
  const text = Buffer.from(m[1] as string, "base64").toString("utf8");
  const colon = text.indexOf(":");
  return colon < 0 ? null : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * The caller of `req` when it may make the request (null: no users configured, anyone on
 * loopback), else UNAUTHENTICATED (401) or FORBIDDEN (403).
 */
export async function authorize(a: HttpAuth, req: http.IncomingMessage, need: Role): Promise<Principal | null> {
  if (!a.users.configured) {
    if (isLoopback(a.host)) return null;
    throw new QservError(
      "UNAUTHENTICATED",
      `no users are configured and the czar listens on ${a.host}: give the czar --users-file (or --mysql-password-file)`,
    );
  }
  const address = req.socket.remoteAddress ?? "";
  const lockedMs = a.throttle.lockedFor(address);
  if (lockedMs > 0) {
    throw new QservError(
      "UNAUTHENTICATED",
      `too many failed logins from ${address}; try again in ${Math.ceil(lockedMs / 1000)} s`,
    );
  }
  const given = basicCredentials(req.headers.authorization);
  if (given === null) throw new QservError("UNAUTHENTICATED", "credentials required (HTTP Basic: user and password)");
  const who = await a.users.check(given.user, given.password);
  if (who === null) {
    const v = a.throttle.failed(address);
    const log = { address, user: given.user, failures: v.failures, delayMs: v.delayMs };
    if (v.locked) a.log?.warn(log, "http login locked out");
    else a.log?.info(log, "http login failed");
    await sleep(v.delayMs);
    throw new QservError("UNAUTHENTICATED", `wrong user or password for '${given.user}'`);
  }
  a.throttle.succeeded(address);
  if (!allows(who.role, need)) {
    throw new QservError("FORBIDDEN", `user '${who.user}' (${who.role}) may not do this: it needs the ${need} role`);
  }
  return who;
}
