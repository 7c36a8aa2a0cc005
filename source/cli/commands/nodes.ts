import { type Command, Option } from "commander";
import { formatElapsed } from "../../core/domain/durations.js";
import { UserError } from "../../core/domain/errors.js";
import { isValidNodeId } from "../../core/domain/ids.js";
import { count } from "../../core/domain/plural.js";
import type { NodeConfigInput } from "../../core/domain/schema.js";
import type { FederationCore } from "../../core/federation/federation.js";
import { updateLocalSettings } from "../../core/federation/registry.js";
import { parseNode } from "../../core/infra/config.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import { toSafe } from "../../present/safe-text.js";
import type { CliContext } from "../context.js";
import { registerAccess } from "../node-access.js";
import { registerCordon } from "../node-cordon.js";
import {
  planRemoval,
  purgeAfterRemoval,
  type RemoveOptions,
  registerLifecycle,
  stopForRemoval,
} from "../node-lifecycle.js";
import { collect, parsePort } from "../options.js";
import { EXIT } from "../signals.js";
import { renderNodesTable, tableWidth } from "../status-report.js";

/** `clawos nodes list|add|remove|rename|probe|start|stop|restart`: the shared registry, and the gateways on this machine. */
export function register(program: Command, ctx: CliContext): void {
  const { out } = ctx;
  const nodes = program.command("nodes").description("list, add, remove, rename and probe nodes");
  nodes
    .command("list")
    .description("the registry with live health")
    .option("--json", "machine-readable output")
    .option("--wide", "every column at full width (a pipe gets 80 columns otherwise)")
    .action(
      ctx.action(async (opts: { json?: boolean; wide?: boolean }) => {
        await ctx.withCore(async (core) => {
          const { views } = await core.nodeViews({ probe: true });
          if (opts.json) out(JSON.stringify(views, null, 2));
          else
            out(
              views.length
                ? renderNodesTable(
                    toSafe(views),
                    Date.now(),
                    tableWidth(ctx.terminalColumns().columns, opts.wide),
                  )
                : "No nodes yet. Run `clawos init` or `clawos nodes add ID --port N`.",
            );
        });
      }),
    );
  nodes
    .command("add")
    .description("register a node")
    .argument("<id>", "node id (lowercase letters, digits, -)")
    .option("--port <port>", "gateway port (omit with --planned)", parsePort)
    .option("--planned", "a node without a gateway yet (port TBD)")
    .option("--machine <name>", "the machine it runs on (default: this one)")
    .option("--host <host>", "gateway host as seen from its machine", "127.0.0.1")
    .option("--profile <name>", "OpenClaw profile (default: the default profile)")
    .option("--agent <id>", "OpenClaw agent id", "main")
    .option("--tag <tag>", "capability tag (repeatable)", collect)
    .option("--token-file <path>", "read the gateway token from this file (mode 0600)")
    .option("--token-env <var>", "read the gateway token from this environment variable")
    .option("--no-token", "the gateway needs no token")
    .addOption(
      new Option("--transport <t>", "how to reach it")
        .choices(["auto", "localhost", "blackboard", "ssh"])
        .default("auto"),
    )
    .option("--ssh <user@host[:port]>", "SSH target for urgent tasks")
    .option("--notes <text>", "free text shown in the tables")
    .option("--replace", "update this machine's node of that id instead of refusing")
    .action(
      ctx.action((id: string, opts: Record<string, unknown>) =>
        ctx.audited("nodes-add", id, () => addNode(ctx, id, opts)),
      ),
    );
  nodes
    .command("remove")
    .description("unregister a node (its tasks stay on the blackboard)")
    .argument("<id>")
    .option("--stop", "stop its gateway too (without asking)")
    .option("--keep-running", "leave its gateway running (without asking)")
    .option("--purge", "also move its profile directory aside (renamed, not deleted; asks first)")
    .option("--yes", "answer yes: stop the gateway, and confirm --purge")
    .action(
      ctx.action((id: string, opts: RemoveOptions) =>
        ctx.audited("remove", id, () => removeNode(ctx, id, opts)),
      ),
    );
  registerLifecycle(nodes, ctx);
  registerAccess(nodes, ctx);
  registerCordon(nodes, ctx);
  nodes
    .command("rename")
    .description("give this machine's node another id (settles two machines claiming one id)")
    .argument("<old>")
    .argument("<new>")
    .action(
      ctx.action((from: string, to: string) =>
        ctx.audited("nodes-rename", `${from} → ${to}`, () => renameNode(ctx, from, to)),
      ),
    );
  nodes
    .command("probe")
    .description("check reachability, token and latency now (--turn: and that its model answers)")
    .argument("[id]", "one node (default: all)")
    .option("--turn", "run one real turn through /v1/chat/completions and time it (one node)")
    .option("--json", "machine-readable output")
    .action(
      ctx.action((id: string | undefined, opts: { json?: boolean; turn?: boolean }) =>
        ctx.withCore(async (core) => {
          if (opts.turn) return probeTurn(ctx, core, id, Boolean(opts.json));
          const ids = id ? [core.node(id).id] : core.nodes.map((n) => n.id);
          await Promise.all(ids.filter((n) => core.node(n).port !== null).map((n) => core.probe(n)));
          const { views } = await core.nodeViews();
          const shown = views.filter((v) => ids.includes(v.id));
          if (opts.json) out(JSON.stringify(shown, null, 2));
          else for (const v of shown) ctx.say(`${v.id}: ${v.status} — ${sanitizeLine(v.reason)}`);
          return shown.some((v) => v.status !== "online" && v.status !== "planned") ? EXIT.failed : EXIT.ok;
        }),
      ),
    );
}

