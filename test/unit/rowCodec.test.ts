/** The row encoding: values round-trip exactly; take() hands on buffers no bigger than their rows need. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeRows, RowEncoder, type Value } from "../../src/common/rowCodec.js";

const rows: Value[][] = [
  [1n, 2.5, "text ✓", null, new Uint8Array([0, 255, 7])],
  [-(2n ** 63n), Number.MAX_VALUE, "", null, new Uint8Array([])],
  [2n ** 63n - 1n, -0.125, "x".repeat(1000), null, new Uint8Array(300).fill(9)],
];
const decoded = (buf: Uint8Array, n: number) =>
  decodeRows(buf, 5, n).map((r) => r.map((v) => (v instanceof Uint8Array ? [...v] : v)));
const plain = (rs: Value[][]) => rs.map((r) => r.map((v) => (v instanceof Uint8Array ? [...v] : v)));

test("values round-trip: 64-bit integers, doubles, UTF-8 text, NULL, blobs", () => {
  const enc = new RowEncoder(16);
  for (const r of rows) enc.append(r);
  assert.equal(enc.rows, 3);
  const buf = enc.take();
  assert.deepEqual(decoded(buf, 3), plain(rows));
  assert.equal(enc.rows, 0);
  assert.equal(enc.bytes, 0);
});

test("a small answer is copied out of a big buffer (the buffer is kept); a full one is handed over", () => {
  const enc = new RowEncoder(1 << 20);
  enc.append([1n, 1, "a", null, new Uint8Array([1])]);
  const small = enc.take();
  assert.ok(small.buffer.byteLength < 1024, `${small.buffer.byteLength} bytes behind a one-row batch`);
  assert.deepEqual(decoded(small, 1), [[1n, 1, "a", null, [1]]]);
  // The next rows still encode after a copy-out and after a hand-over.
  const big = new RowEncoder(64);
  for (let i = 0; i < 100; i++) big.append(rows[i % 3]!);
  const full = big.take();
  assert.ok(full.length * 4 >= full.buffer.byteLength, "mostly full: handed over as it is");
  assert.equal(decodeRows(full, 5, 100).length, 100);
  big.append(rows[0]!);
  assert.deepEqual(decoded(big.take(), 1), plain([rows[0]!]));
});
