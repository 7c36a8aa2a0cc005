import { isValidTaskId } from "../domain/ids.js";
import { BlackboardError } from "./errors.js";
import type { StoredTask } from "./types.js";

/** A key or file name from the store, safe to print: odd characters become '?', long ones are cut. */
export function truncateName(name: string): string {
  const clean = name.replace(/[^\w.-]/g, "?");
  return clean.length > 60 ? `${clean.slice(0, 57)}...` : clean;
}

/**
 * The task `id`, or a coded error: not a task id, or not on this blackboard. `board` names the
 * blackboard in the error ("the blackboard at /path", "the NATS blackboard at nats://…").
 */
export async function requireTask(
  get: (id: string) => Promise<StoredTask | undefined>,
  id: string,
  board: string,
): Promise<StoredTask> {
  if (!isValidTaskId(id)) throw new BlackboardError({ code: "not_a_task_id", id: truncateName(id) });
  const task = await get(id);
  if (!task) throw new BlackboardError({ code: "no_such_task", id, board });
  return task;
}
