/** The users file and its checks: scrypt for HTTP, MySQL's stored SHA1(SHA1(pw)) for the handshake; the cluster secret compare. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { sameSecret } from "../../src/common/clusterSecret.js";
import { allows, readUsersFile, Users, userEntry } from "../../src/czar/auth/users.js";
import { nativePasswordToken, newScramble } from "../../src/frontends/mysql/handshake.js";
import { tempDir } from "../support/fs.js";

test("a user's password checks out over HTTP and the MySQL handshake; others do not", async () => {
  const users = new Users([await userEntry("alice", "reader", "correct horse"), await userEntry("ada", "admin", "x1")]);
  assert.deepEqual(await users.check("alice", "correct horse"), { user: "alice", role: "reader" });
  // Again: answered from the cache of successful checks, the same way.
  assert.deepEqual(await users.check("alice", "correct horse"), { user: "alice", role: "reader" });
  assert.equal(await users.check("alice", "correct horsE"), null);
  assert.equal(await users.check("alice", "x1"), null);
  assert.equal(await users.check("nobody", "x1"), null);
  const scramble = newScramble();
  assert.deepEqual(users.checkMysql("ada", scramble, nativePasswordToken("x1", scramble)), {
    user: "ada",
    role: "admin",
  });
  assert.equal(users.checkMysql("ada", scramble, nativePasswordToken("x2", scramble)), null);
  assert.equal(users.checkMysql("ada", newScramble(), nativePasswordToken("x1", scramble)), null, "another scramble");
  assert.equal(users.checkMysql("alice", scramble, nativePasswordToken("x1", scramble)), null);
  assert.ok(allows("admin", "writer") && allows("writer", "reader") && !allows("reader", "writer"));
});

test("a users file with a bad role, a bad hash or a user twice is refused, naming the problem", async () => {
  const dir = tempDir();
  const good = await userEntry("bob", "writer", "pw");
  const cases: Array<[unknown, RegExp]> = [
    [{ users: [] }, /expected a JSON array/],
    [[{ ...good, role: "root" }], /role must be one of reader, writer, admin/],
    [[{ ...good, scrypt: "md5$x" }], /"scrypt" must be/],
    [[good, good], /listed twice/],
    [[{ ...good, user: "../x" }], /user name/],
  ];
  for (const [content, message] of cases) {
    const f = join(dir, "users.json");
    writeFileSync(f, JSON.stringify(content));
    assert.throws(
      () => readUsersFile(f),
      (e: Error & { code?: string }) => e.code === "BAD_CONFIG" && message.test(e.message),
    );
  }
  assert.deepEqual(readUsersFile(join(dir, "absent.json"), true), []);
  assert.throws(() => readUsersFile(join(dir, "absent.json")), /ENOENT/);
});

test("the cluster secret compare: equal only for the same text", () => {
  assert.ok(sameSecret("abc".repeat(10), "abc".repeat(10)));
  assert.ok(!sameSecret("abc".repeat(10), "abd".repeat(10)));
  assert.ok(!sameSecret("abc".repeat(10), "abc"));
});
