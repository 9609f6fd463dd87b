/** The MySQL error number and SQLSTATE a client expects for each czar error. */
import { type ErrorCode, isQservError } from "../../common/errors.js";

export interface MysqlError {
  code: number;
  sqlState: string;
  message: string;
}

/** MySQL's own numbers where the czar's message says which one it is (it uses MySQL's wording). */
const BY_MESSAGE: Array<[RegExp, number, string]> = [
  [/^Unknown column/, 1054, "42S22"],
  [/^Unknown database/, 1049, "42000"],
  [/^Table '.*' doesn't exist/, 1146, "42S02"],
  [/^Unknown table/, 1051, "42S02"],
  [/^No database selected/, 1046, "3D000"],
  [/^Column '.*' in .* is ambiguous/, 1052, "23000"],
  [/^Not unique table\/alias/, 1066, "42000"],
  [/exceeded its time limit/, 3024, "HY000"],
  [/^Unknown thread id/, 1094, "HY000"],
  [/^You are not owner of thread/, 1095, "HY000"],
  [/BIGINT (UNSIGNED )?value is out of range in/, 1690, "22003"],
];

const BY_CODE: Partial<Record<ErrorCode, [number, string]>> = {
  SYNTAX_ERROR: [1064, "42000"],
  UNSUPPORTED: [1235, "42000"],
  CANCELLED: [1317, "70100"],
  BAD_ARGUMENT: [1210, "HY000"],
  FORBIDDEN: [1142, "42000"],
  UNAUTHENTICATED: [1045, "28000"],
};

/** ER_UNKNOWN_ERROR: everything else, the czar's code kept in the message. */
const OTHER: [number, string] = [1105, "HY000"];

export function mysqlError(e: unknown): MysqlError {
  if (!isQservError(e)) return { code: OTHER[0], sqlState: OTHER[1], message: `INTERNAL: ${String(e)}` };
  const hit = BY_MESSAGE.find(([re]) => re.test(e.message));
  if (hit !== undefined) return { code: hit[1], sqlState: hit[2], message: e.message };
  const known = BY_CODE[e.code];
  if (known !== undefined) return { code: known[0], sqlState: known[1], message: e.message };
  return { code: OTHER[0], sqlState: OTHER[1], message: `${e.code}: ${e.message}` };
}
