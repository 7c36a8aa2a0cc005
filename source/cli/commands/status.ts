import type { Command } from "commander";
import { ACTIVE_STATES } from "../../core/domain/schema.js";
import type { FederationCore } from "../../core/federation/federation.js";
import { toTaskView } from "../../core/federation/views.js";
import { withMachineWorker } from "../../core/federation/waiting.js";
import { looseTokenFiles } from "../../core/infra/config.js";
import { displayPath } from "../../core/infra/paths.js";
import { findWorker } from "../../core/ops/worker-autostart.js";
import { toSafe } from "../../present/safe-text.js";
import type { CliContext } from "../context.js";
import { parsePositiveInt } from "../options.js";
import { renderStatusMarkdown, renderStatusText, type StatusData, tableWidth } from "../status-report.js";

/** `clawos status`: the node and task tables once. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("status")
    .description("print the node and task tables once and exit")
    .option("--json", "machine-readable output")
    .option("--markdown", "the FEDERATION_STATUS.md layout")
    .option("--limit <n>", "tasks to show", parsePositiveInt, 20)
    .option("--wide", "every column at full width (a pipe gets 80 columns otherwise)")
    .action(
      ctx.action(async (opts: { json?: boolean; markdown?: boolean; limit: number; wide?: boolean }) => {
        await ctx.withCore(async (core) => {
          const data = await gatherStatus(ctx, core, opts.json || opts.markdown ? 200 : opts.limit);
          if (opts.json) ctx.out(JSON.stringify({ ...data, now: data.now.toISOString() }, null, 2));
          else if (opts.markdown) ctx.out(renderStatusMarkdown(toSafe(data)));
          else
            ctx.out(
              renderStatusText(toSafe(data), {
                taskLimit: opts.limit,
                width: tableWidth(ctx.terminalColumns().columns, opts.wide),
                terminal: ctx.terminalColumns().columns !== undefined,
              }),
            );
        });
      }),
    );
}

/** Nodes (probed, with their heartbeats and in-flight counts), tasks and every problem found. */
async function gatherStatus(
  ctx: CliContext,
  core: FederationCore,
  finishedLimit: number,
): Promise<StatusData> {
  // The probes go out first and wait on the network while the board is read.
  const [listing, statuses, looseTokens] = await Promise.all([
    core.blackboard.list({ finishedLimit }),
    core.blackboard.readNodeStatuses(),
    looseTokenFiles(core.nodes, ctx.home(), ctx.io.env),
    core.probeLocalNodes(),
  ]);
  const inFlight = new Map<string, number>();
  for (const t of listing.tasks) {
    if (ACTIVE_STATES.includes(t.state)) inFlight.set(t.node, (inFlight.get(t.node) ?? 0) + 1);
  }
  const [{ views, usage }, worker] = await Promise.all([
    core.nodeViews({ probe: true, heartbeats: statuses.records, inFlight }),
    findWorker(ctx.home(), ctx.io.env, { core, heartbeats: statuses.records }),
  ]);
  return {
    machine: core.machine,
    blackboard: displayPath(core.blackboard.location, ctx.io.env),
    nodes: withMachineWorker(views, core.machine, worker),
    tasks: listing.tasks.map(toTaskView),
    counts: listing.counts,
    problems: [...looseTokens, ...listing.problems, ...statuses.problems, ...core.registry.problems],
    now: new Date(),
    worker,
    usage,
  };
}
