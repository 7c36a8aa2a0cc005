import { constants } from "node:fs";
import { access, copyFile, mkdir, stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { UserError } from "../domain/errors.js";
import { MAX_MACHINE_NAME } from "../domain/registry.js";
import { type BlackboardConfig, FederationConfig, SshSettings } from "../domain/schema.js";
import type { FederationCore } from "../federation/federation.js";
import { loadConfig, saveConfig } from "../infra/config.js";
import { displayPath, expandTilde } from "../infra/paths.js";

/** `clawos join`: this machine into an existing federation (see joinFederation). */
export interface JoinOptions {
  as: string;
  nats?: string;
  domain?: string;
  blackboard?: string;
  /** The machine whose worker does the directory blackboard's coordinator duties (the hub). */
  coordinator?: string;
  force?: boolean;
}

export interface Joined {
  configPath: string;
  /** Where the federation.json this one replaced was kept (--force). */
  keptAs?: string;
  notes: string[];
}

/**
 * Check that the blackboard answers, then write this machine's federation.json: its name and
 * that blackboard, keeping its own token sources, timing and keys. A federation.json naming
 * another machine or blackboard is replaced only with `force` (and kept beside as .bak).
 */
export async function writeJoinConfig(
  home: string,
  env: NodeJS.ProcessEnv,
  options: JoinOptions,
): Promise<Joined> {
  const name = options.as.trim();
  if (!name || name.length > MAX_MACHINE_NAME || /[\s/\\]/.test(name))
    throw new UserError(`"${name.slice(0, 40)}" cannot name a machine.`, {
      hint: "use its short name without spaces or slashes, e.g. macbook-air",
      code: "usage",
    });
  if (Boolean(options.nats) === Boolean(options.blackboard))
    throw new UserError("Give the federation's blackboard: --nats URL or --blackboard DIR (one of them).", {
      code: "usage",
    });
  if (options.domain && !options.nats) throw new UserError("--domain goes with --nats.", { code: "usage" });
  const blackboard = await reachableBlackboard(env, options);
  const loaded = await loadConfig(home);
  const notes: string[] = [];
  let keptAs: string | undefined;
  if (loaded.exists) {
    const same =
      (loaded.config.machine ?? name) === name && sameBlackboard(loaded.config.blackboard, blackboard);
    if (!same && !options.force)
      throw new UserError(
        `${displayPath(loaded.path, env)} already belongs to a federation (machine ${loaded.config.machine ?? "unnamed"}, blackboard ${describeBlackboard(loaded.config.blackboard)}).`,
        {
          hint: "add --force to join this one instead (the old file is kept as federation.json.bak), or run clawos with another --home",
          code: "usage",
        },
      );
    if (!same) {
      keptAs = `${loaded.path}.bak`;
      await copyFile(loaded.path, keptAs);
      notes.push(`the old ${displayPath(loaded.path, env)} is kept as ${displayPath(keptAs, env)}`);
    }
  } else await mkdir(home, { recursive: true });
  const { nodes: _legacy, ...kept } = loaded.config;
  loaded.config = FederationConfig.parse({ ...kept, version: 2, machine: name, blackboard });
  await saveConfig(loaded);
  if (blackboard.driver === "directory" && !blackboard.coordinator)
    notes.push(
      "note: no --coordinator given, so this machine's worker does the coordinator's duties too; name the hub (clawos join … --coordinator HUB) so that only one machine does",
    );
  return { configPath: loaded.path, ...(keptAs ? { keptAs } : {}), notes };
}

function sameBlackboard(a: BlackboardConfig, b: BlackboardConfig): boolean {
  if (a.driver === "nats" && b.driver === "nats")
    return a.servers.join(",") === b.servers.join(",") && (a.domain ?? "") === (b.domain ?? "");
  if (a.driver === "directory" && b.driver === "directory") return (a.path ?? "") === (b.path ?? "");
  return false;
}

export function describeBlackboard(bb: BlackboardConfig): string {
  if (bb.driver === "nats") return `${bb.servers.join(", ")}${bb.domain ? ` (domain ${bb.domain})` : ""}`;
  return bb.path ?? "the default directory";
}

/** The blackboard the options name, once it answers: a clear error naming it otherwise. */
async function reachableBlackboard(env: NodeJS.ProcessEnv, options: JoinOptions): Promise<BlackboardConfig> {
  if (options.nats) {
    const { probeNats } = await import("../blackboard/nats/connection.js");
    const probe = await probeNats([options.nats], options.domain);
    if (!probe.ok)
      throw new UserError(
        `The NATS server at ${options.nats}${options.domain ? ` (JetStream domain ${options.domain})` : ""} does not answer: ${probe.error.split("\n")[0]}`,
        {
          hint: "start this machine's NATS server (a leaf node of the hub), or check the URL and --domain",
          code: "unreachable",
        },
      );
    return { driver: "nats", servers: [options.nats], ...(options.domain ? { domain: options.domain } : {}) };
  }
  const expanded = expandTilde(options.blackboard!, env);
  const dir = isAbsolute(expanded) ? expanded : resolve(expanded);
  const kind = await stat(dir).then(
    (s) => (s.isDirectory() ? "dir" : "other"),
    () => "missing",
  );
  if (kind !== "dir")
    throw new UserError(
      `No blackboard at ${displayPath(dir, env)}: ${kind === "missing" ? "there is no such folder" : "it is not a folder"}.`,
      {
        hint: "wait until the sync tool has brought the folder from the first machine (its clawos init printed the path), or check the path",
        code: "unreachable",
      },
    );
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UserError(`The blackboard at ${displayPath(dir, env)} cannot be written by this user.`, {
      hint: "check the folder's owner and mode",
      code: "unreachable",
    });
  }
  return {
    driver: "directory",
    path: dir,
    ...(options.coordinator ? { coordinator: options.coordinator } : {}),
  };
}

/**
 * `join --ssh TARGET`: how other machines reach this one over SSH for urgent (P0) tasks, put in
 * the shared record of every node this machine owns (the owner is the only writer). Returns the
 * ids it changed.
 */
export async function setMachineSshTarget(core: FederationCore, target: string): Promise<string[]> {
  checkSshTarget(target);
  const writer = core.registryWriter();
  const changed: string[] = [];
  for (const node of (await core.refreshRegistry()).nodes) {
    if (node.machine !== core.machine || node.ssh?.target === target) continue;
    await writer.register({ ...node, ssh: { ...node.ssh, target } }, { replace: true });
    changed.push(node.id);
  }
  return changed;
}

/** Refuses what cannot be an SSH target (before join writes anything). */
export function checkSshTarget(target: string): void {
  if (!SshSettings.shape.target.safeParse(target).success)
    throw new UserError(`--ssh "${target.slice(0, 60)}" is not an SSH target.`, {
      hint: "give user@host or user@host:port, as the other machines reach this one (e.g. its Tailscale name)",
      code: "usage",
    });
}
