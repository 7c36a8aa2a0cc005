import type { Blackboard } from "../blackboard/types.js";
import type { FederationConfig, NodeConfig } from "../domain/schema.js";
import { type LoadedConfig, loadConfig, saveConfig } from "../infra/config.js";
import { RegistryWriter, registryNodeOf } from "./registry.js";

/**
 * The upgrade of a version-1 federation.json, whose `nodes` array was the registry: each node is
 * published as a record owned by this machine (another machine's node, or a planned one, as a
 * record written on its behalf, which that machine takes over), the token sources and SSH key
 * paths stay in the file under `tokens` and `ssh`, and the file is rewritten as version 2.
 *
 * Publish first, rewrite second: two processes opening the same home at once publish the same
 * records and write the same file, and a crash in between only publishes again next time.
 * Returns the one line to say what moved, from the process that rewrote the file.
 */
export async function upgradeLegacyNodes(
  loaded: LoadedConfig,
  bb: Blackboard,
  machine: string,
): Promise<string | undefined> {
  const legacy = loaded.config.nodes;
  if (!legacy) return undefined;
  const writer = new RegistryWriter(bb, machine);
  const kept: string[] = [];
  if (legacy.length) {
    const { records, resolved } = await writer.read();
    for (const node of legacy) {
      const shared = registryNodeOf(node);
      const current = resolved.get(node.id);
      if (current?.kind === "active") {
        const { owner, node: held } = current.record;
        if (JSON.stringify(held) === JSON.stringify(shared)) continue; // published already
        const ours = records.some((r) => r.owner === machine && r.id === node.id);
        const handedHere = owner !== machine && held.machine === machine;
        if (!ours && !handedHere) {
          kept.push(`${node.id} (kept ${owner}'s registration)`);
          continue;
        }
      } else if (current?.kind === "conflict") {
        kept.push(`${node.id} (claimed by ${current.claimants.join(" and ")})`);
        continue;
      }
      await writer.hand(shared, { after: records });
    }
  }
  const upgraded = upgradedConfig(loaded.config);
  const fresh = await loadConfig(loaded.home);
  loaded.config = upgraded;
  // Rewritten only if the file still holds what was just published: an edit made meanwhile is upgraded next time.
  if (!fresh.exists || JSON.stringify(fresh.config.nodes) !== JSON.stringify(legacy)) return undefined;
  await saveConfig({ ...fresh, config: upgradedConfig(fresh.config) });
  if (!legacy.length) return undefined;
  const ids = legacy.map((n) => n.id);
  const moved = `${ids.length} node${ids.length === 1 ? "" : "s"} moved to the shared registry (${ids.join(", ")}); tokens stay in this file`;
  return `federation.json: ${moved}${kept.length ? `; not republished: ${kept.join(", ")}` : ""}`;
}

/** Version 2 of a config: no `nodes`; their token sources and SSH key paths under `tokens` and `ssh`. */
export function upgradedConfig(config: FederationConfig): FederationConfig {
  const { nodes = [], ...rest } = config;
  const tokens: FederationConfig["tokens"] = {};
  const ssh: FederationConfig["ssh"] = {};
  for (const node of nodes) {
    if (!("profile" in node.token)) tokens[node.id] = node.token;
    const keys = localSsh(node);
    if (keys) ssh[node.id] = keys;
  }
  // The listed nodes' settings win: a hand edit in the version-1 form is the newer word.
  return { ...rest, version: 2, tokens: { ...config.tokens, ...tokens }, ssh: { ...config.ssh, ...ssh } };
}

function localSsh(node: NodeConfig): FederationConfig["ssh"][string] | undefined {
  if (!node.ssh?.identityFile && !node.ssh?.knownHosts) return undefined;
  return {
    ...(node.ssh.identityFile ? { identityFile: node.ssh.identityFile } : {}),
    ...(node.ssh.knownHosts ? { knownHosts: node.ssh.knownHosts } : {}),
  };
}
