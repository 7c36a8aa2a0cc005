import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { DAY_MS } from "../../domain/durations.js";
import type { Priority } from "../../domain/schema.js";
import { isApiError } from "./js-errors.js";
import type { NatsNames } from "./names.js";

/**
 * What one federation keeps on a NATS server, made on first use by whichever handle comes
 * first: the work stream of doorbells, the KV buckets, and one durable pull consumer per
 * node and priority. Making them again is harmless (another handle may race us to it).
 */

/** A pulled message nobody acknowledged (its claimer died) comes back after this long. */
const DOORBELL_ACK_WAIT_MS = 30_000;

export type BucketName =
  | "tasks"
  | "results"
  | "progress"
  | "nodes"
  | "aside"
  | "archive"
  | "leases"
  | "registry";
export type Buckets = Record<BucketName, KV>;

export async function ensureWorkStream(jsm: JetStreamManager, names: NatsNames): Promise<void> {
  try {
    await jsm.streams.info(names.workStream);
    return;
  } catch (error) {
    if (!isApiError(error, 10059)) throw error; // anything but "stream not found"
  }
  try {
    await jsm.streams.add({
      name: names.workStream,
      subjects: [names.workSubjects],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: 120_000_000_000,
    });
  } catch (error) {
    // Another handle created it meanwhile.
    if (!isApiError(error, 10058)) throw error;
  }
}

/**
 * Open (creating if need be) every bucket. `io` retries each through disconnects. The archive
 * keeps a task `archiveKeepMs` (server-side expiry, which needs no event: 2.9 sends none).
 */
export async function openBuckets(
  js: JetStreamClient,
  names: NatsNames,
  archiveKeepMs: number | undefined,
  io: <T>(what: string, op: () => Promise<T>) => Promise<T>,
): Promise<Buckets> {
  const kvm = new Kvm(js);
  const bucket = (name: string) =>
    io(`open bucket ${name}`, () => kvm.create(name, { history: 1, storage: StorageType.File }));
  const [tasks, results, progress, nodes, aside, leases, registry, archive] = await Promise.all([
    bucket(names.tasks),
    bucket(names.results),
    bucket(names.progress),
    bucket(names.nodes),
    bucket(names.aside),
    bucket(names.leases),
    bucket(names.registry),
    io(`open bucket ${names.archive}`, () =>
      kvm.create(names.archive, {
        history: 1,
        storage: StorageType.File,
        ttl: archiveKeepMs ?? 90 * DAY_MS,
      }),
    ),
  ]);
  return {
    tasks: tasks!,
    results: results!,
    progress: progress!,
    nodes: nodes!,
    aside: aside!,
    archive: archive!,
    leases: leases!,
    registry: registry!,
  };
}

/** The durable pull consumer of one node's inbox lane (one priority). */
export async function addInboxConsumer(
  jsm: JetStreamManager,
  names: NatsNames,
  node: string,
  priority: Priority,
): Promise<void> {
  try {
    await jsm.consumers.add(names.workStream, {
      durable_name: names.durable(node, priority),
      filter_subject: names.laneFilter(node, priority),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: DOORBELL_ACK_WAIT_MS * 1_000_000,
      max_deliver: -1,
      max_ack_pending: 20_000,
    });
  } catch (error) {
    // 10148: it exists with another configuration (an older version made it): use it as it is.
    if (!isApiError(error, 10148)) throw error;
  }
}
