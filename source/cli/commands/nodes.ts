import { type Command, Option } from "commander";
import { UserError } from "../../core/domain/errors.js";
import type { NodeConfigInput } from "../../core/domain/schema.js";
import { loadConfig, parseNode, saveConfig, thisMachine } from "../../core/infra/config.js";
import { displayPath } from "../../core/infra/paths.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import { toSafe } from "../../present/safe-text.js";
import type { CliContext } from "../context.js";
import { collect, parsePort } from "../options.js";
import { EXIT } from "../signals.js";
import { renderNodesTable, tableWidth } from "../status-report.js";

/** `clawos nodes list|add|remove|probe`: the registry. */
export function register(program: Command, ctx: CliContext): void {
  const { out } = ctx;
  const nodes = program.command("nodes").description("list, add, remove and probe nodes");
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
    .action(ctx.action((id: string, opts: Record<string, unknown>) => addNode(ctx, id, opts)));
  nodes
    .command("remove")
    .description("unregister a node (its tasks stay on the blackboard)")
    .argument("<id>")
    .action(ctx.action((id: string) => removeNode(ctx, id)));
  nodes
    .command("probe")
    .description("check reachability, token and latency now")
    .argument("[id]", "one node (default: all)")
    .option("--json", "machine-readable output")
    .action(
      ctx.action((id: string | undefined, opts: { json?: boolean }) =>
        ctx.withCore(async (core) => {
          const ids = id ? [core.node(id).id] : core.nodes.map((n) => n.id);
          await Promise.all(ids.filter((n) => core.node(n).port !== null).map((n) => core.probe(n)));
          const { views } = await core.nodeViews();
          const shown = views.filter((v) => ids.includes(v.id));
          if (opts.json) out(JSON.stringify(shown, null, 2));
          else for (const v of shown) out(`${v.id}: ${v.status} — ${sanitizeLine(v.reason)}`);
          return shown.some((v) => v.status !== "online" && v.status !== "planned") ? EXIT.failed : EXIT.ok;
        }),
      ),
    );
}

async function addNode(ctx: CliContext, id: string, opts: Record<string, unknown>): Promise<void> {
  const loaded = await loadConfig(ctx.home());
  if (loaded.config.nodes.some((n) => n.id === id)) {
    throw new UserError(`Node "${id}" is already registered.`, {
      hint: `remove it first: clawos nodes remove ${id}`,
    });
  }
  if (opts.port === undefined && !opts.planned)
    throw new UserError("Give --port N, or --planned for a node without a gateway yet.");
  const token: NodeConfigInput["token"] = opts.tokenFile
    ? { file: String(opts.tokenFile) }
    : opts.tokenEnv
      ? { env: String(opts.tokenEnv) }
      : opts.token === false
        ? { none: true }
        : { profile: true };
  const node = parseNode({
    id,
    machine: (opts.machine as string | undefined) ?? thisMachine(loaded.config, ctx.io.env),
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
  loaded.config.nodes.push(node);
  await saveConfig(loaded);
  ctx.out(
    `Added node ${id} (${node.port === null ? "planned" : `${node.host}:${node.port}`} on ${node.machine}) to ${displayPath(loaded.path, ctx.io.env)}.`,
  );
  const twin = loaded.config.nodes.find(
    (n) => n.id !== id && n.machine === node.machine && n.port !== null && n.port === node.port,
  );
  if (twin)
    ctx.err(
      `warning: ${twin.id} has the same port ${node.port} on ${node.machine}; two nodes there need different gateways`,
    );
}

async function removeNode(ctx: CliContext, id: string): Promise<void> {
  const loaded = await loadConfig(ctx.home());
  const before = loaded.config.nodes.length;
  loaded.config.nodes = loaded.config.nodes.filter((n) => n.id !== id);
  if (loaded.config.nodes.length === before)
    throw new UserError(`There is no node "${sanitizeLine(id).slice(0, 60)}".`);
  await saveConfig(loaded);
  ctx.out(`Removed node ${id}.`);
  const left = await ctx
    .withCore(async (core) =>
      (await core.blackboard.list({ finishedLimit: 0, activeOnly: true })).tasks.filter((t) => t.node === id),
    )
    .catch(() => []);
  if (left.length)
    ctx.err(
      `note: ${left.length} unfinished task(s) of ${id} stay on the blackboard (${left
        .slice(0, 3)
        .map((t) => t.request.id)
        .join(", ")}${left.length > 3 ? ", …" : ""}); clawos tasks cancel ID, or add ${id} again to run them`,
    );
}
