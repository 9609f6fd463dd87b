/** sortInTurns: the same order as Array.prototype.sort (stable), with other tasks run while it sorts. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { prng } from "../../bench/generate.js";
import { sortInTurns } from "../../src/common/sortInTurns.js";

test("sorts as Array.sort does (stable) for every size up to a few hundred and a large one", async () => {
  const r = prng(3);
  const cmp = (a: [number, number], b: [number, number]) => a[0] - b[0];
  for (const n of [...Array.from({ length: 70 }, (_, i) => i), 255, 256, 257, 1000, 100_000]) {
    const xs = Array.from({ length: n }, (_, i): [number, number] => [Math.floor(r() * 50), i]);
    assert.deepEqual(await sortInTurns(xs, cmp), [...xs].sort(cmp), `n = ${n}`);
  }
});

test("other tasks run while a large sort is under way", async () => {
  const xs = Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 200_003);
  let ticks = 0;
  let sorting = true;
  const other = (async () => {
    while (sorting) {
      await new Promise((res) => setImmediate(res));
      ticks++;
    }
  })();
  const sorted = await sortInTurns(xs, (a, b) => a - b);
  sorting = false;
  await other;
  assert.deepEqual(
    sorted,
    [...xs].sort((a, b) => a - b),
  );
  assert.ok(ticks > 1, `the other task ran ${ticks} times during the sort`);
});
