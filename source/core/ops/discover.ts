import { loadConfig, parseNode, saveConfig, thisMachine } from "../infra/config.js";
import { discoverProfiles } from "./openclaw-profiles.js";

export interface DiscoveryReport {
  configPath: string;
  /** federation.json was written (false: nothing changed, nothing was written). */
  written: boolean;
  found: number;
  added: string[];
  notes: string[];
  totalNodes: number;
}

/** `clawos init`: register local OpenClaw profiles as localhost nodes; warn about port overlaps. */
export async function registerLocalProfiles(
  home: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DiscoveryReport> {
  const loaded = await loadConfig(home);
  const before = JSON.stringify(loaded.config);
  const machine = thisMachine(loaded.config, env);
  if (!loaded.config.machine) loaded.config.machine = machine;
  const bb = loaded.config.blackboard;
  if (bb.driver === "directory" && !bb.coordinator) bb.coordinator = machine;
  const found = await discoverProfiles(env);
  const added: string[] = [];
  const notes: string[] = [];
  for (const p of found) {
    const label = p.profile ? `~/.openclaw-${p.profile}` : "~/.openclaw";
    if (p.problem) {
      notes.push(`${label}: skipped — ${p.problem}`);
      continue;
    }
    const same = loaded.config.nodes.find((n) => n.machine === machine && n.profile === p.profile);
    if (same && same.port !== null && same.port !== p.port) {
      // The profile moved to another port (init's own spacing warning suggests it): follow it.
      notes.push(
        `${label}: node ${same.id} moved from port ${same.port} to ${p.port} (its openclaw.json says so); a running worker of ${same.id} starts again on it by itself`,
      );
      same.port = p.port;
      continue;
    }
    if (same || loaded.config.nodes.some((n) => n.id === p.nodeId)) {
      notes.push(`${label}: already registered`);
      continue;
    }
    loaded.config.nodes.push(
      parseNode({
        id: p.nodeId,
        machine,
        port: p.port,
        profile: p.profile,
        token: p.hasToken ? { profile: true } : { none: true },
      }),
    );
    added.push(p.nodeId);
    notes.push(`${label}: registered as node ${p.nodeId} on port ${p.port}`);
    if (!p.chatCompletionsEnabled) {
      notes.push(
        `  note: chat completions are off there; turn them on: openclaw ${p.profile ? `--profile ${p.profile} ` : ""}config set gateway.http.endpoints.chatCompletions.enabled true`,
      );
    }
  }
  const ports = loaded.config.nodes
    .filter((n) => n.machine === machine && n.port !== null)
    .map((n) => ({ id: n.id, port: n.port! }));
  for (const a of ports) {
    for (const b of ports) {
      if (a.id < b.id && Math.abs(a.port - b.port) < 20) {
        notes.push(
          `warning: ${a.id} (${a.port}) and ${b.id} (${b.port}) are closer than 20 ports apart; OpenClaw also uses base+2 and base+11… for its browser`,
        );
      }
    }
  }
  if (found.length === 0)
    notes.push("No OpenClaw profile found in ~ (looked for ~/.openclaw and ~/.openclaw-*).");
  // Writing federation.json restarts every worker watching it: only a change is written, and a
  // discovery that found nothing does not create the file either.
  const changed = JSON.stringify(loaded.config) !== before && (loaded.exists || found.length > 0);
  if (changed) await saveConfig(loaded);
  return {
    configPath: loaded.path,
    written: changed,
    found: found.length,
    added,
    notes,
    totalNodes: loaded.config.nodes.length,
  };
}
