/** The connection phase: Handshake v10, the client's HandshakeResponse41, mysql_native_password. */
import { createHash, randomBytes } from "node:crypto";
import { PayloadReader, PayloadWriter } from "./packets.js";

/** Capability flags (what both sides can do). */
export const CLIENT = {
  LONG_PASSWORD: 0x1,
  FOUND_ROWS: 0x2,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  PROTOCOL_41: 0x200,
  TRANSACTIONS: 0x2000,
  SECURE_CONNECTION: 0x8000,
  MULTI_RESULTS: 0x20000,
  PLUGIN_AUTH: 0x80000,
  CONNECT_ATTRS: 0x100000,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x200000,
} as const;

/** What this server offers: protocol 4.1 with plugin auth; no SSL, no compression, EOF packets kept. */
export const SERVER_CAPABILITIES = Object.values(CLIENT).reduce((a, b) => a | b, 0);

export const NATIVE_PASSWORD = "mysql_native_password";
/** utf8_general_ci: what the text columns are sent in. */
export const UTF8_CHARSET = 33;

export function newScramble(): Buffer {
  // Printable, no NUL: some clients read the scramble as a C string.
  return Buffer.from([...randomBytes(20)].map((b) => 0x21 + (b % 94)));
}

export function handshakePayload(connectionId: number, serverVersion: string, scramble: Buffer): Buffer {
  return new PayloadWriter()
    .int1(10)
    .nulString(serverVersion)
    .int4(connectionId)
    .bytes(scramble.subarray(0, 8))
    .int1(0)
    .int2(SERVER_CAPABILITIES & 0xffff)
    .int1(UTF8_CHARSET)
    .int2(0x0002)
    .int2(SERVER_CAPABILITIES >>> 16)
    .int1(scramble.length + 1)
    .bytes(Buffer.alloc(10))
    .bytes(scramble.subarray(8))
    .int1(0)
    .nulString(NATIVE_PASSWORD)
    .build();
}

export interface HandshakeResponse {
  capabilities: number;
  user: string;
  authResponse: Buffer;
  database: string | null;
  plugin: string;
}

export function parseHandshakeResponse(payload: Buffer): HandshakeResponse {
  const r = new PayloadReader(payload);
  const capabilities = r.int4();
  r.int4(); // max packet size
  r.int1(); // character set
  r.bytes(23);
  const user = r.nulString();
  let authResponse: Buffer;
  if (capabilities & CLIENT.PLUGIN_AUTH_LENENC_CLIENT_DATA) authResponse = r.bytes(r.lenInt());
  else if (capabilities & CLIENT.SECURE_CONNECTION) authResponse = r.bytes(r.int1());
  else authResponse = Buffer.from(r.nulString(), "utf8");
  const database = capabilities & CLIENT.CONNECT_WITH_DB && r.left > 0 ? r.nulString() : "";
  const plugin = capabilities & CLIENT.PLUGIN_AUTH && r.left > 0 ? r.nulString() : NATIVE_PASSWORD;
  return { capabilities, user, authResponse, database: database === "" ? null : database, plugin };
}

/** AuthSwitchRequest: asks a client that answered with another plugin to use mysql_native_password. */
export function authSwitchPayload(scramble: Buffer): Buffer {
  return new PayloadWriter().int1(0xfe).nulString(NATIVE_PASSWORD).bytes(scramble).int1(0).build();
}

const sha1 = (...parts: Buffer[]) => {
  const h = createHash("sha1");
  for (const p of parts) h.update(p);
  return h.digest();
};

/** mysql_native_password: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))); an empty password sends nothing. */
export function nativePasswordToken(password: string, scramble: Buffer): Buffer {
  if (password === "") return Buffer.alloc(0);
  const stage1 = sha1(Buffer.from(password, "utf8"));
  const mix = sha1(scramble, sha1(stage1));
  return Buffer.from(stage1.map((b, i) => b ^ (mix[i] as number)));
}
