/**
 * A problem the user can fix. The CLI prints `message` and `hint` (one or two
 * lines, no stack trace) and turns `code` into its exit code (source/cli/signals.ts):
 * core says what happened, never how a process ends.
 */
export class UserError extends Error {
  readonly hint: string | undefined;
  readonly code: string;
  constructor(message: string, options: { hint?: string; code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "UserError";
    this.hint = options.hint;
    this.code = options.code ?? "user_error";
  }
}

/** One line for humans: the message, then the fix if there is one. */
export function describeError(error: unknown): string {
  if (error instanceof UserError)
    return error.hint ? `${error.message}\n  fix: ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isErrnoException(error: unknown, code?: string): error is NodeJS.ErrnoException {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    (code === undefined || (error as NodeJS.ErrnoException).code === code)
  );
}
