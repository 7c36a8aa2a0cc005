import { z } from "zod";
import { checkNodeDefinition } from "./fast-checks.js";
import { lazySchema } from "./lazy-schema.js";
import { NodeConfig, NodeId, SshSettings } from "./schema.js";

/**
 * The shared node registry: each node's definition is a record owned by one machine, the only
 * one that writes it (so two machines never write the same path of a synced folder). Tokens
 * and the local SSH key settings never go on the blackboard: they stay in federation.json.
 */

export const MAX_MACHINE_NAME = 100;

/** A node as the registry holds it: no token source, no local SSH key paths; every field capped. */
export const RegistryNode = lazySchema(() =>
  NodeConfig.omit({ token: true })
    .extend({
      host: z.string().min(1).max(255).default("127.0.0.1"),
      machine: z.string().min(1).max(MAX_MACHINE_NAME),
      profile: z.string().max(100).nullable().default(null),
      agent: z.string().min(1).max(100).default("main"),
      tags: z.array(z.string().min(1).max(60)).max(50).default([]),
      ssh: SshSettings.omit({ identityFile: true, knownHosts: true }).optional(),
    })
    .strict(),
);
export type RegistryNode = z.infer<typeof RegistryNode>;

/** A node that takes no new tasks (`clawos nodes cordon`), or also hands its waiting `any` tasks on (`drain`). */
export const Cordon = lazySchema(() =>
  z
    .object({
      state: z.enum(["cordoned", "draining"]),
      at: z.string().max(40),
      /** Who asked, as the audit log names a local user. */
      by: z.string().max(100),
    })
    .strict(),
);
export type Cordon = z.infer<typeof Cordon>;

export const NodeDefinition = lazySchema(
  () =>
    z
      .object({
        schema: z.literal("clawos.node/1"),
        id: NodeId,
        /** The machine that wrote this record, and the only one that may. */
        owner: z.string().min(1).max(MAX_MACHINE_NAME),
        generation: z.number().int().min(1).max(1_000_000_000),
        updatedAt: z.string().max(40),
        state: z.enum(["active", "removed"]),
        /** The definition; absent on a tombstone. */
        node: RegistryNode.optional(),
        /** Absent: the node takes tasks. Older versions write no such field. */
        cordon: Cordon.optional(),
      })
      .strict()
      .refine((r) => r.state === "removed" || r.node !== undefined, {
        message: "an active record needs its node",
        path: ["node"],
      })
      .refine((r) => r.node === undefined || r.node.id === r.id, {
        message: "must be the record's id",
        path: ["node", "id"],
      }),
  checkNodeDefinition,
);
export type NodeDefinition = z.infer<typeof NodeDefinition>;

/** What the registry says about one node id. */
export type Resolved =
  | { kind: "active"; id: string; record: NodeDefinition & { node: RegistryNode }; generation: number }
  | { kind: "removed"; id: string; generation: number; by: string }
  | {
      kind: "conflict";
      id: string;
      generation: number;
      /** The machines the top records name, sorted. */
      claimants: string[];
      records: NodeDefinition[];
    };

export interface Registry {
  byId: Map<string, Resolved>;
  problems: string[];
}

/** A record that speaks for another machine: registered on its behalf, or handed to it by a migration. */
export function isHanded(record: NodeDefinition): boolean {
  return record.state === "active" && record.node !== undefined && record.node.machine !== record.owner;
}

/**
 * Resolve every id from all owners' records. The highest generation decides: one machine named
 * by its active records → that definition (its own record preferred over one written on its
 * behalf); only tombstones → removed; two machines named → a conflict, never merged silently.
 * A tombstone at the same generation as an active record loses to it: a take-over raced a
 * removal, and dropping the node would lose more than keeping it.
 */
export function resolveRegistry(records: readonly NodeDefinition[]): Map<string, Resolved> {
  const groups = new Map<string, NodeDefinition[]>();
  for (const r of records) {
    const list = groups.get(r.id);
    if (list) list.push(r);
    else groups.set(r.id, [r]);
  }
  const out = new Map<string, Resolved>();
  for (const [id, list] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    out.set(id, resolveOne(id, list));
  }
  return out;
}

function resolveOne(id: string, list: NodeDefinition[]): Resolved {
  const generation = Math.max(...list.map((r) => r.generation));
  const top = list.filter((r) => r.generation === generation);
  const active = top.filter(
    (r): r is NodeDefinition & { node: RegistryNode } => r.state === "active" && !!r.node,
  );
  if (active.length === 0) {
    const by = [...new Set(top.map((r) => r.owner))].sort().join(", ");
    return { kind: "removed", id, generation, by };
  }
  const machines = [...new Set(active.map((r) => r.node.machine))].sort();
  if (machines.length > 1) return { kind: "conflict", id, generation, claimants: machines, records: active };
  const machine = machines[0]!;
  // The machine's own word first; else a deterministic pick among records written on its behalf.
  const record =
    active.find((r) => r.owner === machine) ??
    [...active].sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0))[0]!;
  return { kind: "active", id, record, generation };
}

/** The highest generation any record of `id` has (0 if none): a new record must go above it. */
export function topGeneration(records: readonly NodeDefinition[], id: string): number {
  let top = 0;
  for (const r of records) if (r.id === id && r.generation > top) top = r.generation;
  return top;
}

/** A machine or profile name as a node id: `Mac Mini.local` → `mac-mini-local` (never `any`, never empty). */
export function nodeIdFor(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return !slug || slug === "any" ? `node-${slug || "1"}`.replace(/-$/, "") : slug;
}
