import type { Command } from "commander";
import type { MigrationReport } from "../../core/blackboard/driver-migration.js";
import { UserError } from "../../core/domain/errors.js";
import { count } from "../../core/domain/plural.js";
import { displayPath } from "../../core/infra/paths.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import type { CliContext } from "../context.js";
import { collect } from "../options.js";

/** `clawos blackboard migrate`: move the shared store from a directory to NATS JetStream. */
export function register(program: Command, ctx: CliContext): void {
  const blackboardCmd = program
    .command("blackboard")
    .description("the shared store of tasks, results and node status");
  blackboardCmd
    .command("migrate")
    .description("copy every task and node status to NATS JetStream, then switch federation.json to it")
    .option("--to <url>", "nats://host:port of a NATS server (repeatable, or comma-separated)", collect)
    .option("--domain <name>", "JetStream domain of the hub, if this machine's server is a leaf node of it")
    .option("--from <dir>", "the directory blackboard to copy (default: the one federation.json names)")
    .option("--dry-run", "print the plan only; change nothing")
    .option("--json", "machine-readable report")
    .action(
      ctx.action(
        async (opts: { to?: string[]; domain?: string; from?: string; dryRun?: boolean; json?: boolean }) => {
          if (!opts.to?.length)
            throw new UserError("Say where to: --to nats://host:port.", {
              hint: "start one with: nats-server -js -sd <dir>",
              code: "usage",
            });
          const { migrateBlackboard } = await import("../../core/blackboard/driver-migration.js");
          // A worker left running on the directory could claim a task after it was copied and
          // run it there as well: this machine's background worker stops for the copy and
          // starts again on NATS.
          const paused = opts.dryRun ? undefined : await pauseBackgroundWorker(ctx);
          const r = await migrateBlackboard(ctx.home(), ctx.io.env, {
            to: opts.to,
            ...(opts.domain ? { domain: opts.domain } : {}),
            ...(opts.from ? { from: opts.from } : {}),
            dryRun: Boolean(opts.dryRun),
          });
          const restarted = paused ? await restartWorker(ctx) : undefined;
          if (opts.json)
            ctx.out(JSON.stringify({ ...r, ...(paused ? { workerRestarted: restarted } : {}) }, null, 2));
          else reportMigration(ctx, r, paused, restarted);
        },
      ),
    );
}

/** Stops this machine's background worker, if one runs; its pid, or undefined when none was stopped. */
async function pauseBackgroundWorker(ctx: CliContext): Promise<number | undefined> {
  const { stopWorker } = await import("../../core/ops/worker-autostart.js");
  const stopped = await ctx.withCore((core) => stopWorker(ctx.home(), ctx.io.env, { core }));
  if (stopped.action === "still-running")
    throw new UserError(
      `This machine's worker (pid ${stopped.pid}) is still stopping, so nothing was moved.`,
      {
        hint: `run this again once it has stopped (kill ${stopped.pid} hands its tasks back now)`,
        code: "usage",
      },
    );
  return stopped.action === "stopped" ? stopped.pid : undefined;
}

/** Starts this machine's worker again (on the blackboard federation.json now names); its new pid. */
async function restartWorker(ctx: CliContext): Promise<number | undefined> {
  const { ensureWorker } = await import("../../core/ops/worker-autostart.js");
  const result = await ctx.withCore((core) => ensureWorker(ctx.home(), ctx.io.env, { core }));
  return result.worker.running ? result.worker.pid : undefined;
}

/** The plan, or what was moved, in words. */
function reportMigration(ctx: CliContext, r: MigrationReport, paused?: number, restarted?: number): void {
  const { err } = ctx;
  const say = (line: string) => ctx.say(sanitizeLine(line));
  const f = r.finished;
  say(
    `${r.dryRun ? "Plan (dry run: nothing is changed)" : "Moved"}: the directory blackboard at ${displayPath(r.from, ctx.io.env)}`,
  );
  say(`  → NATS at ${r.to.join(", ")}`);
  if (r.reachable)
    say(
      r.reachable.ok
        ? `    reachable, JetStream on (server ${r.reachable.version})`
        : `    NOT reachable: ${r.reachable.error}`,
    );
  say(
    `  ${count(r.tasks, "task")}: ${r.pending} arrive pending${r.wereClaimed ? ` (${r.wereClaimed} ${r.wereClaimed === 1 ? "was" : "were"} claimed: their run is redone, same attempt)` : ""}, ` +
      `${f.completed + f.failed + f.cancelled} finished (${f.completed} completed, ${f.failed} failed, ${f.cancelled} cancelled)`,
  );
  const nodesLine = Object.entries(r.byNode)
    .map(([n, c]) => `${n} ${c}`)
    .join(", ");
  if (nodesLine) say(`  per node: ${nodesLine}`);
  say(`  ${count(r.nodeStatuses, "node status record")}`);
  for (const p of r.problems) err(`! not copied: ${sanitizeLine(p)}`);
  for (const w of r.liveWorkers)
    err(
      `! the worker of ${sanitizeLine(w)} looks alive: stop it first, or what it does after the copy stays in the directory`,
    );
  if (r.dryRun) {
    say(`  then federation.json: "blackboard": ${JSON.stringify(r.blackboard)}`);
    return;
  }
  say(`  copied ${r.created}, already on NATS ${r.alreadyThere}`);
  say(
    r.switched
      ? `federation.json now uses "blackboard": ${JSON.stringify(r.blackboard)}. The directory was left as it was.`
      : "federation.json already used this NATS blackboard; it is unchanged.",
  );
  if (paused !== undefined)
    say(
      restarted !== undefined
        ? `This machine's worker was stopped for the copy (pid ${paused}) and runs again on the new blackboard (pid ${restarted}).`
        : `This machine's worker was stopped for the copy (pid ${paused}); start it again with clawos node run.`,
    );
  if (r.switched)
    say(
      `Restart any other worker of this machine (clawos node run) and any open control center so they use NATS; one worker takes the coordinator lease by itself.`,
    );
}
