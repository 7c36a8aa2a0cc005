import type { Command } from "commander";
import { UserError } from "../core/domain/errors.js";
import type { NodeConfig } from "../core/domain/schema.js";
import {
  gatewayState,
  keptRunningNote,
  type LifecycleAction,
  runLifecycle,
  stopGateway,
} from "../core/ops/gateway-lifecycle.js";
import {
  describePurge,
  type ProfileToPurge,
  profileToPurge,
  purgeProfile,
} from "../core/ops/profile-purge.js";
import { askYesNo, canAsk } from "./ask.js";
import type { CliContext } from "./context.js";
import { parsePositiveInt } from "./options.js";

const ACTIONS: [LifecycleAction, string][] = [
  ["start", "start the node's gateway (its OpenClaw service, else run by clawos)"],
  ["stop", "stop the node's gateway, the way it was started"],
  ["restart", "stop and start the node's gateway"],
];

/** `clawos nodes start|stop|restart NODE`, for gateways on this machine. */
export function registerLifecycle(nodes: Command, ctx: CliContext): void {
  for (const [action, description] of ACTIONS) {
    nodes
      .command(action)
      .description(description)
      .argument("<id>")
      .option(
        "--ready-timeout <seconds>",
        "how long to wait for the gateway to answer",
        parsePositiveInt,
        180,
      )
      .action(
        ctx.action((id: string, opts: { readyTimeout: number }) =>
          ctx.audited(action, id, async () => {
            const lines = await runLifecycle(ctx.home(), ctx.io.env, id, action, {
              readyTimeoutMs: opts.readyTimeout * 1000,
            });
            for (const outcome of lines) ctx.say(outcome.line);
          }),
        ),
      );
  }
}

export interface RemoveOptions {
  stop?: boolean;
  keepRunning?: boolean;
  purge?: boolean;
  yes?: boolean;
}

/** What `nodes remove` will do besides the registry: decided (asked) before anything changes. */
export interface RemovalPlan {
  stop: boolean;
  purge?: ProfileToPurge;
  /** Said when its gateway is left running. */
  keptRunning?: string;
}

/**
 * Before a node leaves the registry: whether its gateway stops (asked on a terminal; --stop,
 * --keep-running or --yes in scripts) and, with --purge, the confirmation that names what goes.
 */
export async function planRemoval(
  ctx: CliContext,
  node: NodeConfig,
  opts: RemoveOptions,
): Promise<RemovalPlan> {
  if (opts.stop && opts.keepRunning)
    throw new UserError("Give --stop or --keep-running, not both.", { code: "usage" });
  if (opts.purge && opts.keepRunning)
    throw new UserError(
      "--purge moves the profile aside, so its gateway must stop: leave out --keep-running.",
      {
        code: "usage",
      },
    );
  const { env } = ctx.io;
  const { nodes, machine } = await ctx.withCore(async (core) => ({
    nodes: core.nodes,
    machine: core.machine,
  }));
  if (node.machine !== machine || node.port === null) {
    if (opts.purge)
      throw new UserError(
        `Node ${node.id} is not on this machine (${machine}); its profile can be purged only there.`,
        {
          code: "usage",
          hint: `run clawos nodes remove ${node.id} --purge on ${node.machine}`,
        },
      );
    if (node.port !== null)
      ctx.err(
        `note: the gateway of ${node.id} on ${node.machine} is not touched from here; stop it there if it should go`,
      );
    return { stop: false };
  }
  const purge = opts.purge ? await profileToPurge(env, node, nodes) : undefined;
  const state = await gatewayState(ctx.home(), env, node);
  let stop = Boolean(opts.stop || opts.yes || opts.purge);
  if (state.running && !stop && !opts.keepRunning) {
    const how =
      state.keeper === "clawos"
        ? "run by clawos"
        : state.keeper === "service"
          ? "an OpenClaw service"
          : "started by hand";
    if (!canAsk(ctx))
      throw new UserError(`The gateway of ${node.id} is running (${how}); say what happens to it.`, {
        code: "usage",
        hint: `clawos nodes remove ${node.id} --stop (or --keep-running)`,
      });
    stop = await askYesNo(ctx, `The gateway of ${node.id} is running (${how}). Stop it too?`);
  }
  if (!state.running) stop = false;
  if (stop && state.keeper === "by-hand") {
    // Fails with the words for a gateway clawos cannot stop, before anything changes.
    await stopGateway(ctx.home(), env, node, state);
  }
  if (purge) {
    const what = describePurge(purge, env);
    if (!opts.yes) {
      if (!canAsk(ctx)) throw new UserError(`--purge: ${what}. Confirm with --yes.`, { code: "usage" });
      if (!(await askYesNo(ctx, `Purge: ${what}. Go ahead?`)))
        throw new UserError("Nothing was removed.", { code: "usage" });
    }
  }
  const keptRunning = state.running && !stop ? `note: ${keptRunningNote(node, state)}` : undefined;
  return { stop, ...(purge ? { purge } : {}), ...(keptRunning ? { keptRunning } : {}) };
}

/** The gateway stops before the registry changes; the profile moves aside after. */
export async function stopForRemoval(ctx: CliContext, node: NodeConfig, plan: RemovalPlan): Promise<void> {
  if (plan.keptRunning) ctx.err(plan.keptRunning);
  if (!plan.stop) return;
  const outcome = await stopGateway(ctx.home(), ctx.io.env, node);
  ctx.say(outcome.line);
}

export async function purgeAfterRemoval(ctx: CliContext, plan: RemovalPlan): Promise<void> {
  if (!plan.purge) return;
  await purgeProfile(plan.purge);
  ctx.say(`Moved ${describePurge(plan.purge, ctx.io.env).replace(" moves aside to ", " aside to ")}.`);
}
