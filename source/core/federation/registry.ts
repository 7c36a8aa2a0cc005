import type { Blackboard } from "../blackboard/types.js";
import { UserError } from "../domain/errors.js";
import {
  type Cordon,
  isHanded,
  type NodeDefinition,
  nodeIdFor,
  RegistryNode,
  type Resolved,
  resolveRegistry,
  topGeneration,
} from "../domain/registry.js";
import type { FederationConfig, NodeConfig, TokenSource } from "../domain/schema.js";
import { loadConfig, saveConfig } from "../infra/config.js";
import { sanitizeLine } from "../infra/sanitize.js";

/**
 * The one module that reads and writes the shared node registry for this machine. Every write
 * path (nodes add/remove/rename, init and join, incubate, migration, the worker's take-over)
 * comes through here, so the rules live in one place: a machine writes only its own records, a
 * new record goes above every generation of its id, and a node another machine holds is
 * refused with the fix, never overwritten.
 */

export interface RegistryConflict {
  id: string;
  /** The machines that claim it, sorted. */
  claimants: string[];
  /** One of the claims, to show the node in tables (never routed). */
  node: NodeConfig;
  reason: string;
  /** One line: what to run, and where. */
  fix: string;
}

export interface RegistryView {
  records: NodeDefinition[];
  resolved: Map<string, Resolved>;
  /** Active nodes, with this machine's token sources and SSH key settings. */
  nodes: NodeConfig[];
  conflicts: RegistryConflict[];
  problems: string[];
  /** Nodes that take no new tasks, by id (§ cordon and drain). */
  cordons: Map<string, Cordon>;
}

/** A node as the registry holds it: without its token source and local SSH key paths. */
export function registryNodeOf(node: NodeConfig | RegistryNode): RegistryNode {
  const { token: _token, ssh, ...rest } = node as NodeConfig;
  const shared = ssh ? (({ identityFile: _i, knownHosts: _k, ...s }) => s)(ssh) : undefined;
  return RegistryNode.parse({ ...rest, ...(shared ? { ssh: shared } : {}) });
}

/** A registry node with what this machine keeps for it: the token source and the SSH key paths. */
export function withLocalSettings(node: RegistryNode, config: FederationConfig): NodeConfig {
  const local = config.ssh[node.id];
  return {
    ...node,
    token: config.tokens[node.id] ?? { profile: true },
    ...(node.ssh ? { ssh: { ...node.ssh, ...local } } : {}),
  };
}

export function viewOf(
  records: NodeDefinition[],
  problems: string[],
  config: FederationConfig,
  machine: string,
): RegistryView {
  const resolved = resolveRegistry(records);
  const nodes: NodeConfig[] = [];
  const conflicts: RegistryConflict[] = [];
  const cordons = new Map<string, Cordon>();
  for (const r of resolved.values()) {
    if (r.kind === "active" && r.record.cordon) cordons.set(r.id, r.record.cordon);
    if (r.kind === "active") nodes.push(withLocalSettings(r.record.node, config));
    else if (r.kind === "conflict") {
      const shown = r.records.find((c) => c.node?.machine === machine) ?? r.records[0]!;
      conflicts.push({
        id: r.id,
        claimants: r.claimants,
        node: withLocalSettings(shown.node!, config),
        reason: `claimed by ${r.claimants.join(" and ")}`,
        fix: conflictFix(r, machine, resolved),
      });
    }
  }
  return { records, resolved, nodes, conflicts, problems, cordons };
}

/**
 * Which machine should rename its node, and to what: this one if it claims it, else the last
 * named; a default profile's node after its machine (as discovery names it now), else the id
 * with the machine's name after it, never an id already taken.
 */
function conflictFix(
  r: Extract<Resolved, { kind: "conflict" }>,
  machine: string,
  taken: Map<string, Resolved>,
): string {
  const who = r.claimants.includes(machine) ? machine : r.claimants[r.claimants.length - 1]!;
  const claim = r.records.find((c) => c.node?.machine === who)?.node;
  const slug = nodeIdFor(who);
  const candidates = [
    ...(claim?.profile === null ? [slug] : []),
    `${r.id}-${slug}`.slice(0, 40).replace(/-+$/, ""),
  ];
  const to = candidates.find((c) => c !== r.id && !taken.has(c)) ?? `${slug.slice(0, 36)}-2`;
  return `on ${who}: clawos nodes rename ${r.id} ${to}`;
}

/** What a worker on `machine` depends on: its nodes' definitions and its conflicted ids. Changes → restart. */
export function ownNodesKey(view: RegistryView, machine: string): string {
  return JSON.stringify([
    view.nodes.filter((n) => n.machine === machine),
    view.conflicts.filter((c) => c.claimants.includes(machine)).map((c) => c.id),
  ]);
}

