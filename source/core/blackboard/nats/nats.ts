import { hostname } from "node:os";
import { isValidTaskId } from "../../domain/ids.js";
import { NodeDefinition } from "../../domain/registry.js";
import { NodeStatusRecord, type RouteDecision } from "../../domain/schema.js";
import { ForwardsClaims } from "../forwards-claims.js";
import { ownerKey, ownRecord } from "../node-registry.js";
import type * as board from "../types.js";
import { requestCancel, retryTask } from "./cancel-retry.js";
import { Claims } from "./claims.js";
import { type NatsBlackboardOptions, NatsLink } from "./connection.js";
import { NatsCoordinator } from "./coordinator.js";
import { CoordinatorLease } from "./coordinator-lease.js";
import { importTask } from "./import-task.js";
import { DoorbellLanes } from "./lanes.js";
import type { NatsNames } from "./names.js";
import { getTask, listTasks, readNodeDefinitions, readNodeStatuses } from "./reads.js";
import { drainWithin, TaskRecords } from "./records.js";
import { watchStore } from "./watch.js";

export { type NatsBlackboardOptions, probeNats } from "./connection.js";
export { type NatsNames, natsNames } from "./names.js";
export { NatsTaskRecord } from "./record.js";

/**
 * The scale-out blackboard: NATS JetStream (ARCHITECTURE.md §4), behind the same interface and
 * contract suite as the directory driver.
 *
 *   KV <p>-tasks      <id> → the task record: request (its attempt is the current one),
 *                      state pending | claimed | finished, the node whose inbox or claim it
 *                      is in, the claim token, the cancel flag, and for a finished task its
 *                      outcome. The record is the single source of truth, and every state
 *                      change is one compare-and-set on its revision: whichever CAS wins
 *                      decides (a claim races other claims; a finishing worker races the
 *                      reaper; a zombie's CAS finds the revision moved on). JetStream acks are
 *                      not fenced and play no part in correctness.
 *                      A worker's result up to 64 KB is committed inside the record by the
 *                      one CAS that finishes the task (so there is no window between result
 *                      and commit at all); so is a verdict the blackboard reaches itself
 *                      (lease expired, dead, cancelled).
 *   KV <p>-results    <id>.<attempt> → a larger result, created with create() (first result
 *                      of an attempt kept), then committed by the record's CAS naming its
 *                      revision. An uncommitted result never counts.
 *   KV <p>-progress   <id> → the reply so far, written by the claim holder
 *   KV <p>-nodes      <node> → heartbeats. Liveness comes from the heartbeat's own timestamp,
 *                      never from KV TTLs (on server 2.9 an expiry sends no event).
 *   KV <p>-aside      malformed records set aside by a quarantining coordinator, with reasons
 *   KV <p>-registry   <owner key>.<node> → node definitions, each written by its owner machine only
 *   KV <p>-leases     "coordinator" → which handle holds the coordinator lease. The holder renews
 *                      it by CAS; others take it over by CAS once its revision has not moved for a
 *                      lease, by their own clock (as with task leases: no cross-machine clocks).
 *                      Two coordinators for a moment are harmless: every duty is a CAS.
 *   KV <p>-archive    <id> → finished task records the coordinator moved out of <p>-tasks
 *                      `archiveAfterMs` after they finished (default 7 days; a large result is
 *                      folded into the record), so that listings and the coordinator's scans
 *                      stay proportional to live work. get() still finds them, retry() brings
 *                      one back, and a duplicate enqueue of an archived id is still refused.
 *                      The bucket's max age (`archiveKeepMs`, default 90 days) drops them in the
 *                      end — server-side expiry, which needs no event (2.9 sends none).
 *   stream <p>-work   work queue, subjects <p>.tasks.<node>.<priority>.<id>: one "doorbell" per
 *                      pending task (published with msgID <id>@<revision>, so retries dedupe). A
 *                      durable pull consumer per node and priority hands each doorbell to one
 *                      claimer, so claimers do not pile onto the same task; the claim itself is
 *                      still the record's CAS. A claimer asks the P0 lane first, then P1, ...
 *                      While claims come fast, a handle fetches a few doorbells ahead (one pull
 *                      round trip for many claims) and gives back those it does not take soon.
 *                      Doorbells are hints: a stale one (the task moved on) is dropped by
 *                      whoever pulls it, a missing one is republished by recover().
 *
 * Leases are judged like the directory driver's: by when this coordinator saw the record's
 * revision change (every renewal is a CAS, so a renewal changes the revision), on its own
 * clock, so skewed clocks never expire a lease early. Every network operation is retried
 * through disconnects (the client reconnects by itself) for `retryForMs`, then surfaces as
 * an error; retries are idempotent (write ids, msgIDs, create-once keys).
 *
 * This class only wires the modules of this folder together:
 *   connection.ts       the connection, the clock and `io` (retries through disconnects)
 *   layout.ts, names.ts the stream, buckets and consumers, and their names
 *   record.ts           the task record, its validation, and the pure successor of a record
 *   records.ts          reads and fenced writes of records (CAS, create-once), doorbells rung
 *   lanes.ts            pulling doorbells, per node and priority
 *   claims.ts           enqueue, claim, renew, progress, complete, requeue
 *   reads.ts            get, list, node statuses
 *   cancel-retry.ts     cancel and retry
 *   coordinator.ts      reap, recover, reroute (with archive.ts and set-aside.ts)
 *   coordinator-lease.ts, import-task.ts, watch.ts
 *   nats-wire.ts, nats-untrusted.ts, js-errors.ts, collections.ts: helpers
 */
