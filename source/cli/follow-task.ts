import type { StoredTask } from "../core/blackboard/types.js";
import { formatElapsed } from "../core/domain/durations.js";
import { FINAL_STATES } from "../core/domain/schema.js";
import type { FederationCore } from "../core/federation/federation.js";
import { toTaskView } from "../core/federation/views.js";
import { createStreamSanitizer, sanitizeLine } from "../core/infra/sanitize.js";
import type { CliContext } from "./context.js";
import { EXIT, type ExitCode, stopOnSignals } from "./signals.js";
import { waitingLine } from "./waiting-line.js";

/**
 * `tasks show ID --follow`: the reply to stdout as it grows (what is there already first),
 * until the task finishes; then its final state in one line (the task as JSON with --json).
 * Ctrl+C stops following; the task goes on.
 */
export async function followTask(
  ctx: CliContext,
  core: FederationCore,
  task: StoredTask,
  json?: boolean,
): Promise<ExitCode> {
  const id = task.request.id;
  if (!json) {
    ctx.err(`Following ${id} on ${task.node} (${task.state}); Ctrl+C stops following, the task goes on.`);
    if (task.state === "pending") ctx.err(`  ${await waitingLine(core, toTaskView(task))}`);
  }
  const clean = createStreamSanitizer();
  let streamed = false;
  const interrupt = stopOnSignals();
  let final: StoredTask;
  try {
    final = await core.waitFor(id, {
      signal: interrupt.signal,
      onProgress: (delta) => {
        if (json) return;
        streamed = true;
        ctx.io.stdout.write(clean.push(delta));
      },
    });
  } catch (error) {
    if (!interrupt.signal.aborted) throw error;
    if (streamed) ctx.io.stdout.write(`${clean.end()}\n`);
    ctx.err(`Stopped following ${id}; it goes on (clawos tasks show ${id} --follow to follow it again).`);
    return interrupt.exitCode;
  } finally {
    interrupt.dispose();
  }
  if (streamed) ctx.io.stdout.write(`${clean.end()}\n`);
  if (json) {
    ctx.out(JSON.stringify(toTaskView(final), null, 2));
  } else {
    const took = final.result?.durationMs !== undefined ? `, ${formatElapsed(final.result.durationMs)}` : "";
    const error = final.result?.error;
    ctx.err(
      `${id} ${final.state} on ${final.node} (attempt ${final.request.attempt}/${final.request.maxAttempts}${took})${error ? `: ${sanitizeLine(error.message)}` : ""}`,
    );
    if (error?.hint) ctx.err(`  fix: ${sanitizeLine(error.hint)}`);
  }
  return final.state === "completed" ? EXIT.ok : EXIT.failed;
}

/** Whether a task is still to be followed (not finished). */
export const stillGoing = (task: StoredTask) => !FINAL_STATES.includes(task.state);