export async function readRegistry(
  bb: Blackboard,
  config: FederationConfig,
  machine: string,
): Promise<RegistryView> {
  const { records, problems } = await bb.readNodeDefinitions();
  return viewOf(records, problems, config, machine);
}

/** The refusal for a node id that another machine holds. */
export function heldElsewhere(id: string, resolved: Resolved | undefined): UserError | undefined {
  if (resolved?.kind === "conflict")
    return new UserError(`Node ${id} is claimed by ${resolved.claimants.join(" and ")}.`, {
      hint: "settle that first (clawos status shows the fix), or pick another id",
      code: "usage",
    });
  if (resolved?.kind !== "active") return undefined;
  const { owner, node } = resolved.record;
  return new UserError(
    `Node ${id} is already registered by ${sanitizeLine(owner)} (on ${sanitizeLine(node.machine)}).`,
    {
      hint: `pick another id here, or remove it there first (on ${sanitizeLine(owner)}: clawos nodes remove ${id})`,
      code: "usage",
    },
  );
}

export interface Registered {
  id: string;
  generation: number;
  /** Set when the node was handed to this machine by another: the machine that registered it. */
  tookOverFrom?: string;
}

/** Writes this machine's registry records (see the module comment). */
export class RegistryWriter {
  constructor(
    private readonly bb: Blackboard,
    readonly machine: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async read(): Promise<{ records: NodeDefinition[]; resolved: Map<string, Resolved> }> {
    const { records } = await this.bb.readNodeDefinitions();
    return { records, resolved: resolveRegistry(records) };
  }

  private write(id: string, generation: number, node?: RegistryNode, cordon?: Cordon): Promise<void> {
    return this.bb.writeNodeDefinition({
      schema: "clawos.node/1",
      id,
      owner: this.machine,
      generation,
      updatedAt: this.now().toISOString(),
      state: node ? "active" : "removed",
      ...(node ? { node: registryNodeOf(node) } : {}),
      ...(node && cordon ? { cordon } : {}),
    });
  }

  /**
   * Register (or, with `replace`, update) a node. Refused when another machine holds the id and
   * has not handed it to this one; a node handed to this machine is taken over.
   */
  async register(node: NodeConfig | RegistryNode, options: { replace?: boolean } = {}): Promise<Registered> {
    const { records, resolved } = await this.read();
    const current = resolved.get(node.id);
    const generation = topGeneration(records, node.id) + 1;
    if (current?.kind === "active") {
      const { owner, node: held } = current.record;
      const mine = owner === this.machine && held.machine === this.machine;
      const handedHere = held.machine === this.machine && owner !== this.machine;
      const ownedHere = owner === this.machine;
      if (handedHere) {
        await this.write(node.id, generation, node);
        return { id: node.id, generation, tookOverFrom: owner };
      }
      if ((mine || ownedHere) && options.replace) {
        await this.write(node.id, generation, node, current.record.cordon);
        return { id: node.id, generation };
      }
      if (mine || ownedHere)
        throw new UserError(`Node ${node.id} is already registered.`, {
          hint: `remove it first: clawos nodes remove ${node.id}`,
          code: "usage",
        });
      throw heldElsewhere(node.id, current)!;
    }
    if (current?.kind === "conflict") throw heldElsewhere(node.id, current)!;
    await this.write(node.id, generation, node);
    return { id: node.id, generation };
  }

  /** Nodes other machines registered on this machine's behalf or handed to it: made this machine's own. */
  async takeOverHanded(): Promise<Registered[]> {
    const { records, resolved } = await this.read();
    const taken: Registered[] = [];
    for (const r of resolved.values()) {
      if (r.kind !== "active" || !isHanded(r.record) || r.record.node.machine !== this.machine) continue;
      const generation = topGeneration(records, r.id) + 1;
      await this.write(r.id, generation, r.record.node, r.record.cordon);
      taken.push({ id: r.id, generation, tookOverFrom: r.record.owner });
    }
    return taken;
  }

  /**
   * Tombstone a node. Its owner, or the machine it was handed to, may; anyone else is told where
   * to run it. A claimant of a conflicted id withdraws its claim at the same generation, which
   * leaves the other claim standing.
   */
  async remove(id: string): Promise<{ generation: number }> {
    const { records, resolved } = await this.read();
    const current = resolved.get(id);
    if (current?.kind === "conflict") {
      if (!current.claimants.includes(this.machine))
        throw new UserError(
          `Node ${id} is claimed by ${current.claimants.join(" and ")}, not by ${this.machine}.`,
          {
            hint: `run it on one of them: clawos nodes remove ${id}`,
            code: "usage",
          },
        );
      await this.write(id, current.generation);
      return { generation: current.generation };
    }
    if (current?.kind !== "active")
      throw new UserError(`There is no node "${sanitizeLine(id).slice(0, 60)}".`, {
        hint: "clawos nodes list shows them",
        code: "usage",
      });
    const { owner, node } = current.record;
    if (owner !== this.machine && node.machine !== this.machine)
      throw new UserError(`Node ${id} belongs to ${sanitizeLine(owner)}: run this there.`, {
        hint: `on ${sanitizeLine(owner)}: clawos nodes remove ${id}`,
        code: "usage",
      });
    const generation = topGeneration(records, id) + 1;
    await this.write(id, generation);
    return { generation };
  }

  /**
   * Cordon, drain or uncordon (`undefined`) a node: its record again, one generation up, with
   * the new state. Only the machine that owns the record writes it; anyone else is told where.
   */
  async setCordon(id: string, cordon: Cordon | undefined): Promise<{ generation: number }> {
    const { records, resolved } = await this.read();
    const current = resolved.get(id);
    if (current?.kind !== "active")
      throw new UserError(`There is no node "${sanitizeLine(id).slice(0, 60)}".`, {
        hint: "clawos nodes list shows them",
        code: "usage",
      });
    const { owner, node } = current.record;
    if (owner !== this.machine && node.machine !== this.machine) {
      const verb = cordon ? (cordon.state === "draining" ? "drain" : "cordon") : "uncordon";
      throw new UserError(
        `Node ${id}'s record belongs to ${sanitizeLine(owner)}: only that machine writes it.`,
        {
          hint: `on ${sanitizeLine(owner)}: clawos nodes ${verb} ${id}`,
          code: "usage",
        },
      );
    }
    const generation = topGeneration(records, id) + 1;
    await this.write(id, generation, node, cordon);
    return { generation };
  }

  /**
   * Give this machine's node a new id: the new record first, then the old id's tombstone (for a
   * conflicted id, this machine's claim withdrawn, so the other machine's claim stands alone).
   */
  async rename(from: string, to: string): Promise<{ node: RegistryNode }> {
    const { resolved } = await this.read();
    const current = resolved.get(from);
    const claim =
      current?.kind === "conflict"
        ? current.records.find((r) => r.node?.machine === this.machine)?.node
        : current?.kind === "active" &&
            (current.record.owner === this.machine || current.record.node.machine === this.machine)
          ? current.record.node
          : undefined;
    if (!claim) {
      if (current?.kind === "active" || current?.kind === "conflict")
        throw new UserError(`Node ${from} is not this machine's (${this.machine}) to rename.`, {
          hint:
            current.kind === "active"
              ? `on ${sanitizeLine(current.record.owner)}: clawos nodes rename ${from} ${to}`
              : `run it on one of ${current.claimants.join(", ")}`,
          code: "usage",
        });
      throw new UserError(`There is no node "${sanitizeLine(from).slice(0, 60)}".`, {
        hint: "clawos nodes list shows them",
        code: "usage",
      });
    }
    const node = RegistryNode.parse({ ...claim, id: to });
    await this.register(node);
    await this.remove(from);
    return { node };
  }

  /**
   * Hand a node to another machine (a migration): this machine's record at the next generation,
   * naming `machine`; that machine takes it over when its worker or join runs.
   */
  async hand(
    node: NodeConfig | RegistryNode,
    options: { after?: NodeDefinition[] } = {},
  ): Promise<Registered> {
    // `after`: the records the caller decided on; two processes deciding on the same ones write the same record.
    const records = options.after ?? (await this.read()).records;
    const generation = topGeneration(records, node.id) + 1;
    await this.write(node.id, generation, node);
    return { id: node.id, generation };
  }
}

/**
 * This machine's own settings for a node in federation.json (its token source, its SSH key
 * paths): set, moved to another id (a rename), or dropped. The registry never holds them.
 */
export async function updateLocalSettings(
  home: string,
  change:
    | { id: string; token?: TokenSource; ssh?: FederationConfig["ssh"][string] }
    | { from: string; to: string }
    | { drop: string },
): Promise<void> {
  const loaded = await loadConfig(home);
  const { tokens, ssh } = loaded.config;
  if ("drop" in change) {
    if (!(change.drop in tokens) && !(change.drop in ssh)) return;
    delete tokens[change.drop];
    delete ssh[change.drop];
  } else if ("from" in change) {
    if (!(change.from in tokens) && !(change.from in ssh)) return;
    if (tokens[change.from]) tokens[change.to] = tokens[change.from]!;
    if (ssh[change.from]) ssh[change.to] = ssh[change.from]!;
    delete tokens[change.from];
    delete ssh[change.from];
  } else {
    if (change.token) tokens[change.id] = change.token;
    if (change.ssh) ssh[change.id] = change.ssh;
    if (!change.token && !change.ssh) return;
  }
  await saveConfig(loaded);
}
