/** Error codes shared by every component; each names one kind of failure a caller can act on. */
export type ErrorCode =
  | "BAD_CONFIG" // an ingest/partition config file is missing, unreadable or inconsistent
  | "BAD_INPUT" // a catalog row cannot be partitioned (field count, position, key)
  | "BAD_REGION" // a spherical region has invalid parameters
  | "BAD_ARGUMENT" // a command-line or API argument is invalid
  | "IO" // a file could not be read or written
  | "SYNTAX_ERROR" // SQL text does not parse
  | "SQL_ERROR" // SQLite rejected or failed a statement
  | "BAD_QUERY" // SQL that parses but names unknown databases, tables or columns, or is ill-formed
  | "UNSUPPORTED" // SQL the distributed planner cannot run correctly (never answered wrongly instead)
  | "TOO_LARGE" // a query (text, nesting, size) or its result exceeds a limit
  | "NOT_FOUND" // a database, table or chunk is not held
  | "CONFLICT" // a request contradicts what is held (e.g. another schema for a table)
  | "CANCELLED" // the caller or a KILL stopped the work
  | "UNAVAILABLE" // a node cannot be reached or is shutting down
  | "UNAUTHENTICATED" // no credentials, or wrong ones (a user's password, the cluster secret)
  | "FORBIDDEN" // the user is known but their role does not allow the request
  | "INTERNAL"; // a bug: an invariant did not hold

/** A typed error: `code` for programs, `message` for people, `details` for context. */
export class QservError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "QservError";
    this.code = code;
    this.details = details;
  }
}

export function isQservError(e: unknown): e is QservError {
  return e instanceof QservError;
}
