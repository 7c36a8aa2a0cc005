import { randomHex } from "../infra/random-hex.js";

/** Seed format: `req_YYYYMMDD_HHMMSS` (old) or `req_YYYYMMDD_HHMMSS_<8 hex>`. Free-form ids like `req_example` appear in the seed too. */
export const TASK_ID_PATTERN = /^req_[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/;
export const MAX_TASK_ID_LENGTH = 84;
export const NODE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

export function newTaskId(now: Date = new Date()): string {
  const date = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
  const time = `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  return `req_${date}_${time}_${randomHex(4)}`;
}

/** Ids become file names: anything path-like, huge or odd is refused before it reaches the disk. */
export function isValidTaskId(id: string): boolean {
  return id.length <= MAX_TASK_ID_LENGTH && TASK_ID_PATTERN.test(id);
}

export function isValidNodeId(id: string): boolean {
  return NODE_ID_PATTERN.test(id) && id !== "any";
}

/** Creation time encoded in a seed id, if any. */
export function taskIdTime(id: string): Date | undefined {
  const m = /^req_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})/.exec(id);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}

/**
 * The ids among `ids` that `typed` names: the id itself, a prefix of it (with or without
 * `req_`), or its last hex digits (at least 4, so a stray number does not match by accident).
 */
export function matchTaskIds(ids: Iterable<string>, typed: string): string[] {
  const exact: string[] = [];
  const matches: string[] = [];
  const hexTail = /^[0-9a-f]{4,}$/i.test(typed) ? typed.toLowerCase() : undefined;
  for (const id of ids) {
    if (id === typed) exact.push(id);
    else if (
      id.startsWith(typed) ||
      id.startsWith(`req_${typed}`) ||
      (hexTail !== undefined && id.toLowerCase().endsWith(hexTail))
    )
      matches.push(id);
  }
  return exact.length ? exact : [...new Set(matches)].sort();
}

/** An id short enough for a narrow table: the last 8 hex of a seed id, else the id itself. */
export function shortTaskId(id: string): string {
  const m = /_([0-9a-f]{8})$/.exec(id);
  return m ? m[1]! : id;
}
