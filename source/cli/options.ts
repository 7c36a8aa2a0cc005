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
