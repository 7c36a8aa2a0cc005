import type { Command } from "commander";
import { resolveTaskId } from "../../core/blackboard/resolve-id.js";
import { UserError } from "../../core/domain/errors.js";
import { TASK_STATES, type TaskState } from "../../core/domain/schema.js";
import type { FederationCore } from "../../core/federation/federation.js";
import { toTaskView } from "../../core/federation/views.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import { forInvocation } from "../../present/invocation.js";
import { toSafe } from "../../present/safe-text.js";
import { taskDetailLines } from "../../present/task-detail.js";
import { totalOf } from "../../present/vocabulary.js";
import type { CliContext } from "../context.js";
import { followTask, stillGoing } from "../follow-task.js";
import { ensureMachineWorker } from "../machine-worker.js";
import { parsePositiveInt } from "../options.js";
import { countsLine, renderTasksTable, sortTasks, tableWidth } from "../status-report.js";
import { waitingLine } from "../waiting-line.js";

/** `clawos tasks list|show|retry|cancel`. */
export function register(program: Command, ctx: CliContext): void {
  const { out, err } = ctx;
  const tasks = program.command("tasks").description("list, show, retry and cancel tasks");
  tasks
    .command("list")
    .description("list tasks, pending first")
    .option("--state <state>", `only this state (${TASK_STATES.join(", ")})`)
    .option("--node <node>", "only tasks routed to this node")
    .option("--limit <n>", "tasks to show: the active ones, then the newest", parsePositiveInt, 200)
    .option("--json", "machine-readable output")
    .option("--wide", "every column at full width (a pipe gets 80 columns otherwise)")
    .action(
      ctx.action(
        async (opts: { state?: string; node?: string; limit: number; json?: boolean; wide?: boolean }) => {
          if (opts.state && !(TASK_STATES as readonly string[]).includes(opts.state)) {
            throw new UserError(`Unknown state "${sanitizeLine(opts.state).slice(0, 30)}".`, {
              hint: `use one of ${TASK_STATES.join(", ")}`,
            });
          }
          await ctx.withCore(async (core) => {
            // With a filter, the newest matching tasks can be anywhere: every task is read.
            const filtered = opts.node !== undefined || opts.state !== undefined;
            const listing = await core.blackboard.list({
              finishedLimit: filtered ? Number.POSITIVE_INFINITY : opts.limit,
            });
            const matching = sortTasks(
              listing.tasks
                .map(toTaskView)
                .filter(
                  (t) =>
                    (!opts.state || t.state === (opts.state as TaskState)) &&
                    (!opts.node || t.node === opts.node),
                ),
            );
            const views = matching.slice(0, opts.limit);
            const total = opts.node
              ? matching.length
              : opts.state
                ? listing.counts[opts.state as TaskState]
                : totalOf(listing.counts);
            const more = Math.max(matching.length, total) - views.length;
            if (opts.json)
              out(
                JSON.stringify({ tasks: views, counts: listing.counts, problems: listing.problems }, null, 2),
              );
            else {
              out(
                views.length
                  ? renderTasksTable(
                      toSafe(views),
                      Date.now(),
                      tableWidth(ctx.terminalColumns().columns, opts.wide),
                    )
                  : "No tasks.",
              );
              if (more > 0)
                ctx.say(
                  `… ${more} more, older (--limit ${opts.limit + more} lists them, archived ones aside)`,
                );
              out(`(${countsLine(listing.counts)})`);
              for (const p of listing.problems) err(`! ${sanitizeLine(p)}`);
            }
          });
        },
      ),
    );
  tasks
    .command("show")
    .description("everything about one task: request, route, attempts, reply")
    .argument("<id>", "a task id, its start, or its last 8 hex digits")
    .option("--follow", "stream the reply as it comes until the task finishes, then its final state")
    .option("--json", "machine-readable output")
    .action(
      ctx.action(async (id: string, opts: { json?: boolean; follow?: boolean }) => {
        return ctx.withCore(async (core) => {
          const task = await core.blackboard.get(await resolveTaskId(core.blackboard, id));
          if (!task)
            throw new UserError(`No task "${sanitizeLine(id).slice(0, 90)}".`, {
              hint: "clawos tasks list shows the ids; a damaged task file is listed by clawos status (lines starting with !)",
            });
          if (opts.follow && stillGoing(task)) return followTask(ctx, core, task, opts.json);
          const v = toTaskView(task);
          if (opts.json) {
            out(JSON.stringify(v, null, 2));
            return;
          }
          // The control center's task view, in the same words; wrapped in a terminal, whole
          // lines in a pipe (as prose is).
          const lines = taskDetailLines(toSafe(v), {
            width: ctx.terminalColumns().columns ?? Number.MAX_SAFE_INTEGER,
            now: Date.now(),
            cancelRequested: Boolean(task.cancelRequested),
            note: v.state === "pending" ? forInvocation(await waitingLine(core, v)) : undefined,
          });
          out(lines.map((line) => line.text).join("\n"));
        });
      }),
    );
  /** A command on one task that answers in one line. */
  const oneTask = (
    name: "retry" | "cancel",
    description: string,
    act: (core: FederationCore, id: string) => Promise<string>,
  ) =>
    tasks
      .command(name)
      .description(description)
      .argument("<id>", "a task id, its start, or its last 8 hex digits")
      .action(
        ctx.action((id: string) =>
          ctx.audited(name, id, () =>
            ctx.withCore(async (core) => {
              ctx.say(await act(core, await resolveTaskId(core.blackboard, id)));
            }),
          ),
        ),
      );
  oneTask("retry", "run a failed or cancelled task again", async (core, id) => {
    const task = await core.blackboard.retry(id);
    await ensureMachineWorker(ctx, core); // a retried task waits in an inbox: a worker must serve it
    return task.state === "pending"
      ? `${task.request.id} is queued again in ${task.node}'s inbox (attempt ${task.request.attempt}).`
      : `${task.request.id} is queued again (attempt ${task.request.attempt}) and already ${task.state} on ${task.node}.`;
  });
  oneTask("cancel", "cancel a pending or running task", async (core, id) => {
    const task = await core.blackboard.requestCancel(id);
    return task.state === "cancelled"
      ? `${task.request.id} cancelled.`
      : `${task.request.id}: cancel requested; its worker stops it.`;
  });
}