/** `nodes probe --turn NODE`: one real turn, timed; the failure with its fix and the gateway's log. */
async function probeTurn(
  ctx: CliContext,
  core: FederationCore,
  id: string | undefined,
  json: boolean,
): Promise<number> {
  if (!id)
    throw new UserError("--turn checks one node: give its id.", {
      hint: "clawos nodes probe --turn NODE",
      code: "usage",
    });
  const { probeNodeTurn } = await import("../../core/ops/turn-check.js");
  const check = await probeNodeTurn(core, id);
  if (json) ctx.out(JSON.stringify(check, null, 2));
  else if (check.ok) {
    ctx.say(
      `${check.node}: answered in ${formatElapsed(check.ms)}: ${sanitizeLine(check.reply).slice(0, 120)}`,
    );
  } else {
    ctx.say(`${check.node}: no answer after ${formatElapsed(check.ms)}: ${sanitizeLine(check.error)}`);
    if (check.hint) ctx.say(`  fix: ${sanitizeLine(check.hint)}`);
    ctx.say(`  gateway log: ${check.logFile}`);
  }
  return check.ok ? EXIT.ok : EXIT.failed;
}

async function addNode(ctx: CliContext, id: string, opts: Record<string, unknown>): Promise<void> {
  if (opts.port === undefined && !opts.planned)
    throw new UserError("Give --port N, or --planned for a node without a gateway yet.");
  const token: NodeConfigInput["token"] = opts.tokenFile
    ? { file: String(opts.tokenFile) }
    : opts.tokenEnv
      ? { env: String(opts.tokenEnv) }
      : opts.token === false
        ? { none: true }
        : { profile: true };
  await ctx.withCore(async (core) => {
    const node = parseNode({
      id,
      machine: (opts.machine as string | undefined) ?? core.machine,
      host: opts.host as string,
      port: opts.planned ? null : (opts.port as number),
      profile: (opts.profile as string | undefined) ?? null,
      agent: opts.agent as string,
      tags: (opts.tag as string[] | undefined) ?? [],
      token,
      transport: opts.transport as "auto",
      ...(opts.ssh ? { ssh: { target: String(opts.ssh) } } : {}),
      ...(opts.notes ? { notes: String(opts.notes) } : {}),
    });
    const done = await core.registryWriter().register(node, { replace: Boolean(opts.replace) });
    // The token source stays on this machine; the registry never holds it.
    await updateLocalSettings(ctx.home(), "profile" in token ? { drop: id } : { id, token });
    const where = `${node.port === null ? "planned" : `${node.host}:${node.port}`} on ${node.machine}`;
    ctx.say(
      done.tookOverFrom
        ? `Took over node ${id} (${where}), registered by ${sanitizeLine(done.tookOverFrom)}.`
        : `${opts.replace && done.generation > 1 ? "Updated" : "Added"} node ${id} (${where}) in the shared registry.`,
    );
    const twin = (await core.refreshRegistry()).nodes.find(
      (n) => n.id !== id && n.machine === node.machine && n.port !== null && n.port === node.port,
    );
    if (twin)
      ctx.err(
        `warning: ${twin.id} has the same port ${node.port} on ${node.machine}; two nodes there need different gateways`,
      );
  });
}

async function removeNode(ctx: CliContext, id: string, opts: RemoveOptions): Promise<void> {
  const left = await ctx.withCore(async (core) => {
    const removing = core.nodes.find((n) => n.id === id);
    // Asking changes nothing; the tombstone comes next and refuses a node this machine does
    // not own, so nothing is stopped or moved for a removal that does not happen.
    const plan = removing ? await planRemoval(ctx, removing, opts) : { stop: false };
    await core.registryWriter().remove(id);
    await updateLocalSettings(ctx.home(), { drop: id });
    if (removing) await stopForRemoval(ctx, removing, plan);
    ctx.say(`Removed node ${id}.`);
    await purgeAfterRemoval(ctx, plan);
    return (await core.blackboard.list({ finishedLimit: 0, activeOnly: true })).tasks.filter(
      (t) => t.node === id,
    );
  });
  if (left.length)
    ctx.err(
      `note: ${count(left.length, "unfinished task")} of ${id} ${left.length === 1 ? "stays" : "stay"} on the blackboard (${left
        .slice(0, 3)
        .map((t) => t.request.id)
        .join(", ")}${left.length > 3 ? ", …" : ""}); clawos tasks cancel ID, or add ${id} again to run them`,
    );
}

async function renameNode(ctx: CliContext, from: string, to: string): Promise<void> {
  if (!isValidNodeId(to))
    throw new UserError(`"${sanitizeLine(to).slice(0, 60)}" cannot be a node id.`, {
      hint: "use lowercase letters, digits and '-' (at most 40, not any)",
      code: "usage",
    });
  await ctx.withCore(async (core) => {
    await core.registryWriter().rename(from, to);
    await updateLocalSettings(ctx.home(), { from, to });
    ctx.say(
      `Renamed node ${from} to ${to} (on ${core.machine}); tasks already queued for ${from} stay there.`,
    );
  });
}
