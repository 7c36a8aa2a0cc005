import type { z } from "zod";
import { sanitizeLine } from "../infra/sanitize.js";

/**
 * Which field is wrong and how, in words that never quote the record: zod's own messages
 * can include the value received, and a field name from the record itself is cut short.
 */
export function describeRecordIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "is not a valid record";
  const field = issue.path.length ? sanitizeLine(issue.path.map(String).join(".")) : "(root)";
  const name = field.length > 60 ? `${field.slice(0, 57)}...` : field;
  const problem =
    issue.code === "invalid_type"
      ? `should be ${issue.expected}`
      : issue.code === "too_big" || issue.code === "too_small"
        ? `is too ${issue.code === "too_big" ? "long or large" : "short or small"}`
        : "is invalid";
  return `field "${name}" ${problem}`;
}
