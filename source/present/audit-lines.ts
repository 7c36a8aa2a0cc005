import type { AuditLine } from "../core/domain/federation-types.js";
import { type SafeText, safe, safeLine } from "./safe-text.js";

/** `2026-12-05T20:31:02.123Z` → `2026-12-05 20:31:02` (UTC, as written). */
function when(at: string): SafeText {
  return safeLine(at.replace("T", " ").replace(/\.\d+Z$|Z$/, ""));
}

/**
 * One audit entry as one line, the same in `clawos audit` and `:audit`: when, how it went, what,
 * on what, who, and why when refused or failed. Every field is sanitized: the file is only 0600.
 */
export function auditLineText(line: AuditLine): SafeText {
  const head = safe`${when(line.at)}  ${safeLine(line.result.padEnd(7))}  ${safeLine(line.action)} ${safeLine(line.target)}  by ${safeLine(line.who)}`;
  return line.reason ? safe`${head} (${safeLine(line.reason)})` : head;
}

export const NO_AUDIT_ENTRIES =
  "No audit entries yet: actions (dispatch, retry, cancel, node changes) are logged as they happen.";
