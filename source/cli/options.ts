import { InvalidArgumentError } from "commander";
import { PRIORITIES, type Priority } from "../core/domain/schema.js";

/** Option parsers shared by the commands: commander prints their message as a usage error. */

export function parsePriority(value: string): Priority {
  const upper = value.toUpperCase();
  if (!(PRIORITIES as readonly string[]).includes(upper))
    throw new InvalidArgumentError(`use one of ${PRIORITIES.join(", ")}`);
  return upper as Priority;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number ≥ 1");
  return n;
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError("must be a port number 1–65535");
  return n;
}

/** For a repeatable option: every value, in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const SINCE_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since 10m|2h|7d|30s` (that long ago) or a date (`2026-12-05`, ISO): the time it names. */
export function parseSince(value: string, now = Date.now()): Date {
  const m = /^(\d{1,6})([smhd])$/.exec(value.trim());
  if (m) return new Date(now - Number(m[1]) * (SINCE_UNITS[m[2]!] ?? 0));
  const at = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && Number.isFinite(at)) return new Date(at);
  throw new InvalidArgumentError("expected a duration (30s, 10m, 2h, 7d) or a date (2026-12-05, ISO).");
}
