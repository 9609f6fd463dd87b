/**
 * MySQL logins against a real czar process on loopback, with mysql2: wrong passwords from one
 * address are delayed more and more (the czar logs each delay) and lock the address out (1129,
 * the right password too) while other addresses still log in; a success resets the count. The
 * password comes from a file or the environment and is never on a command line `ps` shows, also
 * when `mini-qserv up` starts the czar. And the throttle itself on a fake clock.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect as connectSocket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import mysql from "mysql2/promise";
import { type CzarProcess, startCzarProcess } from "../../src/cluster/czarProcess.js";
import { LoginThrottle } from "../../src/frontends/mysql/loginThrottle.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/fs.js";
import { CLI } from "../support/paths.js";

const PASSWORD = "s3cret-Hunter2";

/** A mysql2 connection from `localAddress` (any of 127/8 on Linux: another client address). */
const connect = (port: number, password: string, localAddress: string) =>
  mysql.createConnection({
    user: "astro",
    password,
    stream: connectSocket({ host: "127.0.0.1", port, localAddress }),
  });

/** Logs in; resolves to "ok" or the MySQL error number. */
async function login(port: number, password: string, localAddress = "127.0.0.1"): Promise<"ok" | number> {
  try {
    const c = await connect(port, password, localAddress);
    const [rows] = (await c.query("SELECT 1 + 1 AS two")) as unknown as [Array<{ two: number }>];
    assert.equal(rows[0]?.two, 2);
    await c.end();
    return "ok";
  } catch (e) {
    const errno = (e as { errno?: number }).errno;
    if (errno === undefined) throw e;
    return errno;
  }
}

/** The command line of `pid` as `ps` shows it to every local user. */
const psArgs = (pid: number) => execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" });

describe("failed MySQL logins are slowed, then locked out, per source address", () => {
  let czar: CzarProcess;
  const failures = 5;

  before(async () => {
    const dir = tempDir();
    const file = join(dir, "mysql-password");
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
    czar = await startCzarProcess(
      join(dir, "czar"),
      [],
      [
        "--mysql-user",
        "astro",
        "--mysql-password-file",
        file,
        "--login-max-failures",
        String(failures),
        "--login-lockout",
        "3600",
      ],
    );
  });
  after(async () => {
    await czar.stop();
  });

  test("the password is read from the file and is not in the czar's ps args", async () => {
    const args = psArgs(czar.proc.pid as number);
    assert.match(args, /--mysql-password-file/);
    assert.ok(!args.includes(PASSWORD), args);
    assert.equal(await login(czar.mysqlPort, PASSWORD, "127.0.0.9"), "ok");
  });

  test("60 wrong passwords: delays doubling, then 1129 for every login from that address", async () => {
    const from = "127.0.0.2";
    const codes: Array<"ok" | number> = [];
    for (let i = 0; i < 60; i++) codes.push(await login(czar.mysqlPort, `guess-${i}`, from));
    assert.deepEqual(codes.slice(0, failures), Array(failures).fill(1045));
    assert.deepEqual(codes.slice(failures), Array(60 - failures).fill(1129));
    // Locked: the right password is refused too, with when the lockout ends.
    await assert.rejects(connect(czar.mysqlPort, PASSWORD, from), (e: Error & { errno?: number }) => {
      assert.equal(e.errno, 1129);
      assert.match(e.message, /Host '.*127\.0\.0\.2' is blocked because of many failed logins; try again in \d+ s/);
      return true;
    });
    // What the czar reports: each failure's delay, twice the last, and the lockout.
    const lines = czar.logs.filter((l) => String(l.address).endsWith(from));
    const delays = lines.map((l) => l.delayMs as number);
    assert.equal(delays.length, failures, "only failures that reached the password check are counted");
    for (let i = 1; i < delays.length; i++) assert.equal(delays[i], 2 * (delays[i - 1] as number));
    assert.equal(lines.at(-1)?.msg, "mysql login locked out");
    // Another address is not locked out.
    assert.equal(await login(czar.mysqlPort, PASSWORD, "127.0.0.3"), "ok");
  });

  test("50 wrong passwords at once from one address: only the first N reach the password check", async () => {
    const codes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => login(czar.mysqlPort, `parallel-${i}`, "127.0.0.5")),
    );
    assert.equal(codes.filter((c) => c === 1045).length, failures);
    assert.equal(codes.filter((c) => c === 1129).length, 50 - failures);
  });

  test("a successful login resets the count of its address", async () => {
    const from = "127.0.0.4";
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < failures - 1; i++) assert.equal(await login(czar.mysqlPort, "wrong", from), 1045);
      assert.equal(await login(czar.mysqlPort, PASSWORD, from), "ok");
    }
  });
});

