/**
 * The hosts a TAP UPLOAD by http(s) URL may be fetched from (`--upload-url-hosts`): none by
 * default, so the czar fetches nothing a client names. An entry is a host name or address,
 * optionally with `:port` (`[::1]:8000` for IPv6); a URL must name a listed host (and port, if the
 * entry has one). A loopback address is fetched only when one is listed (`localhost`, `127.0.0.1`,
 * `::1`): a listed name that resolves to loopback is refused. Redirects are followed (at most 5)
 * only to listed hosts.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { QservError } from "../../common/errors.js";

const MAX_REDIRECTS = 5;

interface HostEntry {
  host: string;
  port: string | null;
}

const bad = (m: string) => new QservError("BAD_ARGUMENT", m);

/** `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address, lower-cased, without brackets. */
export function parseHostEntry(entry: string): HostEntry {
  const e = entry.trim().toLowerCase();
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(e);
  if (v6 !== null) return { host: v6[1] as string, port: v6[2] ?? null };
  const hp = /^([^:]+):(\d+)$/.exec(e);
  if (hp !== null) return { host: hp[1] as string, port: hp[2] as string };
  if (e === "" || /[/\s@]/.test(e)) throw bad(`--upload-url-hosts: '${entry}' is not a host or host:port`);
  return { host: e, port: null };
}

const isLoopback = (address: string): boolean => {
  const a = address.toLowerCase().replace(/^::ffff:/, "");
  return a === "::1" || (isIP(a) === 4 && a.startsWith("127."));
};

const defaultPort = (u: URL) => u.port || (u.protocol === "https:" ? "443" : "80");

/** Refuses `uri` unless its host is listed (and, if it resolves to loopback, loopback is listed). */
export async function checkUploadHost(name: string, uri: URL, hosts: readonly string[]): Promise<void> {
  if (hosts.length === 0) {
    throw bad(
      `UPLOAD ${name}: uploads by http(s) URL are refused: the czar lists no host to fetch from (its --upload-url-hosts option); send the table inline instead`,
    );
  }
  const entries = hosts.map(parseHostEntry);
  const host = uri.hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  const port = defaultPort(uri);
  if (!entries.some((e) => e.host === host && (e.port === null || e.port === port))) {
    throw bad(`UPLOAD ${name}: ${uri.host} is not among the hosts the czar may fetch from (--upload-url-hosts)`);
  }
  let addresses: string[];
  try {
    addresses = isIP(host) !== 0 ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch (e) {
    throw bad(`UPLOAD ${name}: cannot resolve ${host}: ${(e as Error).message}`);
  }
  const loopbackListed = entries.some((e) => e.host === "localhost" || isLoopback(e.host));
  if (addresses.some(isLoopback) && !loopbackListed) {
    throw bad(
      `UPLOAD ${name}: ${host} is a loopback address, which --upload-url-hosts does not list (add localhost or 127.0.0.1 to allow it)`,
    );
  }
}

/** `fetch` of a listed host's URL; each redirect is checked the same way before it is followed. */
export async function fetchListed(
  name: string,
  uri: string,
  hosts: readonly string[],
  signal: AbortSignal,
): Promise<Response> {
  let url = new URL(uri);
  for (let hop = 0; ; hop++) {
    await checkUploadHost(name, url, hosts);
    const r = await fetch(url, { signal, redirect: "manual" });
    const location = r.headers.get("location");
    if (r.status < 300 || r.status >= 400 || location === null) return r;
    await r.body?.cancel();
    if (hop >= MAX_REDIRECTS) throw bad(`UPLOAD ${name}: ${uri} redirected more than ${MAX_REDIRECTS} times`);
    url = new URL(location, url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw bad(`UPLOAD ${name}: ${uri} redirected to a ${url.protocol} URL`);
    }
  }
}
