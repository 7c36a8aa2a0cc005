import type { z } from "zod";
import { MAX_RECORD_BYTES } from "../../domain/schema.js";
import { describeRecordIssue } from "../record-issue.js";

/**
 * Records on a NATS blackboard are written by other machines: whatever they hold is parsed
 * here, and what is said about a bad one never quotes its bytes (a problem line or a reason
 * set aside reaches terminals and logs on every machine).
 */

const decoder = new TextDecoder();

export function parseJsonRecord<T>(
  value: Uint8Array,
  schema: z.ZodType<T>,
): { ok: true; value: T } | { ok: false; reason: string } {
  if (value.length > MAX_RECORD_BYTES)
    return { ok: false, reason: `is ${value.length} bytes, over the ${MAX_RECORD_BYTES}-byte limit` };
  let data: unknown;
  try {
    data = JSON.parse(decoder.decode(value));
  } catch {
    // JSON.parse's own message quotes the text around the error: never repeat it.
    return { ok: false, reason: "is not valid JSON" };
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) return { ok: false, reason: describeRecordIssue(parsed.error) };
  return { ok: true, value: parsed.data };
}
