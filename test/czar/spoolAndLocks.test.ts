/**
 * The czar's spool (rows a slow client has not read: memory, then a file, bounded, removed at the
 * end) and its database locks (no unbounded wait: a timeout or a cancel ends it with an error
 * naming what it waited for, and the waiters behind go on).
 */
import assert from "node:assert/strict";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { Value } from "../../src/common/rowCodec.js";
import { DatabaseLocks } from "../../src/czar/databaseLocks.js";
import { Spool, SpoolBudget } from "../../src/czar/exec/spool.js";
import { makeTempDir } from "../support/fs.js";

const batch = (from: number, n: number): Value[][] =>
  Array.from({ length: n }, (_, i) => [
    BigInt(from + i),
    (from + i) / 3,
    `row ${from + i}`,
    null,
    new Uint8Array([i % 256]),
  ]);

describe("spool", () => {
  const dir = makeTempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("rows past the memory bound go to a file; all come back in order; the file goes at the end", async () => {
    const budget = new SpoolBudget(join(dir, "a"), 1 << 30);
    const spool = new Spool(4096, budget, "t");
    const sent: Value[][] = [];
    for (let i = 0; i < 20; i++) {
      const b = batch(i * 100, 100);
      sent.push(...b);
      spool.push(b);
    }
    assert.equal(readdirSync(budget.dir).length, 1, "spilled to a file");
    assert.ok(budget.used > 0);
    spool.end();
    const got: Value[][] = [];
    for await (const b of spool.batches()) got.push(...b);
    assert.deepEqual(
      got.map((r) => r.map((v) => (v instanceof Uint8Array ? [...v] : v))),
      sent.map((r) => r.map((v) => (v instanceof Uint8Array ? [...v] : v))),
    );
    spool.close();
    assert.deepEqual(readdirSync(budget.dir), []);
    assert.equal(budget.used, 0);
  });

  test("past the disk bound a push fails with TOO_LARGE; a failed spool ends its reader with the error", async () => {
    const budget = new SpoolBudget(join(dir, "b"), 10_000);
    const spool = new Spool(1024, budget, "t");
    assert.throws(
      () => {
        for (let i = 0; i < 100; i++) spool.push(batch(i * 100, 100));
      },
      (e: Error & { code?: string }) => e.code === "TOO_LARGE" && /spool limit/.test(e.message),
    );
    spool.fail(new Error("worker down"));
    await assert.rejects(async () => {
      for await (const _ of spool.batches());
    }, /worker down/);
    spool.close();
    assert.equal(budget.used, 0);
  });

  test("ended with an error (the result limit), the reader gets the rows before it, then the error", async () => {
    const budget = new SpoolBudget(join(dir, "c"), 1 << 30);
    const spool = new Spool(4096, budget, "t");
    for (let i = 0; i < 5; i++) spool.push(batch(i * 100, 100));
    spool.end(new Error("past the limit"));
    let got = 0;
    await assert.rejects(async () => {
      for await (const b of spool.batches()) got += b.length;
    }, /past the limit/);
    assert.equal(got, 500);
    spool.close();
    assert.equal(budget.used, 0);
  });
});

describe("database locks", () => {
  test("a drop waiting on a running query times out naming it; the queries queued behind it go on", async () => {
    const locks = new DatabaseLocks(100);
    const query = await locks.shared("db");
    const drop = locks.exclusive("db");
    const later = locks.shared("db");
    await assert.rejects(drop, /lock wait timeout: waited 0\.1 s for database 'db' \(1 running query or publish\)/);
    const unlockLater = await later;
    unlockLater();
    query();
    (await locks.exclusive("db"))();
  });

  test("a query waiting on a drop times out naming it; a cancelled waiter leaves the queue", async () => {
    const locks = new DatabaseLocks(100);
    const drop = await locks.exclusive("db");
    await assert.rejects(locks.shared("db"), /waited 0\.1 s for database 'db' \(a drop or garbage collection\)/);
    const ac = new AbortController();
    const waiting = locks.shared("db", ac.signal);
    ac.abort();
    await assert.rejects(waiting, (e: Error & { code?: string }) => e.code === "CANCELLED");
    drop();
    (await locks.exclusive("db"))();
  });

  test("publishes of a database take turns beside its queries; a second one waiting times out naming the first", async () => {
    const locks = new DatabaseLocks(100);
    const query = await locks.shared("db");
    const publishing = await locks.writer("db");
    const beside = await locks.shared("db"); // the publish's own share: queries do not hold it off
    await assert.rejects(locks.writer("db"), /waited 0\.1 s for database 'db' \(another load publishing\)/);
    (await locks.writer("other"))();
    beside();
    publishing();
    (await locks.writer("db"))();
    query();
  });
});
