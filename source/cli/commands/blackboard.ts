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
          const options = {
            to: opts.to,
            ...(opts.domain ? { domain: opts.domain } : {}),
            ...(opts.from ? { from: opts.from } : {}),
          };
          // The plan first: a bad URL, no federation or a server that does not answer are said
          // before this machine's worker is touched.
          const plan = await migrateBlackboard(ctx.home(), ctx.io.env, { ...options, dryRun: true });
          if (opts.dryRun || plan.reachable?.ok === false) {
            const r = opts.dryRun
              ? plan
              : await migrateBlackboard(ctx.home(), ctx.io.env, { ...options, dryRun: false });
            if (opts.json) ctx.out(JSON.stringify(r, null, 2));
            else reportMigration(ctx, r);
            return;
          }
          const { paused, report: r } = await withWorkerPaused(ctx, () =>
            migrateBlackboard(ctx.home(), ctx.io.env, { ...options, dryRun: false }),
          );
          const restarted = paused?.restarted;
          if (opts.json)
            ctx.out(
              JSON.stringify({ ...r, ...(paused ? { workerRestarted: restarted ?? null } : {}) }, null, 2),
            );
          else reportMigration(ctx, r, paused?.pid, restarted);
        },
      ),
    );
}

/**
 * Runs the copy with this machine's worker held off the directory. A worker still claiming
 * there could take a task after it was copied and run it a second time on NATS. The
 * background worker is stopped, and the start lock is held during the copy so no command
 * starts another meanwhile; it starts again afterwards, also when the copy failed. A worker
 * that runs as a service or by hand is not ours to stop: the copy is refused until it is.
 */
async function withWorkerPaused(
  ctx: CliContext,
  copy: () => Promise<MigrationReport>,
): Promise<{ paused?: { pid: number; restarted?: number }; report: MigrationReport }> {
  const { ensureWorker, stopWorker } = await import("../../core/ops/worker-autostart.js");
  const { withStartLock } = await import("../../core/ops/worker-process.js");
  const home = ctx.home();
  const env = ctx.io.env;
  const onDirectory = await ctx.withCore(async (core) => core.config.blackboard.driver === "directory");
  if (!onDirectory) return { report: await copy() };
  let pid: number | undefined;
  // On the blackboard federation.json names by then: NATS after the copy, the directory if it failed.
  const restart = async () => {
    const again = await ctx.withCore((core) => ensureWorker(home, env, { core })).catch(() => undefined);
    return again?.worker.running ? again.worker.pid : undefined;
  };
  let report: MigrationReport;
  try {
    report = await withStartLock(home, async () => {
      const stopped = await ctx.withCore((core) => stopWorker(home, env, { core }));
      if (stopped.action === "still-running")
        throw new UserError(
          `This machine's worker (pid ${stopped.pid}) is still stopping, so nothing was moved.`,
          {
            hint: `run this again once it has stopped (kill ${stopped.pid} hands its tasks back now)`,
            code: "usage",
          },
        );
      if (stopped.action === "elsewhere" && stopped.worker.running)
        throw new UserError(`${stopped.message} Nothing was moved.`, {
          hint: "a worker left on the directory could run a copied task twice; run this again once it is stopped",
          code: "usage",
        });
      pid = stopped.action === "stopped" ? stopped.pid : undefined;
      return copy();
    });
  } catch (error) {
    if (pid !== undefined) {
      const restarted = await restart();
      ctx.err(
        restarted !== undefined
          ? `This machine's worker runs again on the directory (pid ${restarted}).`
          : `This machine's worker was stopped for the copy (pid ${pid}); start it again with clawos node run.`,
      );
    }
    throw error;
  }
  if (pid === undefined) return { report };
  const restarted = await restart();
  return { report, paused: { pid, ...(restarted !== undefined ? { restarted } : {}) } };
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
