/** One readable stream out of the JSON log lines of several processes. */
import { prettyFactory } from "pino-pretty";

export type LogLine = Record<string, unknown> | string;

/** Formats log lines of node `name` ("czar", "w1", ...): time, level, node, message, fields. */
export function logFormatter(color: boolean): (name: string, line: LogLine) => string {
  const pretty = prettyFactory({
    colorize: color,
    translateTime: "HH:MM:ss.l",
    ignore: "pid,hostname",
    singleLine: true,
  });
  return (name, line) => {
    if (typeof line === "string") return `${name}: ${line}\n`;
    const out = pretty({ ...line, name });
    return out.endsWith("\n") ? out : `${out}\n`;
  };
}
