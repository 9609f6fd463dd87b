import assert from "node:assert/strict";
import { test } from "node:test";
import { Gate } from "../../src/czar/gate.js";

test("shared holders run together; an exclusive one waits for them, and later arrivals wait for it", async () => {
  const gate = new Gate();
  const log: string[] = [];
  const step = () => new Promise((r) => setTimeout(r, 10));
  const held = (name: string) => async () => {
    log.push(`${name}+`);
    await step();
    log.push(`${name}-`);
  };
  await Promise.all([
    gate.run("shared", held("s1")),
    gate.run("shared", held("s2")),
    gate.run("exclusive", held("x")),
    gate.run("shared", held("s3")),
  ]);
  assert.deepEqual(log.slice(0, 2), ["s1+", "s2+"]);
  assert.deepEqual(log.slice(4), ["x+", "x-", "s3+", "s3-"]);
});
