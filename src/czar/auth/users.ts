/**
 * The czar's users, for HTTP (Basic auth) and the MySQL port alike: a name, a role, and the
 * password kept only as hashes — scrypt for HTTP, MySQL's SHA1(SHA1(password)) for the MySQL
 * native-password handshake. The users file (`--users-file`) is a JSON array of
 * {"user", "role", "scrypt", "mysql_native"} written by `mini-qserv user add`.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { QservError } from "../../common/errors.js";

export type Role = "reader" | "writer" | "admin";
export const ROLES: readonly Role[] = ["reader", "writer", "admin"];

/** Whether `role` may do what `need` may (admin ⊇ writer ⊇ reader). */
export function allows(role: Role, need: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(need);
}

/** One line of the users file. */
export interface UserEntry {
  user: string;
  role: Role;
  /** `scrypt$N$r$p$<salt hex>$<hash hex>` */
  scrypt: string;
  /** Hex of SHA1(SHA1(password)) (absent: the user cannot log in on the MySQL port). */
  mysql_native?: string;
}

export interface Principal {
  user: string;
  role: Role;
}

const sha1 = (...parts: Buffer[]) => {
  const h = createHash("sha1");
  for (const p of parts) h.update(p);
  return h.digest();
};

const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

function scrypt(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, 32, { N, r, p, maxmem: 256 * N * r }, (e, key) => (e ? reject(e) : resolve(key))),
  );
}

/** The users-file entry of a new user (a fresh salt each time). */
export async function userEntry(user: string, role: Role, password: string): Promise<UserEntry> {
  checkEntryFields(user, role);
  if (password === "") throw new QservError("BAD_ARGUMENT", "a user's password may not be empty");
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p);
  return {
    user,
    role,
    scrypt: `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("hex")}$${key.toString("hex")}`,
    mysql_native: sha1(sha1(Buffer.from(password, "utf8"))).toString("hex"),
  };
}

function checkEntryFields(user: unknown, role: unknown): void {
  if (typeof user !== "string" || !/^[A-Za-z0-9_.@-]{1,64}$/.test(user)) {
    throw new QservError("BAD_CONFIG", `user name ${JSON.stringify(user)}: 1–64 of A-Z a-z 0-9 _ . @ -`);
  }
  if (!ROLES.includes(role as Role)) {
    throw new QservError("BAD_CONFIG", `user ${user}: role must be one of ${ROLES.join(", ")}`);
  }
}

/** The entries of a users file (a JSON array), checked; a missing file when `mayBeMissing` is none. */
export function readUsersFile(path: string, mayBeMissing = false): UserEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (mayBeMissing && (e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new QservError("BAD_CONFIG", `users file ${path}: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new QservError("BAD_CONFIG", `users file ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(v)) throw new QservError("BAD_CONFIG", `users file ${path}: expected a JSON array of users`);
  const entries = v as UserEntry[];
  try {
    new Users(entries);
  } catch (e) {
    throw new QservError("BAD_CONFIG", `users file ${path}: ${(e as Error).message}`);
  }
  return entries;
}

/** Successful checks remembered (by a digest of name and password) so that scrypt runs once per login, not per request. */
const CACHE_MS = 5 * 60_000;
const CACHE_MAX = 1000;

export class Users {
  private readonly byName = new Map<string, UserEntry>();
  private readonly verified = new Map<string, number>();

  constructor(entries: readonly UserEntry[]) {
    for (const e of entries) {
      checkEntryFields(e.user, e.role);
      if (typeof e.scrypt !== "string" || e.scrypt.split("$").length !== 6) {
        throw new QservError("BAD_CONFIG", `user ${e.user}: "scrypt" must be scrypt$N$r$p$salt$hash`);
      }
      if (e.mysql_native !== undefined && !/^[0-9a-f]{40}$/.test(e.mysql_native)) {
        throw new QservError("BAD_CONFIG", `user ${e.user}: "mysql_native" must be 40 hex digits`);
      }
      if (this.byName.has(e.user)) throw new QservError("BAD_CONFIG", `user ${e.user} listed twice`);
      this.byName.set(e.user, e);
    }
  }

  /** True when anyone is configured: requests then need credentials. */
  get configured(): boolean {
    return this.byName.size > 0;
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** The user if `password` is theirs (constant time in the hash comparison), else null. */
  async check(user: string, password: string): Promise<Principal | null> {
    const e = this.byName.get(user);
    if (e === undefined) return null;
    const memo = createHash("sha256").update(`${user}\0${password}\0${e.scrypt}`).digest("hex");
    const at = this.verified.get(memo);
    if (at !== undefined && Date.now() - at < CACHE_MS) return { user: e.user, role: e.role };
    const [, n, r, p, salt, hash] = e.scrypt.split("$") as [string, string, string, string, string, string];
    const want = Buffer.from(hash, "hex");
    const got = await scrypt(password, Buffer.from(salt, "hex"), Number(n), Number(r), Number(p));
    if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
    if (this.verified.size >= CACHE_MAX) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(memo, Date.now());
    return { user: e.user, role: e.role };
  }

  /**
   * The user if `token` is the answer to `scramble` of MySQL's native-password handshake for
   * their password (checked against SHA1(SHA1(password)): SHA1(token XOR SHA1(scramble + stored))
   * must be the stored value).
   */
  checkMysql(user: string, scramble: Buffer, token: Buffer): Principal | null {
    const e = this.byName.get(user);
    if (e?.mysql_native === undefined || token.length !== 20) return null;
    const stored = Buffer.from(e.mysql_native, "hex");
    const mix = sha1(scramble, stored);
    const stage1 = Buffer.from(token.map((b, i) => b ^ (mix[i] as number)));
    return timingSafeEqual(sha1(stage1), stored) ? { user: e.user, role: e.role } : null;
  }
}
