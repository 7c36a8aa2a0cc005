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
          const r = await migrateBlackboard(ctx.home(), ctx.io.env, {
            to: opts.to,
            ...(opts.domain ? { domain: opts.domain } : {}),
            ...(opts.from ? { from: opts.from } : {}),
            dryRun: Boolean(opts.dryRun),
          });
          if (opts.json) ctx.out(JSON.stringify(r, null, 2));
          else reportMigration(ctx, r);
        },
      ),
    );
}

/** The plan, or what was moved, in words. */
function reportMigration(ctx: CliContext, r: MigrationReport): void {
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
  if (r.switched)
    say(
      "Restart the workers (clawos node run) and any open control center so they use NATS; one of them takes the coordinator lease by itself.",
    );
}
