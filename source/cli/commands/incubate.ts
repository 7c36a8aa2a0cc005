import type { Command } from "commander";
import { UserError } from "../../core/domain/errors.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import { findOnPath } from "../../core/ops/openclaw-command.js";
import type { CliContext } from "../context.js";
import { collect, parsePort, parsePositiveInt } from "../options.js";

/** `clawos incubate`: a new local OpenClaw instance, registered as a node. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("incubate")
    .description("create a new local OpenClaw instance on its own port and register it as a node")
    .argument("<name>", "node and profile name (lowercase letters, digits, -)")
    .option("--port <port>", "base port (default: the first one 20 away from every known gateway)", parsePort)
    .option("--agent <id>", "OpenClaw agent id", "main")
    .option("--model-base-url <url>", "an OpenAI-compatible model server for the new instance")
    .option("--model-id <id>", "the model id there")
    .option("--model-api-key-env <var>", "environment variable holding that server's API key")
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
    .action(ctx.action((name: string, opts: Record<string, unknown>) => incubateNode(ctx, name, opts)));
}

async function incubateNode(ctx: CliContext, name: string, opts: Record<string, unknown>): Promise<void> {
  const { out, err } = ctx;
  const { incubate } = await import("../../core/ops/incubate.js");
  const settings = ((opts.set as string[] | undefined) ?? []).map((kv): [string, string] => {
    const at = kv.indexOf("=");
    if (at < 1) throw new UserError(`--set ${kv}: write it as key=value.`, { code: "usage" });
    return [kv.slice(0, at), kv.slice(at + 1)];
  });
  const model = modelOption(opts, ctx.io.env);
  const result = await incubate(
    ctx.home(),
    ctx.io.env,
    {
      name,
      ...(opts.port !== undefined ? { port: opts.port as number } : {}),
      agent: String(opts.agent),
      ...(model ? { model } : {}),
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
      else if (e.status === "undone") err(`  ${e.title}`);
      else if (e.status === "failed") err(`  failed — rolling back`);
    },
  );
  if (opts.json) out(JSON.stringify(result, null, 2));
  else {
    out(`Node ${result.node} is ready on 127.0.0.1:${result.port}${result.started ? " and running" : ""}.`);
    // The next step depends on the path: without OpenClaw here (the README's demo path) its
    // command would only fail, so the demo gateway is named instead.
    const openclaw = result.started ? undefined : await findOnPath("openclaw", ctx.io.env);
    out(
      result.started
        ? `Try it: clawos dispatch "hello" --to ${result.node} --wait`
        : openclaw
          ? `Start it with: openclaw --profile ${result.node} gateway run   (then clawos nodes probe ${result.node})`
          : `OpenClaw is not installed here: in the clawos checkout, npm run demo:gateway -- ${result.node} serves this port with a demo gateway (then clawos nodes probe ${result.node}).`,
    );
  }
}

/** --model-base-url, --model-id and the key's variable, checked together. */
function modelOption(
  opts: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): { baseUrl: string; id: string; apiKey: string; providerId: string } | undefined {
  if (!opts.modelBaseUrl && !opts.modelId) return undefined;
  if (!opts.modelBaseUrl || !opts.modelId)
    throw new UserError("Give both --model-base-url and --model-id.", { code: "usage" });
  const keyVar = opts.modelApiKeyEnv as string | undefined;
  const apiKey = keyVar ? env[keyVar] : "none";
  if (keyVar && !apiKey) throw new UserError(`${keyVar} is not set.`, { code: "usage" });
  return {
    baseUrl: String(opts.modelBaseUrl),
    id: String(opts.modelId),
    apiKey: apiKey ?? "none",
    providerId: String(opts.providerId),
  };
}
