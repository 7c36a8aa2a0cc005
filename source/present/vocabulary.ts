import type { TaskState } from "../core/domain/schema.js";

/** Every task the board holds, archived ones included (a listing counts the tasks it does not read). */
export function totalOf(counts: Partial<Record<TaskState, number>>): number {
  return Object.values(counts).reduce((a: number, b) => a + (b ?? 0), 0);
}
