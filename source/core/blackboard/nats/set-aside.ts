import { randomBytes } from "node:crypto";
import type { KvEntry } from "@nats-io/kv";
import { Empty, headers } from "@nats-io/transport-node";
import { isValidTaskId } from "../../domain/ids.js";
import { NodeStatusRecord } from "../../domain/schema.js";
import { truncateName } from "../names.js";
import { isWrongLastSequence } from "./js-errors.js";
import { parseJsonRecord } from "./nats-untrusted.js";
import { parseRecord } from "./record.js";
import type { TaskRecords } from "./records.js";

/**
 * Set malformed records aside (with a reason) if this handle may. A KV value is written
 * whole, so no reader ever sees half of one: a record that does not parse is broken
 * whatever its age, and there is no young/half-written grace as on a synced folder.
 */
export async function quarantineMalformed(store: TaskRecords): Promise<string[]> {
  const { link } = store;
  if (!link.options.quarantine) return [];
  const moved: string[] = [];
  for (const entry of await store.scan(link.kv.tasks)) {
    if (entry.operation !== "PUT") continue;
    const reason = isValidTaskId(entry.key)
      ? (() => {
          const read = parseRecord(entry.key, entry);
          return read.kind === "malformed" ? read.reason : undefined;
        })()
      : "not a task record (its key is not a task id)";
    if (reason && (await setAside(store, link.names.tasks, entry, reason)))
      moved.push(`${link.names.tasks}/${truncateName(entry.key)}: ${reason}`);
  }
  for (const entry of await store.scan(link.kv.nodes)) {
    if (entry.operation !== "PUT") continue;
    const parsed = parseJsonRecord(entry.value, NodeStatusRecord);
    if (!parsed.ok && (await setAside(store, link.names.nodes, entry, parsed.reason)))
      moved.push(`${link.names.nodes}/${truncateName(entry.key)}: ${parsed.reason}`);
  }
  return moved;
}

/** Copy a record into the aside bucket with its reason, then delete it — only if it is still that revision. */
async function setAside(
  store: TaskRecords,
  bucket: string,
  entry: KvEntry,
  reason: string,
): Promise<boolean> {
  const { link } = store;
  const stamp = new Date(link.now()).toISOString().replace(/[:.]/g, "-");
  const name = `${stamp}_${randomBytes(3).toString("hex")}_${truncateName(entry.key).replace(/[^\w-]/g, "_")}`;
  await link.io("set a record aside", () => link.kv.aside.put(`${name}.value`, entry.value));
  await link.io("set a record aside", () =>
    link.kv.aside.put(`${name}.reason`, `${bucket}/${truncateName(entry.key)}\n${reason}\n`),
  );
  try {
    // A raw delete marker: the key may be one the KV client refuses to name.
    const h = headers();
    h.set("KV-Operation", "DEL");
    await link.io("delete a malformed record", () =>
      link.js.publish(`${link.kvWritePrefix}$KV.${bucket}.${entry.key}`, Empty, {
        headers: h,
        expect: { lastSubjectSequence: entry.revision },
      }),
    );
    return true;
  } catch (error) {
    if (!isWrongLastSequence(error)) throw error;
    // Rewritten meanwhile (maybe fixed): leave it, and take our copy back.
    await link.kv.aside.purge(`${name}.value`).catch(() => {});
    await link.kv.aside.purge(`${name}.reason`).catch(() => {});
    return false;
  }
}
