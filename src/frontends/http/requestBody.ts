/** An HTTP request's body, read whole up to a size limit (past it: TOO_LARGE). */
import type http from "node:http";
import { QservError } from "../../common/errors.js";

/** Bytes of a request body the czar reads (a JSON request, a TAP form or multipart upload). */
export const MAX_BODY = 16 << 20;

export async function readBody(req: http.IncomingMessage, max = MAX_BODY): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new QservError("TOO_LARGE", `request body over ${max} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}
