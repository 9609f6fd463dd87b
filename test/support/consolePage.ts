/**
 * Steps on the web console's page shared by its tests, screenshots and benchmark. What runs in
 * the browser is given as text (this project's TypeScript has no DOM types).
 */
import type { Page } from "playwright-core";

/** Waits until the map has drawn `n` chunks; their ids in order. */
export async function drawnChunks(page: Page, n: number): Promise<number[]> {
  await page.waitForFunction(`document.querySelectorAll("path.chunk").length === ${n}`, undefined, { timeout: 60_000 });
  const ids = await page.evaluate<number[]>(
    `[...document.querySelectorAll("path.chunk")].map((p) => Number(p.getAttribute("data-chunk")))`,
  );
  return ids.sort((a, b) => a - b);
}

/** Types `sql` in the console, runs it on `database` and waits for its answer. */
export async function runInConsole(page: Page, sql: string, database: string): Promise<void> {
  await page.waitForFunction(
    `[...document.getElementById("console-db").options].some((o) => o.value === ${JSON.stringify(database)})`,
  );
  await page.selectOption("#console-db", database);
  await page.fill("#sql", sql);
  await page.click("#run");
  await page.locator("#console-status", { hasText: /rows in|failed/ }).waitFor({ timeout: 60_000 });
}

/** Every row of the console's result table, page after page, as cell texts. */
export async function consoleRows(page: Page): Promise<string[][]> {
  const out: string[][] = [];
  for (;;) {
    out.push(
      ...(await page.$$eval("#rows tbody tr", (trs) =>
        trs.map((tr) => [...tr.children].map((td) => td.textContent ?? "")),
      )),
    );
    const [at, of] = ((await page.locator("#page").textContent()) ?? "").match(/\d+/g)!.map(Number) as [number, number];
    if (at >= of) return out;
    await page.click("#next");
    await page.locator("#page", { hasText: `page ${at + 1} of` }).waitFor();
  }
}

/** The text of a blob the page links to from the element `id` (a download). */
export function download(page: Page, id: string): Promise<string> {
  return page.evaluate<string>(`fetch(document.getElementById(${JSON.stringify(id)}).href).then((r) => r.text())`);
}

/** True when every chunk drawn has the replica state `state` (ok, under, lost) — `count` of them when given. */
export function chunksIn(page: Page, state: string): Promise<number> {
  return page.evaluate<number>(`document.querySelectorAll("path.chunk.${state}").length`);
}
