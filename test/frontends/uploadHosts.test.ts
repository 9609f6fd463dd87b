/**
 * TAP UPLOAD by http URL only from the hosts of `--upload-url-hosts` (a real HTTP server on
 * loopback, read through the czar's own fetch): none listed refuses every URL naming the option;
 * loopback is fetched only when listed; a listed host's redirect to one not listed is refused.
 */
import assert from "node:assert/strict";
import { lookup } from "node:dns/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { after, before, test } from "node:test";
import { QservError } from "../../src/common/errors.js";
import { Params } from "../../src/frontends/tap/params.js";
import { parseHostEntry } from "../../src/frontends/tap/uploadHosts.js";
import { DEFAULT_UPLOAD_SOURCES, fetchUploads } from "../../src/frontends/tap/uploadUrl.js";

const BODY = "id:long,ra\n1,2.5\n";
let server: http.Server;
let port = 0;

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === "/t.csv") res.end(BODY);
    else if (req.url === "/to-localhost") res.writeHead(302, { location: `http://localhost:${port}/t.csv` }).end();
    else if (req.url === "/to-self") res.writeHead(302, { location: "/t.csv" }).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** Fetches `url` as UPLOAD t with these hosts listed: the bytes read, or the error. */
async function upload(url: string, hosts: string[]): Promise<string | QservError> {
  const params = new Params();
  params.add("UPLOAD", `t,${url}`);
  try {
    await fetchUploads(params, { ...DEFAULT_UPLOAD_SOURCES, hosts });
  } catch (e) {
    if (e instanceof QservError) return e;
    throw e;
  }
  assert.equal(params.get("UPLOAD"), "t,param:url.0");
  return params.files.get("url.0")!.toString();
}

test("no host listed (the default): an upload by URL is refused, naming --upload-url-hosts", async () => {
  const e = await upload(`http://127.0.0.1:${port}/t.csv`, []);
  assert.ok(e instanceof QservError);
  assert.equal(e.code, "BAD_ARGUMENT");
  assert.match(e.message, /UPLOAD t: .*refused.*--upload-url-hosts/);
});

test("a listed host (and port) is fetched; others, and other ports, are refused", async () => {
  assert.equal(await upload(`http://127.0.0.1:${port}/t.csv`, ["127.0.0.1"]), BODY);
  assert.equal(await upload(`http://127.0.0.1:${port}/t.csv`, [`example.org`, `127.0.0.1:${port}`]), BODY);
  assert.equal(await upload(`http://127.0.0.1:${port}/to-self`, ["127.0.0.1"]), BODY);
  for (const hosts of [["example.org"], [`127.0.0.1:${port + 1}`], ["127.0.0.2"]]) {
    const e = await upload(`http://127.0.0.1:${port}/t.csv`, hosts);
    assert.ok(e instanceof QservError, String(hosts));
    assert.match(e.message, /127\.0\.0\.1:\d+ is not among the hosts the czar may fetch from \(--upload-url-hosts\)/);
  }
});

test("a redirect is followed only to a listed host", async () => {
  const e = await upload(`http://127.0.0.1:${port}/to-localhost`, ["127.0.0.1"]);
  assert.ok(e instanceof QservError);
  assert.match(e.message, /localhost:\d+ is not among the hosts/);
  assert.equal(await upload(`http://127.0.0.1:${port}/to-localhost`, ["127.0.0.1", "localhost"]), BODY);
});

test("loopback only if listed: a listed name that resolves to a loopback address is refused", async (t) => {
  const name = hostname().toLowerCase();
  const addresses = await lookup(name, { all: true }).catch(() => []);
  if (name === "localhost" || !addresses.some((a) => a.address.startsWith("127."))) {
    t.skip(`this machine's name (${name}) does not resolve to a loopback address`);
    return;
  }
  const e = await upload(`http://${name}:${port}/t.csv`, [name]);
  assert.ok(e instanceof QservError);
  assert.match(e.message, /is a loopback address, which --upload-url-hosts does not list/);
  assert.equal(await upload(`http://${name}:${port}/t.csv`, [name, "127.0.0.1"]), BODY);
});

test("a host entry that is not a host is refused", () => {
  assert.throws(() => parseHostEntry("http://x/"), /not a host or host:port/);
  assert.deepEqual(parseHostEntry("[::1]:80"), { host: "::1", port: "80" });
  assert.deepEqual(parseHostEntry("Data.Example.org"), { host: "data.example.org", port: null });
});
