import type { z } from "zod";
import { describeZodError, MAX_RECORD_BYTES } from "../../domain/schema.js";
import { sanitizeLine } from "../../infra/sanitize.js";

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
  if (!parsed.success) {
    const { field, problem } = describeZodError(parsed.error);
    return { ok: false, reason: `field "${clip(field, 80)}" ${clip(problem, 200)}` };
  }
  return { ok: true, value: parsed.data };
}

function clip(text: string, max: number): string {
  const line = sanitizeLine(text);
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}