describe("the MySQL password from the environment", () => {
  let czar: CzarProcess;

  before(async () => {
    czar = await startCzarProcess(
      join(tempDir(), "czar"),
      [],
      ["--mysql-user", "astro", "--login-max-failures", "2", "--login-lockout", "0.5"],
      {
        env: { MINI_QSERV_MYSQL_PASSWORD: PASSWORD },
      },
    );
  });
  after(async () => {
    await czar.stop();
  });

  test("is required of clients and is not in the czar's ps args", async () => {
    assert.ok(!psArgs(czar.proc.pid as number).includes(PASSWORD));
    assert.equal(await login(czar.mysqlPort, "wrong"), 1045);
    assert.equal(await login(czar.mysqlPort, PASSWORD), "ok");
  });

  test("once the lockout window ends, the right password logs in again", async () => {
    const from = "127.0.0.6";
    assert.deepEqual([await login(czar.mysqlPort, "a", from), await login(czar.mysqlPort, "b", from)], [1045, 1045]);
    // Locked until the window ends (however long this machine takes to get here): 1129, then in.
    const seen: Array<"ok" | number> = [];
    const bound = Date.now() + 60_000;
    while (seen.at(-1) !== "ok" && Date.now() < bound) seen.push(await login(czar.mysqlPort, PASSWORD, from));
    assert.equal(seen.at(-1), "ok");
    assert.ok(
      seen.slice(0, -1).every((c) => c === 1129),
      String(seen),
    );
  });
});

describe("mini-qserv up --mysql-password-file", () => {
  let up: ChildProcess;
  let mysqlPort = 0;

  before(async () => {
    const dir = tempDir();
    const file = join(dir, "pw");
    writeFileSync(file, PASSWORD, { mode: 0o600 });
    const args = ["--workers", "1", "--data-dir", join(dir, "cluster"), "--http-port", "0", "--mysql-port", "0"];
    up = spawn(process.execPath, [CLI, "up", ...args, "--mysql-user", "astro", "--mysql-password-file", file], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    await new Promise<void>((resolve, reject) => {
      up.stdout!.setEncoding("utf8");
      up.stdout!.on("data", (s: string) => {
        out += s;
        const m = /mysql:\/\/[^:]+:(\d+) \(MySQL\)/.exec(out);
        if (m !== null) mysqlPort = Number(m[1]);
        if (out.includes("up: ready")) resolve();
      });
      up.once("exit", (code) => reject(new Error(`up exited with ${code}: ${out}`)));
    });
  });
  after(async () => {
    const exited = once(up, "exit");
    up.kill("SIGINT");
    await exited;
  });

  test("the czar it starts requires the password, which no node's ps args show", async () => {
    assert.equal(await login(mysqlPort, "wrong"), 1045);
    assert.equal(await login(mysqlPort, PASSWORD), "ok");
    const children = readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          // ppid is the 4th field of /proc/PID/stat, after "(comm)".
          const stat = readFileSync(`/proc/${p}/stat`, "utf8");
          return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === up.pid;
        } catch {
          return false;
        }
      });
    const args = children.map((p) => psArgs(Number(p)));
    assert.ok(
      args.some((a) => / czar .*--mysql-password-file/.test(a)),
      args.join("\n"),
    );
    for (const a of [psArgs(up.pid as number), ...args]) assert.ok(!a.includes(PASSWORD), a);
  });
});

describe("LoginThrottle", () => {
  test("delays double up to the cap; N failures lock out until the window ends; success clears", () => {
    let now = 0;
    const t = new LoginThrottle({ maxFailures: 8, lockoutMs: 1000, baseDelayMs: 10, maxDelayMs: 100, now: () => now });
    const delays = Array.from({ length: 8 }, () => t.failed("a").delayMs);
    assert.deepEqual(delays, [10, 20, 40, 80, 100, 100, 100, 100]);
    assert.equal(t.lockedFor("a"), 1000);
    assert.equal(t.lockedFor("b"), 0);
    now = 999;
    assert.equal(t.lockedFor("a"), 1);
    now = 1000;
    assert.equal(t.lockedFor("a"), 0);
    assert.equal(t.failed("a").failures, 1, "a lockout that ended starts the count again");
    t.succeeded("a");
    assert.equal(t.failed("a").failures, 1);
    now += 1000;
    assert.equal(t.failed("a").failures, 1, "a failure older than the window is forgotten");
  });

  test("the table is bounded: expired entries are dropped, and past the limit the oldest", () => {
    let now = 0;
    const t = new LoginThrottle({ maxFailures: 3, lockoutMs: 1000, maxEntries: 100, now: () => now });
    for (let i = 0; i < 1000; i++) {
      now = i;
      t.failed(`10.0.${i >> 8}.${i & 255}`);
    }
    assert.equal(t.size, 100);
    now = 5000;
    t.failed("x");
    assert.equal(t.size, 1);
  });
});

describe("mini-qserv czar: bad password options", () => {
  test("a missing or empty password file, or both a password and a file, are clear errors", () => {
    const dir = tempDir();
    const empty = join(dir, "empty");
    writeFileSync(empty, "\n");
    const czar = (extra: string[]) => runCli(["czar", "--data-dir", join(dir, "czar"), "--mysql-port", "0", ...extra]);
    for (const [extra, message] of [
      [["--mysql-password-file", join(dir, "nowhere")], /--mysql-password-file .*nowhere: ENOENT/],
      [["--mysql-password-file", empty], /the first line is empty/],
      [["--mysql-password", "x", "--mysql-password-file", empty], /give one/],
    ] as const) {
      const r = czar([...extra]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /error \[BAD_ARGUMENT\]/);
      assert.match(r.stderr, message);
    }
  });
});
