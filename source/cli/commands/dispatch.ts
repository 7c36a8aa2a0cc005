import { type Command, Option } from "commander";
import type { StoredTask } from "../../core/blackboard/types.js";
import { UserError } from "../../core/domain/errors.js";
import { shortTaskId } from "../../core/domain/ids.js";
import { ACTIVE_STATES, type Priority } from "../../core/domain/schema.js";
import type { FederationCore } from "../../core/federation/federation.js";
import { toTaskView } from "../../core/federation/views.js";
import { createStreamSanitizer, sanitizeLine, sanitizeText } from "../../core/infra/sanitize.js";
import { readTaskText } from "../../core/infra/task-text-input.js";
import type { CliContext } from "../context.js";
import { ensureMachineWorker } from "../machine-worker.js";
import { collect, parsePositiveInt, parsePriority } from "../options.js";
import { EXIT, type ExitCode, type StopSignal, stopOnSignals } from "../signals.js";
import { waitingLine } from "../waiting-line.js";

interface DispatchOptions {
  to: string;
  priority: Priority;
  tag?: string[];
  wait?: boolean;
  json?: boolean;
  timeout?: number;
}

/** `clawos dispatch`: create a task, route it, and (with --wait, or when it runs here) see it through. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("dispatch")
    .description('create and route a task ("-" reads the text from stdin)')
    .argument("<text...>", "what the agent should do")
    .option("--to <node>", "a node id, or any", "any")
    .addOption(new Option("--priority <p>", "P0 (urgent) … P3").argParser(parsePriority).default("P2"))
    .option("--tag <tag>", "only nodes with this tag (repeatable)", collect)
    .option("--wait", "wait for the answer and stream it to stdout")
    .option(
      "--timeout <seconds>",
      "with --wait: stop waiting after this long (the task goes on)",
      parsePositiveInt,
    )
    .option("--json", "machine-readable output")
    .action(
      ctx.action(async (words: string[], opts: DispatchOptions) => {
        let text = words.join(" ");
        if (text === "-") text = (await readTaskText(ctx.io.stdin)).replace(/\s+$/, ""); // echo's newline is not part of the task
        // Ctrl+C (or SIGTERM) stops a task this process is running and hands it back to its
        // node's inbox, instead of leaving it claimed by a process that is gone. A second one kills.
        const interrupt = stopOnSignals();
        try {
          return await ctx.audited("dispatch", opts.to ?? "any", () =>
            ctx.withCore((core) => dispatchTask(ctx, core, text, opts, interrupt)),
          );
        } finally {
          interrupt.dispose();
        }
      }),
    );
}

async function dispatchTask(
  ctx: CliContext,
  core: FederationCore,
  text: string,
  opts: DispatchOptions,
  interrupt: StopSignal,
): Promise<ExitCode> {
  const { out, err, io } = ctx;
  const streamToStdout = Boolean(opts.wait && !opts.json);
  let streamed = false;
  const clean = createStreamSanitizer();
  // --timeout ends the wait; a localhost task this process runs is then handed back too.
  const timedOut = opts.timeout && opts.wait ? AbortSignal.timeout(opts.timeout * 1000) : undefined;
  const stop = timedOut ? AbortSignal.any([interrupt.signal, timedOut]) : interrupt.signal;
  /** What stopped this command early, in words and as its exit code. */
  const stopReason = (): { why: string; code: ExitCode; errorCode: string } =>
    interrupt.signal.aborted
      ? {
          why: "Interrupted",
          code: interrupt.exitCode,
          errorCode: interrupt.exitCode === EXIT.terminated ? "terminated" : "interrupted",
        }
      : { why: `Stopped after ${opts.timeout} s`, code: EXIT.failed, errorCode: "timed_out" };
  const onDelta = (delta: string) => {
    if (!streamToStdout) return;
    streamed = true;
    io.stdout.write(clean.push(delta));
  };
  const waitFor = (id: string) =>
    core.waitFor(id, { onProgress: onDelta, signal: stop }).catch(async (error: unknown) => {
      if (!stop.aborted) throw error;
      // --json still gets the task as it stands, as it does for one run here.
      const now = opts.json ? await core.blackboard.get(id) : undefined;
      if (now) out(JSON.stringify(toTaskView(now), null, 2));
      if (streamed) io.stdout.write(`${clean.end()}\n`);
      streamed = false;
      // The same words as a localhost task handed back, but this one is not ours to stop.
      const { why, errorCode } = stopReason();
      throw new UserError(`${why}: task ${shortTaskId(id)} goes on without this command.`, {
        hint: `follow it with clawos tasks show ${shortTaskId(id)} --follow, or drop it with clawos tasks cancel ${shortTaskId(id)}`,
        code: errorCode,
      });
    });
  // Whatever this command does, a task it leaves in an inbox (queued, handed back, retried
  // later) needs this machine's worker. Without --wait the worker runs it, not this process.
  // A target no node answers to is refused by the router below: no worker is started for it.
  const knownTarget = opts.to === "any" || core.nodes.some((n) => n.id === opts.to);
  const worker = knownTarget ? await ensureMachineWorker(ctx, core) : undefined;
  const runHere = Boolean(opts.wait) || !worker?.worker.running;
  const dispatched = await core.dispatch(
    { text, to: opts.to, priority: opts.priority, ...(opts.tag ? { tags: opts.tag } : {}) },
    { onDelta, signal: stop, runHere },
  );
  const { request } = dispatched;
  if (!dispatched.created) {
    if (!opts.json) err(`Task ${request.id} already exists; nothing new was queued.`);
    return EXIT.ok;
  }
  if (!opts.json) {
    err(`${request.id} → ${request.route.node} via ${request.route.transport}: ${request.route.reason}`);
    // This process runs it: say why the command does not return yet.
    if (dispatched.run && !opts.wait)
      err(
        request.route.transport === "ssh"
          ? `  urgent, so this command runs it over SSH now and returns when ${request.route.node} has answered (Ctrl+C hands it back to the inbox)`
          : `  no worker serves this machine, so it runs here until ${request.route.node} answers (Ctrl+C hands it back to the inbox)`,
      );
  }
  // The run here gave the task back to its inbox after a failure (its gateway went away, say).
  let gaveBack = false;
  let final = dispatched.run
    ? await dispatched.run.then((outcome) => {
        gaveBack = outcome.kind === "requeued" && outcome.outcome === "requeued";
        return core.blackboard.get(request.id);
      })
    : undefined;
  if (!final && opts.wait && dispatched.waiting && !opts.json) {
    err(`waiting for ${request.route.node} to take it (Ctrl+C stops waiting; the task stays queued).`);
    const queued = await core.blackboard.get(request.id);
    if (queued) err(`  ${await waitingLine(core, toTaskView(queued))}`);
  }
  if (!final && opts.wait) {
    final = await waitFor(request.id);
  }
  if (streamed) io.stdout.write(`${clean.end()}\n`);
  if (final && stop.aborted && ACTIVE_STATES.includes(final.state)) {
    const { why, code } = stopReason();
    if (opts.json) out(JSON.stringify(toTaskView(final), null, 2));
    else {
      err(
        `${why}: ${request.id} is back in ${final.node}'s inbox (attempt ${final.request.attempt}/${final.request.maxAttempts}), nothing lost.`,
      );
      // Pending: why it waits. Already claimed again: the worker was quicker than this line.
      const next =
        (await waitingLine(core, toTaskView(final))) || `${final.node}'s worker has picked it up again.`;
      err(`  ${next} (clawos tasks cancel ${shortTaskId(request.id)} drops it)`);
    }
    return code;
  }
  if (opts.json) {
    const task = final ?? (await core.blackboard.get(request.id));
    out(JSON.stringify(task ? toTaskView(task) : { id: request.id, route: request.route }, null, 2));
  }
  if (!final) {
    const who = request.route.transport === "localhost" ? " for this machine's worker" : "";
    if (!opts.json)
      err(`queued${who}; follow it with: clawos tasks show ${shortTaskId(request.id)} --follow`);
    return EXIT.ok;
  }
  if (final.state === "completed") {
    if (!opts.json && !streamed && opts.wait) out(sanitizeText(final.result?.text ?? ""));
    if (!opts.json && !opts.wait)
      err(`${request.id} completed on ${final.node} (clawos tasks show ${request.id})`);
    return EXIT.ok;
  }
  if (final.state === "pending" && !opts.wait) {
    if (!opts.json) await explainWaiting(ctx, core, final);
    return EXIT.ok;
  }
  if (ACTIVE_STATES.includes(final.state)) {
    // Handed back to the blackboard after a failure: say why, then keep waiting there.
    // Said even when this machine's worker has already claimed it again: that is no answer yet.
    if (!opts.json && (final.state === "pending" || gaveBack)) await explainWaiting(ctx, core, final);
    if (!opts.wait) return reportFinal(ctx, final, opts.json);
    streamed = false; // what the broken turn streamed was ended with a newline above
    const settled = await waitFor(request.id);
    // The reply of the attempt that answered, ended as a reply run here is.
    if (streamed) io.stdout.write(`${clean.end()}\n`);
    else if (settled.state === "completed" && !opts.json) out(sanitizeText(settled.result?.text ?? ""));
    return reportFinal(ctx, settled, opts.json);
  }
  return reportFinal(ctx, final, opts.json);
}

