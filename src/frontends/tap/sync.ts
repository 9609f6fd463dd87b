/**
 * `/tap/sync`: one query answered in the HTTP response, written as its rows come. Up to the first
 * flush nothing is sent, so an error before it is a VOTable error document with its status; a
 * failure after it cuts the response short. A client that reads nothing for the write timeout
 * is let go (src/czar/writeWithin.ts).
 */
import type http from "node:http";
import type { Czar } from "../../czar/czar.js";
import { writeWithin } from "../../czar/writeWithin.js";
import type { Params } from "./params.js";
import { runTapQuery, tapQuery } from "./query.js";
import { fetchUploads, type UploadSources } from "./uploadUrl.js";
import { CONTENT_TYPE } from "./votable.js";

export async function syncQuery(
  czar: Czar,
  params: Params,
  res: http.ServerResponse,
  signal: AbortSignal,
  timeoutMs: number,
  uploads: UploadSources,
): Promise<void> {
  await fetchUploads(params, uploads);
  const t = tapQuery(params);
  try {
    await runTapQuery(
      czar,
      t,
      async (data) => {
        if (!res.headersSent) res.writeHead(200, { "content-type": CONTENT_TYPE[t.format], server: "mini-qserv TAP" });
        await writeWithin(res, data, timeoutMs);
      },
      signal,
    );
    res.end();
  } catch (e) {
    if (!res.headersSent) throw e;
    res.destroy(); // the document is cut short: the client sees an incomplete transfer
  }
}
