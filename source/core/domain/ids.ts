import { randomBytes } from "node:crypto";

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
  return `req_${date}_${time}_${randomBytes(4).toString("hex")}`;
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
