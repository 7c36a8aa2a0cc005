import { UserError } from "../domain/errors.js";
import { FederationCore } from "../federation/federation.js";
import { updateLocalSettings } from "../federation/registry.js";
import { displayPath } from "../infra/paths.js";
import { gatewayState, keptRunningNote, stopGateway } from "./gateway-lifecycle.js";
import { profileToPurge, purgeProfile } from "./profile-purge.js";

export interface RemoveNodeOptions {
  /** Stop its gateway too (a gateway on this machine). */
  stop: boolean;
  /** Also move its profile directory aside (implies stop). */
  purge: boolean;
}

/**
 * The control center's "remove node", decided already (it asked): stop the gateway, take the
 * node out of the registry, move the profile aside. Each line says what was done.
 */
export async function removeNodeWithGateway(
  home: string,
  env: NodeJS.ProcessEnv,
  id: string,
  options: RemoveNodeOptions,
): Promise<string[]> {
  const { node, nodes, machine } = await FederationCore.using(home, env, async (core) => ({
    node: core.nodes.find((n) => n.id === id),
    nodes: core.nodes,
    machine: core.machine,
  }));
  if (!node) throw new UserError(`There is no node "${id.slice(0, 60)}".`, { code: "usage" });
  const local = node.machine === machine && node.port !== null;
  if (options.purge && !local)
    throw new UserError(
      `Node ${id} is not on this machine; its profile can be purged only on ${node.machine}.`,
      {
        code: "usage",
      },
    );
  const purge = options.purge ? await profileToPurge(env, node, nodes) : undefined;
  // The tombstone first: it refuses a node this machine does not own, before anything stops.
  await FederationCore.using(home, env, (core) => core.registryWriter().remove(id));
  await updateLocalSettings(home, { drop: id });
  const lines: string[] = [];
  if (local) {
    const state = await gatewayState(home, env, node);
    if (state.running && (options.stop || options.purge))
      lines.push((await stopGateway(home, env, node, state)).line);
    else if (state.running) lines.push(`Note: ${keptRunningNote(node, state)}.`);
  }
  lines.push(`Removed node ${id}.`);
  if (purge) {
    await purgeProfile(purge);
    lines.push(`Moved ${displayPath(purge.path, env)} aside to ${displayPath(purge.aside, env)}.`);
  }
  return lines;
}
