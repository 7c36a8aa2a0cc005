import { NodeDefinition } from "../domain/registry.js";
import { BlackboardError } from "./errors.js";
import { machineKey } from "./lease-watch.js";

/**
 * Registry policy both drivers share: one writer per record (its owner), and where a record
 * lies: `<owner key>/<id>` (a directory per owner, or a KV key `<owner key>.<id>`).
 */

/** The record, validated, if this machine may write it: only its owner does. */
export function ownRecord(record: NodeDefinition, machine: string): NodeDefinition {
  const valid = NodeDefinition.parse(record);
  if (valid.owner !== machine)
    throw new BlackboardError({ code: "not_owner", node: valid.id, owner: valid.owner, machine });
  return valid;
}

/** The owner's part of a record's place. Lossy for odd names, so readers check the record's owner maps to it. */
export function ownerKey(owner: string): string {
  return machineKey(owner);
}

/** Why a record does not belong where it lies (`key`/`id`), if it does not. */
export function misfiled(record: NodeDefinition, key: string, id: string): string | undefined {
  if (record.id !== id) return `holds node ${record.id}`;
  if (ownerKey(record.owner) !== key) return "names another owner than its place";
  return undefined;
}
