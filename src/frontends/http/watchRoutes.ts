/** `GET /watch` (the watchers and their files) and `POST /watch` (a watcher's report): src/watch/registry.ts. */
import { QservError } from "../../common/errors.js";
import type { WatchRegistry } from "../../watch/registry.js";

export async function watchRoute(
  registry: WatchRegistry | undefined,
  method: string,
  body: () => Promise<Record<string, unknown>>,
): Promise<unknown> {
  if (registry === undefined) throw new QservError("NOT_FOUND", "this czar keeps no watchers");
  return method === "POST" ? registry.report(await body()) : registry.list();
}
