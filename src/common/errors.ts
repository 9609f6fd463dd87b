/** Error codes shared by every component; each names one kind of failure a caller can act on. */
export type ErrorCode =
  | "BAD_CONFIG" // an ingest/partition config file is missing, unreadable or inconsistent
  | "BAD_INPUT" // a catalog row cannot be partitioned (field count, position, key)
  | "BAD_REGION" // a spherical region has invalid parameters
  | "BAD_ARGUMENT" // a command-line or API argument is invalid
  | "IO"; // a file could not be read or written

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
