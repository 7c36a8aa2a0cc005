/**
 * The byte caps on what a gateway sends back, and reading a body under them: a hostile or broken
 * server must not make the client buffer without end.
 */
import type { Readable } from "node:stream";

export const MAX_JSON_BYTES = 1024 * 1024;
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** A streamed reply's bytes on the wire: JSON framing may make it 4× its text, plus one last event. */
export function streamWireLimit(maxReplyBytes: number): number {
  return maxReplyBytes * 4 + MAX_JSON_BYTES;
}

export class TooLarge extends Error {}

/** Reads a body up to `limit` bytes; beyond it, truncates or throws TooLarge. */
export async function readCapped(body: Readable, limit: number, truncate: boolean): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of body as AsyncIterable<Buffer>) {
    const room = limit - size;
    if (part.length > room) {
      if (!truncate) throw new TooLarge();
      parts.push(part.subarray(0, room));
      break;
    }
    parts.push(part);
    size += part.length;
  }
  return Buffer.concat(parts).toString("utf8");
}

export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${Math.round(bytes / (1024 * 1024))} MiB`
    : `${Math.round(bytes / 1024)} KiB`;
}
