import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { isErrnoException, UserError } from "../domain/errors.js";
import { isValidNodeId } from "../domain/ids.js";
import type { RegistryNode, Resolved } from "../domain/registry.js";
import { FederationCore } from "../federation/federation.js";
import { heldElsewhere, updateLocalSettings } from "../federation/registry.js";
import { writeFileAtomic } from "../infra/atomic-file.js";
import { parseNode } from "../infra/config.js";
import { gatewayLogOf } from "../infra/openclaw-logs.js";
import { displayPath, tokensDir } from "../infra/paths.js";
import { GatewayClient, GatewayError } from "../transport/gateway-client.js";
import {
  candidateBasePorts,
  type KnownGateway,
  NO_PORT,
  PORT_SPACING,
  pickBasePort,
  portIsFree,
  portOverlaps,
  tooClose,
} from "./gateway-ports.js";
import type { IncubateOptions } from "./incubate.js";
import type { ModelPlan } from "./incubate-model.js";
import { commandFailed, findOnPath, runCommand } from "./openclaw-command.js";
import { discoverProfiles } from "./openclaw-profiles.js";
import { mergeInto, profileConfigFor, settingsPatch } from "./profile-config.js";
import { startSupervised, type UndoStep, waitReady } from "./supervised-gateway.js";

/** What every step of one incubation shares: where things go, and the undo list they add to. */
export interface Incubation {
  home: string;
  env: NodeJS.ProcessEnv;
  options: IncubateOptions;
  name: string;
  profileDir: string;
  tokenFile: string;
  undo: UndoStep[];
  /** A finding that does not stop the incubation. */
  warn: (detail: string) => void;
  /** What a step chose or found, for the user to read. */
  note: (detail: string) => void;
}

/** Step 1: the name is free as a node and a profile; the port keeps its distance from every known gateway. */
export async function checkNameAndPickPort(run: Incubation, machine: string): Promise<number> {
  const { nodes, held } = await FederationCore.using(run.home, run.env, async (core) => {
    const resolved = (await core.registryWriter().read()).resolved.get(run.name);
    return {
      nodes: [...core.nodes, ...core.conflicts.map((c) => c.node)],
      // This machine's own planned node (port TBD) is what incubation is for: it becomes the real one.
      held: plannedHere(resolved, core.machine) ? undefined : heldElsewhere(run.name, resolved),
    };
  });
  const { name, options, env, profileDir } = run;
  if (!isValidNodeId(name) || name === "main" || name === "default") {
    throw new UserError(`"${name}" cannot be a node and profile name.`, {
      hint: "use lowercase letters, digits and '-' (not main or default)",
      code: "usage",
    });
  }
  if (held || nodes.some((n) => n.id === name && n.port !== null)) {
    throw new UserError(`Node "${name}" already exists${held ? ` (${held.message})` : "."}`, {
      hint: "pick another name, or clawos nodes remove it first",
    });
  }
  try {
    await stat(profileDir);
    throw new UserError(`${displayPath(profileDir, env)} already exists.`, {
      hint: "pick another name, or register that profile with clawos init",
    });
  } catch (error) {
    if (!isErrnoException(error, "ENOENT")) throw error;
  }
  const profiles = await discoverProfiles(env);
  const known: KnownGateway[] = [
    ...nodes
      .filter((n) => n.machine === machine && n.port !== null)
      .map((n) => ({ id: n.id, port: n.port!, profile: n.profile })),
    ...profiles
      .filter((p) => !nodes.some((n) => n.machine === machine && n.port === p.port))
      .map((p) => ({ id: p.profile ?? "main", port: p.port, profile: p.profile })),
  ];
  for (const overlap of portOverlaps(known)) run.warn(`existing ${overlap.text}; ${overlap.fix}`);
  const used = known.map((k) => k.port);
  if (options.port !== undefined) {
    const near = tooClose(options.port, known);
    if (near) {
      const apart = Math.abs(near.port - options.port);
      throw new UserError(
        `Port ${options.port} is only ${apart === 1 ? "1 port" : `${apart} ports`} away from ${near.id} (${near.port}).`,
        {
          hint: `OpenClaw needs ${PORT_SPACING} ports between instances: use --port ${pickBasePort(used)}, or leave out --port to get one picked`,
          code: "usage",
        },
      );
    }
    if (!(await portIsFree(options.port))) {
      throw new UserError(`Port ${options.port} is already taken on 127.0.0.1.`, {
        hint: "pick another --port, or leave it out",
      });
    }
    return options.port;
  }
  for (const port of candidateBasePorts(used)) if (await portIsFree(port)) return port;
  throw new UserError(NO_PORT);
}

