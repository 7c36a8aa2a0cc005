import type { TaskView } from "../core/domain/federation-types.js";
import type { TaskEvent } from "../core/domain/schema.js";

/**
 * A task's history as a person reads it. The view carries it complete already (core's
 * `completeHistory`), so `tasks show`, `--json` and the control center list the same events.
 */
export function timelineOf(task: TaskView): TaskEvent[] {
  return task.history;
}