/** A task dispatched here that now waits in an inbox: the failure that put it there, and what runs it. */
async function explainWaiting(ctx: CliContext, core: FederationCore, task: StoredTask): Promise<void> {
  const failed = task.request.history.findLast(
    (h) => h.event === "attempt-failed" || h.event === "handed-back",
  );
  const where =
    task.state === "pending" ? `is waiting in ${task.node}'s inbox` : `went back to ${task.node}'s inbox`;
  ctx.err(
    `${task.request.id} ${where} (attempt ${task.request.attempt}/${task.request.maxAttempts})${failed ? ` after: ${sanitizeLine(failed.detail).replace(/\.$/, "")}` : ""}.`,
  );
  // Its gateway has just failed: ask it again rather than trust the probe from before the turn.
  const next = await waitingLine(core, toTaskView(task), { fresh: true });
  ctx.err(`  ${next || `${task.node}'s worker has taken it again; this command waits for its answer.`}`);
}

/** How a task this command saw through ended: its failure in words, and the exit code. */
function reportFinal(ctx: CliContext, task: StoredTask, json?: boolean): ExitCode {
  if (task.state === "completed") return EXIT.ok;
  if (!json) {
    const e = task.result?.error;
    ctx.err(`${task.request.id} ${task.state}${e ? `: ${sanitizeLine(e.message)}` : ""}`);
    if (e?.hint) ctx.err(`  fix: ${sanitizeLine(e.hint)}`);
  }
  return ACTIVE_STATES.includes(task.state) ? EXIT.ok : EXIT.failed;
}
