/** multipart/form-data bodies (RFC 7578): each part's name, file name (null for a field) and bytes. */
import { QservError } from "../../common/errors.js";

export interface Part {
  name: string;
  filename: string | null;
  data: Buffer;
}

const bad = (m: string) => new QservError("BAD_ARGUMENT", `multipart/form-data: ${m}`);

export function parseMultipart(body: Buffer, contentType: string): Part[] {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (boundary === undefined) throw bad("no boundary in the content type");
  const delim = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = body.indexOf(delim);
  if (at < 0) throw bad("no part");
  for (;;) {
    at += delim.length;
    if (body.subarray(at, at + 2).toString() === "--") return parts;
    const headEnd = body.indexOf("\r\n\r\n", at);
    if (headEnd < 0) throw bad("a part without headers");
    const head = body.subarray(at, headEnd).toString("utf8");
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delim]), headEnd + 4);
    if (next < 0) throw bad("a part without its closing boundary");
    const disp = /content-disposition:\s*form-data([^\r\n]*)/i.exec(head)?.[1] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disp)?.[1];
    if (name === undefined) throw bad("a part without a name");
    const filename = /\bfilename="([^"]*)"/i.exec(disp)?.[1] ?? null;
    parts.push({ name, filename, data: body.subarray(headEnd + 4, next) });
    at = next + 2;
  }
}
