/**
 * The crash loop (`npm run soak:crash [-- --kills 20 --objects 20000 --health 1]`, not part of `npm test`):
 * the demo layout (18 stripes) over 3 workers, R = 2, automatic repair every second; the czar is
 * SIGKILLed `kills` times in a row, each time during an append's publish (the test points in
 * turn, and the moment the ingest reports its publish; every other round of them killed again in
 * the journal's replay at the restart), restarted, and the append retried, with a
 * repair pass before the retry every other time; the table's count and sum are sampled every
 * 150 ms throughout. It ends exact, with every chunk on 2 live replicas, or exits 1.
 */
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { CRASH_POINTS, type CrashPoint, CrashRig, FORWARD } from "../support/crashRig.js";
import { makeTempDir } from "../support/fs.js";

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "20" },
    objects: { type: "string", default: "20000" },
    // The czar's health interval (s): its probes get half of it (at most 2.5 s) to answer.
    health: { type: "string", default: "1" },
  },
});
const kills = Number(values.kills);
/** The points where a journal entry is open (the replay has work to halt in). */
const JOURNALED: ReadonlySet<CrashPoint> = new Set([
  "publish:journal",
  "publish:partial",
  "publish:workers",
  "publish:committed",
  "publish:recorded",
]);
const dir = makeTempDir("mq-soak-");
const t0 = performance.now();
const say = (m: string) => console.log(`${((performance.now() - t0) / 1000).toFixed(1)}s ${m}`);
let rig: CrashRig | null = null;
try {
  rig = await CrashRig.start(dir, Number(values.objects), kills + 1, 18, { repair: 1, health: Number(values.health) });
  say(`loaded part 0 of ${kills + 1}`);
  rig.startSampler();
  for (let k = 0; k < kills; k++) {
    const point = CRASH_POINTS[k % CRASH_POINTS.length]!;
    const repair = k % 2 === 0;
    // Every other round of the points, killed again in the replay (points that leave a journal entry).
    const replay =
      Math.floor(k / CRASH_POINTS.length) % 2 === 1 && JOURNALED.has(point)
        ? FORWARD.has(point)
          ? "replay:forward"
          : "replay:back"
        : undefined;
    await rig.crashAppend(k + 1, point, repair, replay);
    say(
      `kill ${k + 1}/${kills} at ${point}${replay ? ` and ${replay}` : ""}${repair ? " + repair pass" : ""}: exact after the retry, every chunk on 2 replicas`,
    );
  }
  await rig.stopSampler();
  await rig.expectExact(kills + 1, "at the end");
  await rig.expectWhole();
  say(
    `${rig.samples} samples (${rig.errors} clear errors while the czar was down or halted), ${rig.violations.length} wrong`,
  );
  if (rig.violations.length > 0) {
    console.log(rig.violations);
    process.exitCode = 1;
  } else say("soak passed");
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await rig?.stop();
  rmSync(dir, { recursive: true, force: true });
}
