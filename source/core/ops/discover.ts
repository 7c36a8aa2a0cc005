import { nodeIdFor } from "../domain/registry.js";
import { FederationCore } from "../federation/federation.js";
import { heldElsewhere, updateLocalSettings } from "../federation/registry.js";
import { type LoadedConfig, loadConfig, parseNode, saveConfig, thisMachine } from "../infra/config.js";
import { portOverlaps } from "./gateway-ports.js";
import { discoverProfiles } from "./openclaw-profiles.js";

export interface DiscoveryReport {
  configPath: string;
  machine: string;
  /** federation.json or the registry changed (false: nothing changed, nothing was written). */
  written: boolean;
  found: number;
  added: string[];
  /** Nodes another machine had registered for this one, now this machine's own. */
  tookOver: { id: string; from: string }[];
  /** Profiles not registered because another machine holds their id: each line has the fix. */
  clashes: string[];
  notes: string[];
  totalNodes: number;
  /** What the upgrade of a version-1 federation.json moved, if this run did it. */
  upgrade?: string;
}

export interface DiscoveryOptions {
  /** Register these again although this machine removed them. */
  readd?: string[];
  /**
   * Write this machine's name and the directory coordinator into federation.json even when
   * nothing else changes (`clawos init`: setting the machine up is what it is for). Without it
   * (the control center's `i`) they are written only along with a node this run registers:
   * every worker restarts when the file changes, and they only spell out the defaults.
   */
  pinDefaults?: boolean;
}

/**
 * `clawos init` and `clawos join`: register this machine's OpenClaw profiles as its nodes in the
 * shared registry (the default profile named after the machine, a named one after the profile),
 * take over nodes handed to this machine, and warn about port overlaps. A node this machine
 * removed stays removed unless `readd` names it; an id another machine holds is refused with the fix.
 */
export async function registerLocalProfiles(
  home: string,
  env: NodeJS.ProcessEnv = process.env,
  options: DiscoveryOptions = {},
): Promise<DiscoveryReport> {
  const loaded = await loadConfig(home);
  const machine = thisMachine(loaded.config, env);
  // Writing federation.json restarts every worker watching it: only a change is written, and a
  // discovery that finds nothing on a machine without a federation does not create the file.
  if (!loaded.exists && (await discoverProfiles(env)).length === 0)
    return {
      configPath: loaded.path,
      machine,
      written: false,
      found: 0,
      added: [],
      tookOver: [],
      clashes: [],
      notes: ["No OpenClaw profile found in ~ (looked for ~/.openclaw and ~/.openclaw-*)."],
      totalNodes: 0,
    };
  // The defaults pinned now (init) or after registering (only if that changed something): the
  // federation opens the same either way, as an unset machine and coordinator mean this machine.
  const pinFirst = Boolean(options.pinDefaults) && (pinDefaults(loaded, machine) || !loaded.exists);
  if (pinFirst) await saveConfig(loaded);
  const core = await FederationCore.open(home, { env });
  let report: DiscoveryReport;
  try {
    report = await registerWith(core, env, options);
  } finally {
    await core.close();
  }
  if (pinFirst) return { ...report, written: true };
  if (report.added.length === 0 && report.tookOver.length === 0) return report;
  const fresh = await loadConfig(home); // registering may have written token settings
  if (pinDefaults(fresh, machine)) await saveConfig(fresh);
  return report;
}

/** Fills in this machine's name and the directory coordinator when unset; true if it did. */
function pinDefaults(loaded: LoadedConfig, machine: string): boolean {
  let changed = false;
  if (!loaded.config.machine) {
    loaded.config.machine = machine;
    changed = true;
  }
  const bb = loaded.config.blackboard;
  if (bb.driver === "directory" && !bb.coordinator) {
    bb.coordinator = machine;
    changed = true;
  }
  return changed;
}

async function registerWith(
  core: FederationCore,
  env: NodeJS.ProcessEnv,
  options: DiscoveryOptions,
): Promise<DiscoveryReport> {
  const { machine } = core;
  const writer = core.registryWriter();
  const tookOver = (await writer.takeOverHanded()).map((t) => ({ id: t.id, from: t.tookOverFrom! }));
  const notes = tookOver.map((t) => `took over node ${t.id}, registered by ${t.from}`);
  const found = await discoverProfiles(env);
  const added: string[] = [];
  const clashes: string[] = [];
  let { nodes } = await core.refreshRegistry();
  const { resolved } = await writer.read();
  for (const p of found) {
    const label = p.profile ? `~/.openclaw-${p.profile}` : "~/.openclaw";
    if (p.problem) {
      notes.push(`${label}: skipped — ${p.problem}`);
      continue;
    }
    const id = p.profile ? p.nodeId : nodeIdFor(machine);
    // This profile's node: the one on its port, else the one named as discovery names it (or
    // `main`, the default profile's name before nodes were named after their machine).
    const mine = nodes.filter((n) => n.machine === machine && n.profile === p.profile);
    const same =
      mine.find((n) => n.port === p.port) ??
      mine.find((n) => n.id === id || (p.profile === null && n.id === "main"));
    if (same && same.port !== null && same.port !== p.port) {
      // The profile moved to another port (init's own spacing warning suggests it): follow it.
      await writer.register({ ...same, port: p.port }, { replace: true });
      notes.push(
        `${label}: node ${same.id} moved from port ${same.port} to ${p.port} (its openclaw.json says so); a running worker of ${same.id} starts again on it by itself`,
      );
      continue;
    }
    if (same) {
      notes.push(`${label}: already registered as node ${same.id}`);
      continue;
    }
    const current = resolved.get(id);
    if (
      current?.kind === "removed" &&
      current.by.split(", ").includes(machine) &&
      !options.readd?.includes(id)
    ) {
      notes.push(
        `${label}: node ${id} was removed on this machine; clawos init --readd ${id} registers it again`,
      );
      continue;
    }
    const clash = heldElsewhere(id, current);
    if (clash) {
      const line = `${label}: not registered — ${clash.message} Fix: ${clash.hint}`;
      clashes.push(line);
      notes.push(line);
      continue;
    }
    await writer.register(
      parseNode({ id, machine, port: p.port, profile: p.profile, token: { profile: true } }),
    );
    if (!p.hasToken) await updateLocalSettings(core.loaded.home, { id, token: { none: true } });
    added.push(id);
    notes.push(`${label}: registered as node ${id} on port ${p.port}`);
    if (!p.chatCompletionsEnabled) {
      notes.push(
        `  note: chat completions are off there; turn them on: openclaw ${p.profile ? `--profile ${p.profile} ` : ""}config set gateway.http.endpoints.chatCompletions.enabled true`,
      );
    }
  }
  ({ nodes } = await core.refreshRegistry());
  const ports = nodes
    .filter((n) => n.machine === machine && n.port !== null)
    .map((n) => ({ id: n.id, port: n.port!, profile: n.profile }));
  for (const o of portOverlaps(ports)) notes.push(`warning: ${o.text}\n  fix: ${o.fix}`);
  if (found.length === 0)
    notes.push("No OpenClaw profile found in ~ (looked for ~/.openclaw and ~/.openclaw-*).");
  return {
    configPath: core.loaded.path,
    machine,
    written: added.length > 0 || tookOver.length > 0,
    found: found.length,
    added,
    tookOver,
    clashes,
    notes,
    totalNodes: nodes.length,
    ...(core.upgradeNote ? { upgrade: core.upgradeNote } : {}),
  };
}
