import { readFile } from "node:fs/promises";
import { formatElapsed } from "../domain/durations.js";
import { UserError } from "../domain/errors.js";
import type { NodeConfig } from "../domain/schema.js";
import type { IncubateOptions } from "./incubate.js";
import { type Incubation, newNodeClient } from "./incubate-steps.js";
import { findModelSource } from "./model-source.js";
import { openclawInstalled } from "./openclaw-command.js";
import { checkTurn, type TurnCheck } from "./turn-check.js";

/** The model a new node gets: a custom server, one copied from a profile, or none (said plainly). */
export interface ModelPlan {
  /** "provider/model"; undefined = none. */
  primary?: string;
  /** Where it came from ("--model-base-url", a node id), or why there is none. */
  from: string;
  /** The model part of openclaw.json copied from another profile (for `config patch --stdin`). */
  patch?: Record<string, unknown>;
}

/** The custom model's key read from its file (the first line), never echoed: a bad file gives only its path. */
export async function withModelKey(options: IncubateOptions): Promise<IncubateOptions> {
  const file = options.model?.apiKeyFile;
  if (!options.model || !file) return options;
  const key = (await readFile(file, "utf8").catch(() => "")).split("\n")[0]?.trim() ?? "";
  if (!key) {
    throw new UserError(`--model-api-key-file ${file}: no key there (missing, unreadable or empty).`, {
      code: "usage",
    });
  }
  return { ...options, model: { ...options.model, apiKey: key } };
}

/** Which model the node gets, announced before anything is made. */
export async function planModel(
  run: Incubation,
  nodes: readonly NodeConfig[],
  machine: string,
): Promise<ModelPlan> {
  const { options, name, env } = run;
  if (options.model) {
    const primary = `${options.model.providerId}/${options.model.id}`;
    run.note(`model: ${primary} at ${options.model.baseUrl} (--model-base-url)`);
    return { primary, from: "--model-base-url" };
  }
  if (options.noModel) {
    run.warn(noModelWords(name, " (--no-model)"));
    return { from: "--no-model" };
  }
  const source = await findModelSource(nodes, machine, env, name, options.modelFrom);
  if (!source) {
    const why = ": no profile here names one in agents.defaults.model";
    // The README's path without OpenClaw: the demo gateway answers without a model.
    if (options.configOnly && !(await openclawInstalled(env)))
      run.note(
        `${name} gets no model${why}; the demo gateway needs none. Under OpenClaw later, give it one: openclaw --profile ${name} configure --section model`,
      );
    else run.warn(noModelWords(name, why));
    return { from: "none" };
  }
  run.note(`model: ${source.primary} from ${source.from}; ${source.auth}`);
  if (source.missingAuth) run.warn(`${name} will not answer until it has a key: ${source.missingAuth}`);
  return { primary: source.primary, from: source.from, patch: source.patch };
}

function noModelWords(name: string, why: string): string {
  return `${name} gets no model${why}. Its turns fail until it has one: give it one now with --model-from NODE or --model-base-url/--model-id, or later with openclaw --profile ${name} configure --section model`;
}

/**
 * Last step before registering (--start): one real turn. A node that starts but cannot answer is
 * kept, not rolled back: its profile, token and port are sound, the fix is one command (which the
 * failure names), and the recorded turn marks it misconfigured so `any` passes it by until then.
 */
export async function firstTurn(
  run: Incubation,
  port: number,
  token: string,
  logFile: string,
): Promise<TurnCheck> {
  const { name, home } = run;
  const client = newNodeClient(run, port, token, logFile, { timeoutMs: 180_000 });
  try {
    const turn = await checkTurn(home, name, client, 180_000);
    if (turn.ok) run.note(`answered in ${formatElapsed(turn.ms)}; gateway log: ${logFile}`);
    else {
      run.warn(
        `misconfigured: ${turn.kind === "model_auth" || turn.kind === "model_not_found" ? "no model" : turn.kind}: ${turn.error}`,
      );
    }
    return turn;
  } finally {
    await client.close();
  }
}
