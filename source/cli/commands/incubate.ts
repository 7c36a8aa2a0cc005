import type { Command } from "commander";
import { formatElapsed } from "../../core/domain/durations.js";
import { UserError } from "../../core/domain/errors.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import type { IncubateOptions, IncubateResult } from "../../core/ops/incubate.js";
import { type GatewayStart, gatewayStartHere } from "../../core/ops/openclaw-command.js";
import type { CliContext } from "../context.js";
import { collect, parsePort, parsePositiveInt } from "../options.js";
import { EXIT } from "../signals.js";

/** `clawos incubate`: a new local OpenClaw instance, registered as a node. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("incubate")
    .description("create a new local OpenClaw instance on its own port and register it as a node")
    .argument("<name>", "node and profile name (lowercase letters, digits, -)")
    .option(
      "--port <port>",
      "base port (default: the first one 120 away from every known gateway)",
      parsePort,
    )
    .option("--agent <id>", "OpenClaw agent id", "main")
    .option(
      "--model-from <node>",
      "copy the model, its provider and key from this node's profile (default: main, else the first local node with a model)",
    )
    .option("--model-base-url <url>", "an OpenAI-compatible model server for the new instance")
    .option("--model-id <id>", "the model id there")
    .option("--model-api-key-env <var>", "environment variable holding that server's API key")
    .option("--model-api-key-file <path>", "file holding that server's API key (never give the key itself)")
    .option("--no-model", "make the node without a model (its turns fail until it gets one)")
    .option("--provider-id <id>", "provider name in the OpenClaw config", "custom")
    .option(
      "--set <key=value>",
      "extra `openclaw config set` (repeatable), e.g. discovery.mdns.mode=off",
      collect,
    )
    .option("--start", "start the gateway now and wait until it answers")
    .option("--service", "with --start: install it as a launchd/systemd service instead")
    .option("--config-only", "write openclaw.json directly instead of running openclaw onboard")
    .option("--ready-timeout <seconds>", "how long --start waits for the gateway", parsePositiveInt, 180)
    .option("--json", "machine-readable result")
    .action(
      ctx.action((name: string, opts: Record<string, unknown>) =>
        ctx.audited("incubate", name, () => incubateNode(ctx, name, opts)),
      ),
    );
}

async function incubateNode(ctx: CliContext, name: string, opts: Record<string, unknown>): Promise<number> {
  const { out, err } = ctx;
  const { incubate } = await import("../../core/ops/incubate.js");
  const settings = ((opts.set as string[] | undefined) ?? []).map((kv): [string, string] => {
    const at = kv.indexOf("=");
    if (at < 1) throw new UserError(`--set ${kv}: write it as key=value.`, { code: "usage" });
    return [kv.slice(0, at), kv.slice(at + 1)];
  });
  const model = await modelOption(opts, ctx.io.env);
  if (opts.modelFrom && model)
    throw new UserError("Give either --model-from or --model-base-url/--model-id, not both.", {
      code: "usage",
    });
  const result = await incubate(
    ctx.home(),
    ctx.io.env,
    {
      name,
      ...(opts.port !== undefined ? { port: opts.port as number } : {}),
      agent: String(opts.agent),
      ...(model ? { model } : {}),
      ...(opts.modelFrom ? { modelFrom: String(opts.modelFrom) } : {}),
      ...(opts.model === false ? { noModel: true } : {}),
      settings,
      start: Boolean(opts.start),
      service: Boolean(opts.service),
      configOnly: Boolean(opts.configOnly),
      readyTimeoutMs: (opts.readyTimeout as number) * 1000,
    },
    (e) => {
      if (opts.json) return;
      if (e.status === "running") err(`[${e.step}/${e.total}] ${e.title} …`);
      else if (e.status === "warning") err(`  warning: ${sanitizeLine(e.detail ?? e.title)}`);
      else if (e.status === "note") err(`  ${sanitizeLine(e.detail ?? e.title)}`);
      else if (e.status === "undone") err(`  ${e.title}`);
      else if (e.status === "failed") err(`  failed — rolling back`);
    },
  );
  if (opts.json) out(JSON.stringify(result, null, 2));
  else {
    // Without OpenClaw here (the README's demo path) its start command would only fail.
    const start = await gatewayStartHere(result.node, ctx.io.env);
    for (const line of resultLines(result, start)) ctx.say(line);
  }
  return result.turn && !result.turn.ok ? EXIT.failed : EXIT.ok;
}

/** What the user reads at the end: where the node runs, whether it answered, and what to do next. */
function resultLines(result: IncubateResult, start: GatewayStart): string[] {
  const { node, port, turn, model } = result;
  const where = `127.0.0.1:${port}`;
  const modelLine = model ? `Model: ${model.primary} (from ${model.from}).` : "Model: none.";
  if (!result.started) {
    return [
      // "Ready" is said only of a node that answered: nothing runs on this port yet.
      `Node ${node} is set up on ${where}; its gateway is not running yet. ${modelLine}`,
      start.openclaw
        ? `Start it with: ${start.command}   (or clawos nodes start ${node}; then clawos nodes probe --turn ${node})`
        : `OpenClaw is not installed here: in the clawos checkout, ${start.command} serves this port with a demo gateway (then clawos nodes probe ${node}).`,
    ];
  }
  if (turn?.ok) {
    return [
      `Node ${node} is ready on ${where}: it answered a first turn in ${formatElapsed(turn.ms)}. ${modelLine}`,
      `Gateway log: ${result.logFile}`,
      `Try it: clawos dispatch "hello" --to ${node} --wait`,
    ];
  }
  return [
    `Node ${node} runs on ${where} but cannot answer yet: it is kept as misconfigured${model ? "" : ": no model"}.`,
    `  ${sanitizeLine(turn?.error ?? "its first turn failed")}`,
    ...(turn?.hint ? [`  fix: ${sanitizeLine(turn.hint)}`] : []),
    `Gateway log: ${result.logFile}`,
    `Once fixed, check it: clawos nodes probe --turn ${node}   (any skips it until a turn answers)`,
  ];
}

/** --model-base-url, --model-id and the key's variable or file, checked together. */
async function modelOption(
  opts: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Promise<IncubateOptions["model"]> {
  if (!opts.modelBaseUrl && !opts.modelId) return undefined;
  if (!opts.modelBaseUrl || !opts.modelId)
    throw new UserError("Give both --model-base-url and --model-id.", { code: "usage" });
  const keyVar = opts.modelApiKeyEnv as string | undefined;
  const keyFile = opts.modelApiKeyFile as string | undefined;
  const apiKey = keyFile ? "" : keyVar ? env[keyVar] : "none";
  if (keyVar && !apiKey)
    throw new UserError(`${keyVar} is not set.`, {
      hint: "export it, or use --model-api-key-file",
      code: "usage",
    });
  return {
    baseUrl: String(opts.modelBaseUrl),
    id: String(opts.modelId),
    apiKey: apiKey ?? "none",
    ...(keyFile ? { apiKeyFile: keyFile } : {}),
    providerId: String(opts.providerId),
  };
}