/** Step 2: a new gateway token in its own file, mode 0600, never printed. */
export async function writeGatewayToken(run: Incubation): Promise<string> {
  const token = randomBytes(24).toString("hex");
  await mkdir(tokensDir(run.home), { recursive: true, mode: 0o700 });
  const handle = await open(run.tokenFile, "wx", 0o600);
  run.undo.push({ title: "remove the token file", run: () => rm(run.tokenFile, { force: true }) });
  await handle.writeFile(`${token}\n`);
  await handle.close();
  return token;
}

/** Step 3: the OpenClaw profile, written directly (--config-only) or made by `openclaw onboard`. */
export async function createProfile(
  run: Incubation,
  port: number,
  token: string,
  model: ModelPlan,
): Promise<void> {
  const { options, profileDir, env } = run;
  run.undo.push({
    title: `remove ${displayPath(profileDir, env)}`,
    run: () => rm(profileDir, { recursive: true, force: true }),
  });
  if (options.configOnly) {
    await mkdir(profileDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(
      join(profileDir, "openclaw.json"),
      `${JSON.stringify(profileConfigFor(options, port, token, model.patch), null, 2)}\n`,
      {
        mode: 0o600,
      },
    );
    return;
  }
  const openclaw = await findOnPath("openclaw", env);
  if (!openclaw) {
    throw new UserError("openclaw is not on PATH, so the profile cannot be created.", {
      hint: "install it (npm install -g openclaw) or use --config-only to write the config directly",
      code: "openclaw_missing",
    });
  }
  await onboardProfile(run, openclaw, port, token, model);
  // The config holds the gateway token and maybe a model key: only this user may read it.
  await chmod(join(profileDir, "openclaw.json"), 0o600);
}

/** `openclaw onboard`, then the gateway token and the settings clawos needs, each through `openclaw config`. */
async function onboardProfile(
  run: Incubation,
  openclaw: string,
  port: number,
  token: string,
  model: ModelPlan,
): Promise<void> {
  const { options, name, env } = run;
  // Secrets never go on a command line (every local user can read those in ps): the
  // model key through the environment, which onboard reads when --custom-api-key is
  // left out, and the gateway token through stdin by `config patch` below.
  const onboard = await runCommand(
    openclaw,
    onboardArgs(name, port, options.model, Boolean(model.patch)),
    options.model ? { ...env, CUSTOM_API_KEY: options.model.apiKey } : env,
  );
  if (onboard.code !== 0) {
    throw commandFailed("openclaw onboard", onboard, token, options.model?.apiKey ?? "");
  }
  // One `config patch --stdin` for everything clawos sets (each openclaw command takes many
  // seconds to start): the gateway token and the copied model (with any key inline in it)
  // stay off the command line, and the chat endpoint and --set values come along.
  const patch = settingsPatch([
    ["gateway.http.endpoints.chatCompletions.enabled", "true"],
    ...(options.settings ?? []),
  ]);
  mergeInto(patch, model.patch ?? {});
  mergeInto(patch, { gateway: { auth: { mode: "token", token } } });
  const patched = await runCommand(
    openclaw,
    ["--profile", name, "config", "patch", "--stdin"],
    env,
    JSON.stringify(patch),
  );
  if (patched.code !== 0) {
    throw commandFailed(
      `openclaw config patch (the gateway token, chat endpoint${model.patch ? ", model" : ""} and --set values)`,
      patched,
      token,
      ...secretsIn(model.patch),
    );
  }
}

/** Pure: the arguments of a non-interactive `openclaw onboard` for a loopback, token-auth gateway. */
function onboardArgs(
  name: string,
  port: number,
  model: IncubateOptions["model"],
  /** The model is copied in afterwards: onboard need not set one up (it is quicker without). */
  copied: boolean,
): string[] {
  const args = [
    "--profile",
    name,
    "onboard",
    "--non-interactive",
    "--accept-risk",
    "--mode",
    "local",
    "--flow",
    "quickstart",
    "--gateway-port",
    String(port),
    "--gateway-bind",
    "loopback",
    "--gateway-auth",
    "token",
    "--no-install-daemon",
    "--skip-channels",
    "--skip-skills",
    "--skip-search",
    "--skip-health",
    "--skip-ui",
    "--skip-hooks",
    "--json",
  ];
  if (copied) args.push("--auth-choice", "skip");
  if (model) {
    args.push(
      "--auth-choice",
      "custom-api-key",
      "--custom-base-url",
      model.baseUrl,
      "--custom-model-id",
      model.id,
      "--custom-provider-id",
      model.providerId,
      "--custom-compatibility",
      "openai",
    );
  }
  return args;
}

/** Step 4 (--start): the gateway as a supervised child, or as a launchd/systemd service (--service). */
export async function startGateway(run: Incubation, token: string): Promise<void> {
  const { options, name, env, home } = run;
  const openclaw = await findOnPath("openclaw", env);
  if (!openclaw) {
    throw new UserError("openclaw is not on PATH, so the gateway cannot be started.", {
      hint: "install it (npm install -g openclaw), or leave out --start and start it yourself",
      code: "openclaw_missing",
    });
  }
  if (options.service) {
    run.undo.push({
      title: "uninstall the service",
      run: async () => void (await runCommand(openclaw, ["--profile", name, "gateway", "uninstall"], env)),
    });
    const install = await runCommand(openclaw, ["--profile", name, "gateway", "install"], env);
    if (install.code !== 0) throw commandFailed("openclaw gateway install", install, token);
  } else {
    await startSupervised(home, name, openclaw, env, run.undo);
  }
}

/** Step 5 (--start): the gateway is ready and answers with the token. */
export async function checkGatewayAnswers(run: Incubation, port: number, token: string): Promise<void> {
  const { options, name, env, home } = run;
  // A gateway that has just started is still busy starting its sidecars: give it time to answer.
  const client = newNodeClient(run, port, token, await gatewayLogOf(name, env), { probeTimeoutMs: 30_000 });
  try {
    await waitReady(client, options.readyTimeoutMs ?? 180_000, home, name);
    await client.models(AbortSignal.timeout(10_000));
  } catch (error) {
    // Its token is brand new: a gateway that refuses it is another one, which took the port meanwhile.
    if (error instanceof GatewayError && error.kind === "unauthorized") {
      throw new UserError(
        `Another gateway answers on 127.0.0.1:${port}, not ${name}'s (it refused ${name}'s new token).`,
        {
          hint: `it took the port after it was picked: run clawos incubate again (another port is picked), or give --port N; ${name}'s own log: ${await gatewayLogOf(name, env)}`,
        },
      );
    }
    throw error;
  } finally {
    await client.close();
  }
}

/** Last step: the node in the shared registry (read again here, not reused from step 1); its token file stays local. */
export async function registerNode(run: Incubation, machine: string, port: number): Promise<void> {
  await FederationCore.using(run.home, run.env, async (core) => {
    const writer = core.registryWriter();
    const resolved = (await writer.read()).resolved.get(run.name);
    const planned = plannedHere(resolved, core.machine);
    await writer.register(
      parseNode({
        id: run.name,
        machine,
        port,
        profile: run.name,
        agent: run.options.agent ?? planned?.agent ?? "main",
        tags: planned?.tags ?? [],
        notes: planned?.notes ? `${planned.notes}; incubated` : "incubated",
      }),
      { replace: planned !== undefined },
    );
  });
  await updateLocalSettings(run.home, { id: run.name, token: { file: run.tokenFile } });
}

/** The node's definition when it is a planned node (port TBD) this machine registered. */
function plannedHere(resolved: Resolved | undefined, machine: string): RegistryNode | undefined {
  if (resolved?.kind !== "active") return undefined;
  const { owner, node } = resolved.record;
  return owner === machine && node.port === null ? node : undefined;
}

/** Every string value named like a secret in a config fragment, to keep out of error output. */
function secretsIn(value: unknown): string[] {
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) =>
    typeof v === "string" && /key|token|secret|password/i.test(key) ? [v] : secretsIn(v),
  );
}

/** A client of the node being incubated, with the token incubate wrote. */
export function newNodeClient(
  run: Incubation,
  port: number,
  token: string,
  logFile: string,
  limits: ConstructorParameters<typeof GatewayClient>[1],
): GatewayClient {
  return new GatewayClient(
    {
      nodeId: run.name,
      host: "127.0.0.1",
      port,
      token,
      tokenSource: `token file ${displayPath(run.tokenFile, run.env)}`,
      profile: run.name,
      agent: run.options.agent ?? "main",
      logFile,
    },
    limits,
  );
}