export class NatsBlackboard extends ForwardsClaims implements board.Blackboard {
  readonly location: string;
  readonly names: NatsNames;
  private readonly link: NatsLink;
  private readonly store: TaskRecords;
  private readonly lanes: DoorbellLanes;
  protected readonly claims: Claims;
  private readonly coordinatorDuties: NatsCoordinator;
  private readonly lease: CoordinatorLease;

  constructor(options: NatsBlackboardOptions) {
    super();
    this.link = new NatsLink(options);
    this.location = this.link.location;
    this.names = this.link.names;
    this.store = new TaskRecords(this.link);
    this.lanes = new DoorbellLanes(this.link);
    this.claims = new Claims(this.store, this.lanes);
    this.coordinatorDuties = new NatsCoordinator(this.store, this.lanes);
    this.lease = new CoordinatorLease(this.link);
  }

  init(): Promise<void> {
    return this.link.init();
  }

  // enqueue, claim and the claim holder's calls: forwarded to claims.ts by ForwardsClaims.

  // ── reading (reads.ts) ──────────────────────────────────────────────────────

  get(id: string): Promise<board.StoredTask | undefined> {
    return getTask(this.store, id);
  }
  list(options: board.ListOptions = {}): Promise<board.TaskListing> {
    return listTasks(this.store, options);
  }
  /** The archive bucket's keys (its values are not read). */
  async archivedIds(): Promise<string[]> {
    const { link } = this.store;
    const ids: string[] = [];
    await link.io("list the archive", async () => {
      ids.length = 0;
      await drainWithin(await link.kv.archive.keys(), 30_000, (key) => {
        if (isValidTaskId(key)) ids.push(key);
      });
    });
    return ids;
  }
  /** Active tasks per node: this driver has no cheaper count than a listing of the active ones. */
  async activeCounts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const listing = await this.list({ finishedLimit: 0, activeOnly: true });
    for (const t of listing.tasks) counts.set(t.node, (counts.get(t.node) ?? 0) + 1);
    return counts;
  }

  // ── cancel and retry (cancel-retry.ts) ──────────────────────────────────────

  async isCancelRequested(id: string): Promise<boolean> {
    if (!isValidTaskId(id)) return false;
    const read = await this.store.readTask(id);
    return read.kind === "ok" && read.record.cancelRequested;
  }
  requestCancel(id: string): Promise<board.StoredTask> {
    return requestCancel(this.store, id);
  }
  retry(id: string, reroute?: RouteDecision): Promise<board.StoredTask> {
    return retryTask(this.store, id, reroute);
  }

  // ── node status ─────────────────────────────────────────────────────────────

  async writeNodeStatus(record: NodeStatusRecord): Promise<void> {
    const valid = NodeStatusRecord.parse(record);
    await this.link.io("write a node status", () =>
      this.link.kv.nodes.put(valid.node, JSON.stringify(valid)),
    );
  }
  readNodeStatuses(): Promise<{ records: NodeStatusRecord[]; problems: string[] }> {
    return readNodeStatuses(this.store);
  }

  // ── the node registry ───────────────────────────────────────────────────────

  async writeNodeDefinition(record: NodeDefinition): Promise<void> {
    const valid = ownRecord(record, this.link.options.machine ?? hostname());
    await this.link.io("write a node definition", () =>
      this.link.kv.registry.put(`${ownerKey(valid.owner)}.${valid.id}`, JSON.stringify(valid)),
    );
  }
  /** A registry record copied from another blackboard (driver migration), kept as its owner wrote it. */
  async importNodeDefinition(record: NodeDefinition): Promise<void> {
    const valid = NodeDefinition.parse(record);
    await this.link.io("copy a node definition", () =>
      this.link.kv.registry.put(`${ownerKey(valid.owner)}.${valid.id}`, JSON.stringify(valid)),
    );
  }
  readNodeDefinitions(): Promise<{ records: NodeDefinition[]; problems: string[] }> {
    return readNodeDefinitions(this.store);
  }

  // ── coordinator (coordinator.ts, coordinator-lease.ts) ──────────────────────

  coordinator(): board.CoordinatorDuties {
    return this.coordinatorDuties.duties();
  }
  coordinatorLease(holder: string, leaseMs: number): Promise<boolean> {
    return this.lease.take(holder, leaseMs);
  }
  releaseCoordinatorLease(): Promise<void> {
    return this.lease.release();
  }

  // ── migration (import-task.ts) and wake-ups (watch.ts) ──────────────────────

  importTask(task: board.StoredTask, from: string): Promise<"created" | "exists"> {
    return importTask(this.store, task, from);
  }
  watch(scope: board.WatchScope, onChange: () => void): () => void {
    return watchStore(this.link, scope, onChange);
  }

  async close(): Promise<void> {
    this.link.closed = true;
    this.claims.clear();
    this.lanes.close();
    await this.link.close();
  }
}
