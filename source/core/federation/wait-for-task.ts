import type { Blackboard, StoredTask } from "../blackboard/types.js";
import { UserError } from "../domain/errors.js";

/** A task not found is looked for once more after this long (see waitForTask). */
const MISSING_RECHECK_MS = 50;

export interface WaitOptions {
  onProgress?: (text: string) => void;
  signal?: AbortSignal;
  rescanMs?: number;
}

/** Wait until a task is final, reporting the reply as it grows. */
export function waitForTask(
  blackboard: Blackboard,
  id: string,
  options: WaitOptions = {},
): Promise<StoredTask> {
  let lastText = "";
  return new Promise<StoredTask>((resolve, reject) => {
    let busy = false;
    let again = false;
    const check = async () => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        do {
          again = false;
          // A lookup can fall between two renames of a move (requests → claimed, say) and miss
          // a task that exists: only a task missing on a second look, a moment later, is gone.
          let task = await blackboard.get(id);
          if (!task) {
            await new Promise((r) => setTimeout(r, MISSING_RECHECK_MS));
            task = await blackboard.get(id);
          }
          if (!task) {
            stop();
            reject(new UserError(`Task ${id} is not on the blackboard.`));
            return;
          }
          const text = task.result?.text ?? task.progress?.text ?? "";
          if (text.length > lastText.length && text.startsWith(lastText))
            options.onProgress?.(text.slice(lastText.length));
          // An empty read is a gap (no progress record at that instant), not a new reply: keep what was shown.
          if (text) lastText = text;
          if (task.state === "completed" || task.state === "failed" || task.state === "cancelled") {
            stop();
            resolve(task);
            return;
          }
        } while (again);
      } catch (error) {
        stop();
        reject(error);
      } finally {
        busy = false;
      }
    };
    const unwatch = blackboard.watch({ everything: true }, () => void check());
    const timer = setInterval(() => void check(), options.rescanMs ?? 1_000);
    const onAbort = () => {
      stop();
      reject(
        new UserError(`Stopped waiting for ${id}; it goes on. See it with clawos tasks show ${id}.`, {
          code: "stopped_waiting",
        }),
      );
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) {
      onAbort(); // stopped before we listened: an abort event never comes
      return;
    }
    function stop() {
      unwatch();
      clearInterval(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
    void check();
  });
}
