/**
 * The MySQL front end's protocol pieces: packet framing (payloads split over packets and over
 * socket reads), mysql_native_password checked when a password is configured, and the
 * statements a czar without workers answers by itself.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mysql from "mysql2/promise";
import { Czar } from "../../src/czar/czar.js";
import { Metadata } from "../../src/czar/metadata.js";
import { frame, PacketParser, PayloadReader, PayloadWriter } from "../../src/frontends/mysql/packets.js";
import { type MysqlServer, startMysqlServer } from "../../src/frontends/mysql/server.js";

describe("MySQL packets", () => {
  test("framing round-trips, whatever the socket reads split", () => {
    const payloads = [Buffer.alloc(0), Buffer.from("hello"), Buffer.alloc(70_000, 7)];
    let seq = 0;
    const bytes = Buffer.concat(
      payloads.map((p) => {
        const f = frame(p, seq);
        seq = f.next;
        return f.bytes;
      }),
    );
    const parser = new PacketParser();
    const got = [];
    for (let i = 0; i < bytes.length; i += 999) got.push(...parser.push(bytes.subarray(i, i + 999)));
    assert.deepEqual(
      got.map((p) => [p.seq, p.payload.length]),
      [
        [0, 0],
        [1, 5],
        [2, 70_000],
      ],
    );
    assert.ok(got[2]?.payload.equals(payloads[2] as Buffer));
  });

  test("a payload of 2^24 - 1 bytes or more continues in the next packet", () => {
    const big = Buffer.alloc(0xffffff + 10, 1);
    const f = frame(big, 5);
    assert.equal(f.next, 7);
    const [p] = new PacketParser().push(f.bytes);
    assert.equal(p?.payload.length, big.length);
  });

  test("length-encoded integers and strings", () => {
    for (const n of [0, 250, 251, 65_535, 65_536, 16_777_215, 16_777_216, 2 ** 40]) {
      const r = new PayloadReader(new PayloadWriter().lenInt(n).lenString("é").build());
      assert.equal(r.lenInt(), n);
      assert.equal(r.bytes(r.lenInt()).toString("utf8"), "é");
    }
  });
});

describe("MySQL front end with a password", () => {
  let server: MysqlServer;
  const meta = Metadata.open(":memory:");
  const czar = new Czar({ catalog: meta, directory: { replicas: () => [], client: () => assert.fail("no workers") } });

  before(async () => {
    server = await startMysqlServer({ czar, port: 0, user: "astro", password: "s3cret" });
  });
  after(async () => {
    await server.close();
    meta.close();
  });

  const connect = (user: string, password: string) =>
    mysql.createConnection({ host: "127.0.0.1", port: server.port, user, password, rowsAsArray: true });

  test("a wrong password or user is refused with 1045 (28000)", async () => {
    for (const [u, p] of [
      ["astro", "wrong"],
      ["astro", ""],
      ["root", "s3cret"],
    ] as const) {
      await assert.rejects(connect(u, p), (e: Error & { errno?: number; sqlState?: string }) => {
        assert.equal(e.errno, 1045);
        assert.equal(e.sqlState, "28000");
        return true;
      });
    }
  });

  test("the right one connects; ping, connect-time queries, USE of an unknown database", async () => {
    const c = await connect("astro", "s3cret");
    try {
      await c.ping();
      const [rows, fields] = (await c.query("SELECT 1 + 1, DATABASE(), 'héllo', @@version_comment")) as unknown as [
        unknown[][],
        Array<{ name: string }>,
      ];
      assert.deepEqual(rows[0]?.slice(0, 3), [2, null, "héllo"]);
      // MySQL's names: the source text, a string literal's value, @@name.
      assert.deepEqual(
        fields.map((f) => f.name),
        ["1 + 1", "DATABASE()", "héllo", "@@version_comment"],
      );
      await c.query("SET NAMES utf8mb4");
      await c.query("SET autocommit = 1");
      const [dbs] = (await c.query("SHOW DATABASES")) as unknown as [unknown[][]];
      assert.ok(Array.isArray(dbs));
      await assert.rejects(c.query("USE nowhere"), (e: Error & { errno?: number }) => e.errno === 1049);
      await assert.rejects(c.changeUser({ database: "nowhere" }));
    } finally {
      await c.end().catch(() => {});
    }
  });
});
