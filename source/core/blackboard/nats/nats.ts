import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { Bucket, type KV, type KvEntry, Kvm } from "@nats-io/kv";
import {
  connect,
  createInbox,
  Empty,
  headers,
  type Msg,
  type NatsConnection,
  NoRespondersError,
  type Subscription,
  TimeoutError,
} from "@nats-io/transport-node";
import { z } from "zod";
import { DAY_MS, formatAge, HOUR_MS } from "../../domain/durations.js";
import { UserError } from "../../domain/errors.js";
import { isValidNodeId, isValidTaskId } from "../../domain/ids.js";
import {
  MAX_RECORD_BYTES,
  NodeId,
  NodeStatusRecord,
  PRIORITIES,
  type Priority,
  type RouteDecision,
  type TaskEvent,
  TaskProgress,
  TaskRequest,
  TaskResult,
  type TaskState,
} from "../../domain/schema.js";
import { heartbeatNotAfter, notAfter } from "../foreign-time.js";
import type {
  Blackboard,
  Claim,
  CoordinatorDuties,
  ExpiredLease,
  ListOptions,
  RequeueOptions,
  RequeueOutcome,
  StoredTask,
  TaskListing,
  WatchScope,
} from "../types.js";
import { parseJsonRecord, truncateName } from "./nats-untrusted.js";
import { JsWire, type StoredEntry } from "./nats-wire.js";

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
 */

const RECORD_SCHEMA = "clawos.nats-task/1";
/** A leftover younger than this (by its server timestamp) may belong to an operation still in flight. */
const IN_FLIGHT_GRACE_MS = 5_000;
/** Doorbells carry the record itself up to this size, saving the claimer a read. */
const DOORBELL_INLINE_MAX = 16 * 1024;
/** Results up to this size (JSON bytes) are committed inside the task record. */
const INLINE_RESULT_MAX = 64 * 1024;
/** A pulled message nobody acknowledged (its claimer died) comes back after this long. */
const DOORBELL_ACK_WAIT_MS = 30_000;
const WRONG_LAST_SEQUENCE = 10071;
const CONCURRENCY = 32;

const Outcome = z.object({
  status: z.enum(["completed", "failed", "cancelled"]),
  /** The revision of results/<id>.<attempt> that counts (a worker's completion). */
  resultRevision: z.number().int().min(1).optional(),
  /** The verdict itself, when the blackboard reached it (reaper, cancel, give-up). */
  verdict: TaskResult.optional(),
  /** A worker's result small enough to be committed inside the record itself. */
  result: TaskResult.optional(),
});

/** One task on NATS. Exported for the migration and the test fixture, which write records as this driver does. */
export const NatsTaskRecord = z.object({
  schema: z.literal(RECORD_SCHEMA),
  node: NodeId,
  state: z.enum(["pending", "claimed", "finished"]),
  request: TaskRequest,
  cancelRequested: z.boolean().default(false),
  /** What wrote this revision: enqueue, claim, renew, complete, requeue, lease-expired, reroute, retry, cancel, migrate. */
  via: z.string().max(40),
  claim: z
    .object({ token: z.string().regex(/^[0-9a-f]{8,32}$/), renewals: z.number().int().min(0) })
    .optional(),
  outcome: Outcome.optional(),
  /** Write id: tells a retried write whether its first try landed after all. */
  w: z.string().max(40),
  /** When it was written, by the writer's clock (for people; leases never use it). */
  at: z.string(),
});
export type NatsTaskRecord = z.infer<typeof NatsTaskRecord>;

const Doorbell = z.object({ id: z.string(), rev: z.number().int().min(1).optional(), record: z.unknown() });

export interface NatsBlackboardOptions {
  /** nats://host:port URLs of the servers (one federation: one JetStream). */
  servers: string[];
  /** Names of the streams, buckets and subjects start with this (default "clawos"). */
  prefix?: string;
  /** JetStream domain of the hub, when this machine's server is a leaf node of it. */
  domain?: string;
  clock?: () => number;
  /** This machine's name in the federation (default: the host name): keys its coordinator's notes. */
  machine?: string;
  /** Let this handle set malformed records aside (the coordinator's quarantineMalformed). */
  quarantine?: boolean;
  /** How long one operation keeps retrying through a disconnect before it fails (default 30 s). */
  retryForMs?: number;
  /** Connection name shown by the server's monitoring. */
  name?: string;
  /** The coordinator archives a finished task this long after it finished (default 7 days). */
  archiveAfterMs?: number;
  /** How long the archive keeps a task (default 90 days; applies when the archive bucket is made). */
  archiveKeepMs?: number;
}

/** At most this many tasks are archived per coordinator round (the rest wait for the next). */
const ARCHIVE_BATCH = 500;

/** Can these servers be reached, with JetStream on? (Connects and leaves; writes nothing.) */
export async function probeNats(
  servers: string[],
  domain?: string,
): Promise<{ ok: true; version: string } | { ok: false; error: string }> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers, timeout: 3_000, maxReconnectAttempts: 0, name: "clawos probe" });
    await jetstreamManager(nc, { timeout: 3_000, ...(domain ? { domain } : {}) });
    return { ok: true, version: nc.info?.version ?? "unknown" };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  } finally {
    await nc?.close().catch(() => {});
  }
}

/** The names one federation uses on a NATS server. */
export function natsNames(prefix = "clawos") {
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(prefix))
    throw new UserError(`"${prefix.slice(0, 40)}" cannot name a NATS blackboard.`, {
      hint: "use lowercase letters, digits and '-'",
      code: "usage",
    });
  return {
    prefix,
    workStream: `${prefix}-work`,
    workSubjects: `${prefix}.tasks.>`,
    /** One inbox per node and priority, so that a claimer can take the most urgent first. */
    doorbell: (node: string, id: string, priority: Priority) => `${prefix}.tasks.${node}.${priority}.${id}`,
    /** Every doorbell of a node, all priorities. */
    inboxFilter: (node: string) => `${prefix}.tasks.${node}.>`,
    laneFilter: (node: string, priority: Priority) => `${prefix}.tasks.${node}.${priority}.*`,
    durable: (node: string, priority: Priority) => `inbox-${node}-${priority}`,
    tasks: `${prefix}-tasks`,
    results: `${prefix}-results`,
    progress: `${prefix}-progress`,
    nodes: `${prefix}-nodes`,
    aside: `${prefix}-aside`,
    archive: `${prefix}-archive`,
    leases: `${prefix}-leases`,
    resultKey: (id: string, attempt: number) => `${id}.${attempt}`,
  };
}
export type NatsNames = ReturnType<typeof natsNames>;

type Read =
  | { kind: "ok"; record: NatsTaskRecord; rev: number; created: number }
  | { kind: "missing" }
  | { kind: "malformed"; reason: string; rev: number };

interface Held {
  rev: number;
  record: NatsTaskRecord;
  /** This handle wrote progress for the claim (so finishing must clear it). */
  progressed?: boolean;
}

/**
 * The doorbells of one node and priority as this handle pulls them: one reply subscription
 * for all its pulls, at most one pull in flight, claimers waiting for a doorbell, and (while
 * claims come fast) a few doorbells fetched ahead so that a claim does not wait for a pull.
 */
interface Lane {
  node: string;
  priority: Priority;
  /** The pull API subject of this lane's durable consumer. */
  next: string;
  /** Prefix of this lane's doorbell subjects (the task id follows). */
  subjectPrefix: string;
  inbox: string;
  sub: Subscription;
  /** Copies of this lane's new doorbells as they are published: the lane is worth asking again. */
  news: Subscription;
  buffer: Msg[];
  waiting: { resolve: (msg: Msg | undefined) => void; reject: (error: unknown) => void }[];
  pull: { token: string; want: number; got: number; finish: (error?: Error) => void } | undefined;
  pulling: boolean;
  /** The last pull brought all it asked for: more are probably waiting on the server. */
  full: boolean;
  /** How many doorbells to keep at hand: PREFETCH while claims come fast, else 0. */
  prefetch: number;
  seq: number;
  /** When a pull last found this lane empty (Date.now()). */
  emptyAt: number;
  /** When a claimer last took a doorbell of this lane. */
  lastTake: number;
  idleTimer: NodeJS.Timeout | undefined;
}

/** Doorbells fetched ahead while claims come at least this often. */
const PREFETCH_WHEN_CLAIMS_WITHIN_MS = 50;
const PREFETCH = 16;
/** Doorbells fetched ahead but not taken for this long go back to the server for other claimers. */
const PREFETCH_HOLD_MS = 250;
/** A lane found empty is not asked again for this long while a less urgent lane has doorbells at hand. */
const EMPTY_LANE_RECHECK_MS = 100;

interface Plan {
  reroute?: RouteDecision;
  event: Omit<TaskEvent, "at">;
  error?: TaskResult["error"];
  consumesAttempt: boolean;
  raiseMaxAttempts?: boolean;
  clearCancel?: boolean;
  via: string;
}

const decoder = new TextDecoder();

/** Key in the leases bucket for the coordinator's lease observations (see recallLeases). */
const LEASE_MEMORY_KEY = "lease-seen";
const LeaseMemory = z.object({
  host: z.string(),
  leases: z.record(z.string(), z.object({ rev: z.number(), seenAt: z.number() })),
});

export class NatsBlackboard implements Blackboard {
  readonly location: string;
  readonly names: NatsNames;
  private nc: NatsConnection | undefined;
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private kv!: Record<"tasks" | "results" | "progress" | "nodes" | "aside" | "archive" | "leases", KV>;
  /** This handle's identity in the coordinator lease, and the other holder's revision as last seen. */
  private readonly leaseToken = newToken();
  private coordinatorSeen: { rev: number; seenAt: number } | undefined;
  /** When the coordinator last dropped old delete markers of archived tasks. */
  private markersPurgedAt = 0;
  private apiPrefix = "$JS.API";
  /** Writes to a bucket in another JetStream domain go through that domain's API prefix. */
  private kvWritePrefix = "";
  private wire!: JsWire;
  /** The tasks bucket answers direct gets (buckets made by clawos do). */
  private direct = true;
  private maxRecordBytes = MAX_RECORD_BYTES;
  private initializing: Promise<void> | undefined;
  private closed = false;
  /** False between a disconnect and the reconnect: operations wait rather than queue blind. */
  private connected = true;
  private reconnected: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Rejects at the next disconnect: operations in flight then retry at once instead of timing out. */
  private disconnected = rejectLater();
  /** Claims this handle holds: the record revision it last wrote, so renew/complete need no read. */
  private readonly held = new Map<string, Held>();
  /** Claims with a complete() in progress here: a concurrent second complete() of the same claim loses. */
  private readonly finishing = new Set<string>();
  private readonly leaseSeen = new Map<string, { rev: number; seenAt: number }>();
  private leaseMemoryRead = false;
  private leaseMemoryWritten = "";
  private readonly consumers = new Map<string, Promise<void>>();
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly options: NatsBlackboardOptions) {
    if (options.servers.length === 0)
      throw new UserError("The NATS blackboard needs at least one server URL.");
    this.names = natsNames(options.prefix);
    this.location = options.servers.join(",");
  }

  private now(): number {
    return this.options.clock ? this.options.clock() : Date.now();
  }
  private stamp(): string {
    return new Date(this.now()).toISOString();
  }

  // ── connection and retries ─────────────────────────────────────────────────

  async init(): Promise<void> {
    this.initializing ??= this.open();
    try {
      await this.initializing;
    } catch (error) {
      this.initializing = undefined;
      throw error;
    }
  }

  private async open(): Promise<void> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: this.options.servers,
        name: this.options.name ?? "clawos",
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: 5_000,
        // No stack captured up front for every request: they cost more than the request itself.
        noAsyncTraces: true,
      });
    } catch (error) {
      throw new UserError(
        `Cannot reach the NATS blackboard at ${this.location}: ${(error as Error).message}`,
        {
          hint: "is nats-server running with JetStream (-js) and reachable from here? (federation.json → blackboard.servers)",
          cause: error,
        },
      );
    }
    this.nc = nc;
    void this.followStatus(nc);
    try {
      await this.prepare(nc);
    } catch (error) {
      this.nc = undefined;
      await nc.close().catch(() => {});
      throw error;
    }
  }

  private async prepare(nc: NatsConnection): Promise<void> {
    const domain = this.options.domain;
    if (domain) {
      this.apiPrefix = `$JS.${domain}.API`;
      this.kvWritePrefix = `${this.apiPrefix}.`;
    }
    this.wire = new JsWire(nc, this.apiPrefix);
    this.js = jetstream(nc, { timeout: 5_000, ...(domain ? { domain } : {}) });
    this.jsm = await this.io("open JetStream", () =>
      jetstreamManager(nc, { timeout: 5_000, ...(domain ? { domain } : {}) }),
    );
    const maxPayload = nc.info?.max_payload ?? MAX_RECORD_BYTES;
    this.maxRecordBytes = Math.min(MAX_RECORD_BYTES, maxPayload - 8 * 1024);
    await this.io("create the work stream", () => this.ensureWorkStream());
    const kvm = new Kvm(this.js);
    const bucket = (name: string) =>
      this.io(`open bucket ${name}`, () => kvm.create(name, { history: 1, storage: StorageType.File }));
    const [tasks, results, progress, nodes, aside, leases, archive] = await Promise.all([
      bucket(this.names.tasks),
      bucket(this.names.results),
      bucket(this.names.progress),
      bucket(this.names.nodes),
      bucket(this.names.aside),
      bucket(this.names.leases),
      this.io(`open bucket ${this.names.archive}`, () =>
        kvm.create(this.names.archive, {
          history: 1,
          storage: StorageType.File,
          ttl: this.options.archiveKeepMs ?? 90 * DAY_MS,
        }),
      ),
    ]);
    this.kv = {
      tasks: tasks!,
      results: results!,
      progress: progress!,
      nodes: nodes!,
      aside: aside!,
      archive: archive!,
      leases: leases!,
    };
    // A bucket made elsewhere without direct gets is read through the library instead.
    this.direct = tasks instanceof Bucket ? tasks.direct : false;
  }

  private async followStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        this.connected = false;
        this.disconnected.reject(new Error("disconnected from the server"));
        this.disconnected = rejectLater();
      } else if (status.type === "reconnect") {
        this.connected = true;
        this.reconnected?.resolve();
        this.reconnected = undefined;
      }
    }
  }

  /** Wait (at most until `deadline`) for the client to reconnect; true if it is connected. */
  private async waitConnected(deadline: number): Promise<boolean> {
    if (this.connected) return true;
    if (!this.reconnected) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.reconnected = { promise, resolve };
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.reconnected.promise,
      new Promise((r) => {
        timer = setTimeout(r, Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    return this.connected;
  }

  private async ensureWorkStream(): Promise<void> {
    try {
      await this.jsm.streams.info(this.names.workStream);
      return;
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== 10059) throw error;
    }
    try {
      await this.jsm.streams.add({
        name: this.names.workStream,
        subjects: [this.names.workSubjects],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        duplicate_window: 120_000_000_000,
      });
    } catch (error) {
      // Another handle created it meanwhile.
      if (!(error instanceof JetStreamApiError) || error.code !== 10058) throw error;
    }
  }

  private get conn(): NatsConnection {
    if (!this.nc) throw new Error("NatsBlackboard: call init() first");
    return this.nc;
  }

  /**
   * Run one network operation, retrying it through disconnects and server restarts for
   * `retryForMs`; then the error surfaces (nothing is dropped silently). Callers make their
   * operations idempotent, since a try that timed out may still have landed.
   */
  private async io<T>(
    what: string,
    op: () => Promise<T>,
    transient: (error: unknown) => boolean = isTransient,
  ): Promise<T> {
    const deadline = Date.now() + (this.options.retryForMs ?? 30_000);
    const giveUp = (reason: string, cause?: unknown) =>
      new UserError(`The NATS blackboard at ${this.location} did not answer (${what}): ${reason}`, {
        hint: "is nats-server running and reachable from here? try again once it is",
        ...(cause ? { cause } : {}),
      });
    let wait = 50;
    for (;;) {
      // While disconnected, wait for the reconnect instead of queueing the request blind.
      if (!this.closed && !(await this.waitConnected(deadline))) throw giveUp("disconnected, not sent");
      try {
        // A try cut off by a disconnect may still land: callers' operations are idempotent.
        return await Promise.race([op(), this.disconnected.promise]);
      } catch (error) {
        if (this.closed || !transient(error)) throw error;
        if (Date.now() + wait > deadline) throw giveUp((error as Error).message, error);
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = Math.min(wait * 2, 1_000);
      }
    }
  }

  // ── records ────────────────────────────────────────────────────────────────

  private parseRecord(key: string, entry: StoredEntry | KvEntry): Read {
    if (entry.operation !== "PUT") return { kind: "missing" };
    const parsed = parseJsonRecord(entry.value, NatsTaskRecord);
    if (!parsed.ok) return { kind: "malformed", reason: parsed.reason, rev: entry.revision };
    const record = parsed.value;
    const wrong = inconsistent(record, key);
    if (wrong) return { kind: "malformed", reason: wrong, rev: entry.revision };
    const created = typeof entry.created === "number" ? entry.created : entry.created.getTime();
    return { kind: "ok", record, rev: entry.revision, created };
  }

  private async readTask(id: string): Promise<Read> {
    const entry = await this.io("read a task", () => this.lastTaskEntry(id));
    return entry ? this.parseRecord(id, entry) : { kind: "missing" };
  }

  private async lastTaskEntry(id: string): Promise<StoredEntry | KvEntry | undefined> {
    const bucket = this.names.tasks;
    if (this.direct) return this.wire.last(`KV_${bucket}`, `$KV.${bucket}.${id}`);
    return (await this.kv.tasks.get(id)) ?? undefined;
  }

  private taskSubject(id: string): string {
    return `${this.kvWritePrefix}$KV.${this.names.tasks}.${id}`;
  }

  private newWrite(record: Omit<NatsTaskRecord, "w" | "at">): NatsTaskRecord {
    return { ...record, w: newToken(), at: this.stamp() };
  }

  /** Compare-and-set a task record. Returns the new revision, or undefined if the record moved on. */
  private async cas(id: string, next: NatsTaskRecord, rev: number): Promise<number | undefined> {
    const data = JSON.stringify(next);
    try {
      return await this.io("update a task", () =>
        this.wire.publish(this.taskSubject(id), data, { expectLastSubjectSequence: rev }),
      );
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      return this.landedAnyway(id, next);
    }
  }

  /** Create a task record that must not exist yet. Returns its revision, or undefined if the id is taken. */
  private async createRecord(record: NatsTaskRecord, restoring = false): Promise<number | undefined> {
    const id = record.request.id;
    const data = JSON.stringify(record);
    const create = (over: number) =>
      this.io("create a task", () =>
        this.wire.publish(this.taskSubject(id), data, { expectLastSubjectSequence: over }),
      );
    try {
      return await create(0);
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
    }
    // Taken — unless only a delete marker is there, which a create may replace (but not the
    // marker of an archived task: its id stays taken).
    const now = await this.io("read a task", () => this.lastTaskEntry(id));
    if (now && now.operation !== "PUT" && (restoring || !(await this.readArchived(id)))) {
      try {
        return await create(now.revision);
      } catch (error) {
        if (!isWrongLastSequence(error)) throw error;
      }
    }
    return this.landedAnyway(id, record);
  }

  /** After a conflict: did an earlier try of this very write land (a retry after a lost reply)? */
  private async landedAnyway(id: string, written: NatsTaskRecord): Promise<number | undefined> {
    const now = await this.readTask(id);
    return now.kind === "ok" && now.record.w === written.w ? now.rev : undefined;
  }

  /** Publish the doorbell of a pending task. Deduplicated by msgID, so retries and recover() are idempotent. */
  private async ring(record: NatsTaskRecord, rev: number): Promise<void> {
    const id = record.request.id;
    const inline = JSON.stringify({ id, rev, record });
    const payload = inline.length <= DOORBELL_INLINE_MAX ? inline : JSON.stringify({ id, rev });
    const publish = () =>
      this.io(
        "publish to an inbox",
        () =>
          this.wire.publish(this.names.doorbell(record.node, id, record.request.priority), payload, {
            msgID: `${id}@${rev}`,
          }),
        (error) => isTransient(error) && !isNoResponders(error),
      );
    try {
      await publish();
    } catch (error) {
      if (!isNoResponders(error)) throw error;
      // No stream takes the subject (it was deleted): make it again, then publish.
      await this.io("create the work stream", () => this.ensureWorkStream());
      await publish();
    }
  }

  // ── enqueue and claim ─────────────────────────────────────────────────────

  async enqueue(request: TaskRequest): Promise<{ created: boolean }> {
    const valid = TaskRequest.parse(request);
    const record = this.newWrite({
      schema: RECORD_SCHEMA,
      node: valid.route.node,
      state: "pending",
      request: valid,
      cancelRequested: false,
      via: "enqueue",
    });
    const rev = await this.createRecord(record);
    if (rev === undefined) return { created: false };
    // A crash here leaves a pending record without a doorbell: recover() republishes it.
    await this.ring(record, rev);
    return { created: true };
  }

  async enqueueClaimed(request: TaskRequest): Promise<Claim | undefined> {
    const valid = TaskRequest.parse(request);
    const token = newToken();
    const record = this.newWrite({
      schema: RECORD_SCHEMA,
      node: valid.route.node,
      state: "claimed",
      request: valid,
      cancelRequested: false,
      via: "enqueue-claimed",
      claim: { token, renewals: 0 },
    });
    const rev = await this.createRecord(record);
    if (rev === undefined) return undefined;
    this.held.set(token, { rev, record, progressed: false });
    return { request: valid, node: record.node, handle: token };
  }

  async pendingIds(node: string): Promise<string[]> {
    if (!isValidNodeId(node)) return [];
    const ids = await this.inboxIds(node);
    const reads = await mapLimit(ids, CONCURRENCY, (id) => this.readTask(id));
    return ids.filter((_, i) => {
      const read = reads[i]!;
      return read.kind === "ok" && read.record.state === "pending" && read.record.node === node;
    });
  }

  /**
   * Ids with a doorbell in `node`'s inbox (stale ones included: callers check the record),
   * most urgent first, in random order within a priority.
   */
  private async inboxIds(node: string): Promise<string[]> {
    const info = await this.io("list an inbox", () =>
      this.jsm.streams.info(this.names.workStream, { subjects_filter: this.names.inboxFilter(node) }),
    );
    const prefix = `${this.names.prefix}.tasks.${node}.`;
    const byPriority = new Map<string, string[]>(PRIORITIES.map((p) => [p, []]));
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      if (!subject.startsWith(prefix)) continue;
      const [priority, id, ...rest] = subject.slice(prefix.length).split(".");
      if (rest.length === 0 && id && isValidTaskId(id)) byPriority.get(priority!)?.push(id);
    }
    return [...byPriority.values()].flatMap((ids) => shuffle(ids));
  }

  async claim(node: string, id?: string): Promise<Claim | undefined> {
    if (!isValidNodeId(node)) return undefined;
    if (id !== undefined) return isValidTaskId(id) ? this.claimById(node, id) : undefined;
    // Fast path: the node's consumers hand each doorbell to one claimer, most urgent lane first.
    for (let i = 0; i < 100; i++) {
      const got = await this.nextDoorbell(node);
      if (!got) break;
      const claim = await this.claimFromDoorbell(node, got.lane, got.msg);
      if (claim) return claim;
    }
    // Slow path: doorbells delivered to a claimer that died or timed out stay invisible until
    // their ack wait passes; the inbox listing still shows them, and the record decides.
    for (const candidate of await this.inboxIds(node)) {
      const claim = await this.claimById(node, candidate);
      if (claim) return claim;
    }
    return undefined;
  }

  private lane(node: string, priority: Priority): Lane {
    const key = `${node}\n${priority}`;
    let lane = this.lanes.get(key);
    if (lane) return lane;
    const inbox = createInbox();
    const l: Lane = {
      node,
      priority,
      next: `${this.apiPrefix}.CONSUMER.MSG.NEXT.${this.names.workStream}.${this.names.durable(node, priority)}`,
      subjectPrefix: `${this.names.prefix}.tasks.${node}.${priority}.`,
      inbox,
      // One subscription for every pull of this lane (the client renews it after a reconnect).
      sub: this.conn.subscribe(`${inbox}.*`, {
        callback: (error, msg) => {
          if (!error) this.onDoorbell(l, msg);
        },
      }),
      news: this.conn.subscribe(this.names.laneFilter(node, priority), {
        callback: () => {
          l.emptyAt = 0;
        },
      }),
      buffer: [],
      waiting: [],
      pull: undefined,
      pulling: false,
      full: false,
      prefetch: 0,
      seq: 0,
      emptyAt: 0,
      lastTake: 0,
      idleTimer: undefined,
    };
    lane = l;
    this.lanes.set(key, lane);
    return lane;
  }

  /**
   * The next doorbell for a claim of `node`: the most urgent lane that has one. Lanes are
   * asked most urgent first; the only shortcut: while doorbells of a less urgent lane are at
   * hand (fetched ahead because claims come fast), a lane found empty less than
   * EMPTY_LANE_RECHECK_MS ago is not asked again unless a new doorbell was seen published to
   * it. So an urgent task can lose to a less urgent one only while claims come fast, and only
   * if it arrives between two claims of the same moment.
   */
  private async nextDoorbell(node: string): Promise<{ lane: Lane; msg: Msg } | undefined> {
    const lanes = PRIORITIES.map((p) => this.lane(node, p));
    const now = Date.now();
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i]!;
      const msg = lane.buffer.shift();
      if (msg) {
        this.took(lane, now);
        return { lane, msg };
      }
      const lessUrgentAtHand = lanes.slice(i + 1).some((l) => l.buffer.length > 0);
      if (lessUrgentAtHand && now - lane.emptyAt < EMPTY_LANE_RECHECK_MS) continue;
      const pulled = await new Promise<Msg | undefined>((resolve, reject) => {
        lane.waiting.push({ resolve, reject });
        this.topUp(lane);
      });
      if (pulled) {
        this.took(lane, Date.now());
        return { lane, msg: pulled };
      }
    }
    return undefined;
  }

  private took(lane: Lane, now: number): void {
    lane.prefetch = now - lane.lastTake < PREFETCH_WHEN_CLAIMS_WITHIN_MS ? PREFETCH : 0;
    lane.lastTake = now;
    this.topUp(lane);
  }

  /** Start a pull if claimers wait, or (prefetching) the buffer runs low. */
  private topUp(lane: Lane): void {
    if (lane.pulling || this.closed) return;
    const prefetch = lane.full ? lane.prefetch : 0;
    const ahead = prefetch > 0 && lane.buffer.length <= prefetch / 2 ? prefetch - lane.buffer.length : 0;
    const want = lane.waiting.length + ahead;
    if (want > 0) void this.runPull(lane, Math.min(want, 256));
  }

  private async runPull(lane: Lane, want: number): Promise<void> {
    lane.pulling = true;
    let got = 0;
    try {
      got = await this.pullLane(lane, want);
      lane.full = got >= want;
      if (!lane.full) lane.emptyAt = Date.now();
    } catch (error) {
      for (const w of lane.waiting.splice(0)) w.reject(error);
    } finally {
      lane.pulling = false;
    }
    // Claimers still waiting: the server had no more (then none for them now), or they came
    // after the pull was sized (then pull again).
    if (got < want) for (const w of lane.waiting.splice(0)) w.resolve(undefined);
    else this.topUp(lane);
  }

  /** A doorbell, or the status that ends a pull, arrived on a lane's reply subscription. */
  private onDoorbell(lane: Lane, msg: Msg): void {
    const code = msg.headers?.code ?? 0;
    const pull = lane.pull;
    if (code >= 300 || !msg.reply) {
      // 404 no messages, 408 request expired, 409 limits/consumer deleted: no more for now.
      if (pull && msg.subject === `${lane.inbox}.${pull.token}`)
        pull.finish(code === 503 ? new NoRespondersError(lane.next) : undefined);
      return;
    }
    if (pull) pull.got++;
    const waiter = lane.waiting.shift();
    if (waiter) waiter.resolve(msg);
    else {
      lane.buffer.push(msg);
      this.holdAhead(lane);
    }
    if (pull && pull.got >= pull.want) pull.finish();
  }

  /** Doorbells fetched ahead and not taken soon go back (NAK), so other claimers get them at once. */
  private holdAhead(lane: Lane): void {
    if (lane.idleTimer) return;
    lane.idleTimer = setTimeout(() => {
      lane.idleTimer = undefined;
      if (!lane.buffer.length) return;
      if (Date.now() - lane.lastTake < PREFETCH_HOLD_MS) return this.holdAhead(lane);
      for (const msg of lane.buffer.splice(0)) this.ack(msg, "-NAK");
    }, PREFETCH_HOLD_MS);
    lane.idleTimer.unref();
  }

  /** Pull up to `want` doorbells of a lane without waiting; how many came. */
  private async pullLane(lane: Lane, want: number): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      await this.ensureConsumer(lane.node, lane.priority);
      try {
        return await this.io(
          "pull from an inbox",
          () => this.pullOnce(lane, want),
          (error) => isTransient(error) && !isNoResponders(error) && !isTimeout(error),
        );
      } catch (error) {
        // A no-wait pull answers at once unless its consumer is gone (deleted, or a wiped
        // store): then nobody answers. Make the consumer, and the stream, again.
        this.consumers.delete(this.names.durable(lane.node, lane.priority));
        if (attempt >= 2 || !(isNoResponders(error) || isTimeout(error))) throw error;
        await this.io("create the work stream", () => this.ensureWorkStream());
      }
    }
  }

  private pullOnce(lane: Lane, want: number): Promise<number> {
    const token = (++lane.seq).toString(36);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => finish(new TimeoutError()), 3_000);
      const finish = (error?: Error) => {
        if (lane.pull?.token !== token) return;
        clearTimeout(timer);
        const got = lane.pull.got;
        lane.pull = undefined;
        if (error && got === 0) reject(error);
        else resolve(got);
      };
      lane.pull = { token, want, got: 0, finish };
      // Doorbells that arrive after this pull gave up still land in the lane (same subscription).
      this.wire.send(lane.next, JSON.stringify({ batch: want, no_wait: true }), `${lane.inbox}.${token}`);
    });
  }

  private ensureConsumer(node: string, priority: Priority): Promise<void> {
    const durable = this.names.durable(node, priority);
    let ready = this.consumers.get(durable);
    if (!ready) {
      ready = this.io("create an inbox consumer", async () => {
        try {
          await this.jsm.consumers.add(this.names.workStream, {
            durable_name: durable,
            filter_subject: this.names.laneFilter(node, priority),
            ack_policy: AckPolicy.Explicit,
            deliver_policy: DeliverPolicy.All,
            ack_wait: DOORBELL_ACK_WAIT_MS * 1_000_000,
            max_deliver: -1,
            max_ack_pending: 20_000,
          });
        } catch (error) {
          // 10148: it exists with another configuration (an older version made it): use it as it is.
          if (!(error instanceof JetStreamApiError) || error.code !== 10148) throw error;
        }
      });
      this.consumers.set(durable, ready);
      ready.catch(() => this.consumers.delete(durable));
    }
    return ready;
  }

  private ack(msg: Msg, verb = "+ACK"): void {
    // If the connection is gone, the doorbell comes back after its ack wait, and stale ones are harmless.
    if (msg.reply) this.wire.send(msg.reply, verb);
  }

  private async claimFromDoorbell(node: string, lane: Lane, msg: Msg): Promise<Claim | undefined> {
    const prefix = lane.subjectPrefix;
    const id = msg.subject.startsWith(prefix) ? msg.subject.slice(prefix.length) : "";
    if (!isValidTaskId(id)) {
      this.ack(msg); // not a task doorbell at all
      return undefined;
    }
    // The doorbell may carry the record as of the revision that rang it: a CAS on that
    // revision succeeds only if the record is still exactly that, so it saves a read.
    let candidate: Read | undefined;
    try {
      const bell = Doorbell.safeParse(JSON.parse(decoder.decode(msg.data)));
      if (bell.success && bell.data.id === id && bell.data.rev && bell.data.record) {
        const record = NatsTaskRecord.safeParse(bell.data.record);
        if (record.success && !inconsistent(record.data, id))
          candidate = { kind: "ok", record: record.data, rev: bell.data.rev, created: 0 };
      }
    } catch {
      // Not JSON: read the record instead.
    }
    try {
      const claim = await this.claimRecord(node, id, candidate);
      this.ack(msg); // claimed, or stale: either way this doorbell is done
      return claim;
    } catch (error) {
      this.ack(msg, "-NAK"); // let another claimer try it
      throw error;
    }
  }

  private claimById(node: string, id: string): Promise<Claim | undefined> {
    return this.claimRecord(node, id, undefined);
  }

  /** Claim task `id` of `node` by CAS on its record (starting from `known`, if given). */
  private async claimRecord(node: string, id: string, known: Read | undefined): Promise<Claim | undefined> {
    let read = known ?? (await this.readTask(id));
    for (let i = 0; i < 5; i++) {
      if (read.kind !== "ok") return undefined;
      const { record } = read;
      if (record.state !== "pending" || record.node !== node || record.cancelRequested) return undefined;
      const token = newToken();
      const next = this.newWrite({
        ...record,
        state: "claimed",
        claim: { token, renewals: 0 },
        via: "claim",
      });
      const rev = await this.cas(id, next, read.rev);
      if (rev !== undefined) {
        this.held.set(token, { rev, record: next, progressed: false });
        return { request: record.request, node, handle: token };
      }
      read = await this.readTask(id); // it changed meanwhile: look again
    }
    return undefined;
  }

  // ── the claim holder ───────────────────────────────────────────────────────

  /** The record if `claim` still holds it, read fresh. */
  private async readHeld(claim: Claim): Promise<Held | undefined> {
    const read = await this.readTask(claim.request.id);
    if (read.kind !== "ok") return undefined;
    const { record } = read;
    if (
      record.state !== "claimed" ||
      record.claim?.token !== claim.handle ||
      record.request.attempt !== claim.request.attempt
    )
      return undefined;
    return { rev: read.rev, record };
  }

  async renew(claim: Claim): Promise<boolean> {
    let held = this.held.get(claim.handle) ?? (await this.readHeld(claim));
    for (let i = 0; i < 5 && held; i++) {
      const next = this.newWrite({
        ...held.record,
        claim: { token: claim.handle, renewals: (held.record.claim?.renewals ?? 0) + 1 },
        via: "renew",
      });
      const rev = await this.cas(claim.request.id, next, held.rev);
      if (rev !== undefined) {
        this.held.set(claim.handle, { rev, record: next, progressed: held.progressed ?? true });
        return true;
      }
      held = await this.readHeld(claim);
      if (held) this.held.set(claim.handle, held);
    }
    this.held.delete(claim.handle);
    return false;
  }

  async progress(claim: Claim, text: string, startedAt: string): Promise<void> {
    if (!(await this.readHeld(claim))) return; // lost: only the holder reports progress
    const record: TaskProgress & { claim: string } = {
      schema: "clawos.progress/1",
      id: claim.request.id,
      attempt: claim.request.attempt,
      node: claim.node,
      text,
      startedAt,
      updatedAt: this.stamp(),
      claim: claim.handle,
    };
    const data = fitText(record, this.maxRecordBytes);
    const cached = this.held.get(claim.handle);
    if (cached) cached.progressed = true;
    await this.io("write progress", () => this.kv.progress.put(claim.request.id, data));
  }

  async complete(claim: Claim, result: TaskResult): Promise<boolean> {
    if (result.id !== claim.request.id || result.attempt !== claim.request.attempt) {
      throw new Error(
        `a result for ${result.id} attempt ${result.attempt} cannot complete the claim of ${claim.request.id} attempt ${claim.request.attempt}`,
      );
    }
    if (this.finishing.has(claim.handle)) return false; // a concurrent complete() of this claim goes first
    this.finishing.add(claim.handle);
    try {
      let held = this.held.get(claim.handle) ?? (await this.readHeld(claim));
      if (!held) return false; // lease already lost: do not even publish
      // Progress to clear: what this handle wrote, or (for a claim taken elsewhere) whatever is there.
      const clearProgress = held.progressed ?? true;
      const id = claim.request.id;
      const key = this.names.resultKey(id, claim.request.attempt);
      const valid = TaskResult.parse(result);
      // A small result is committed inside the record by the one CAS that finishes the task. A
      // large one is first created (once per attempt) in the results bucket, then committed by
      // the CAS naming its revision; if the CAS loses, the result never counts.
      let resultRevision: number | undefined;
      if (Buffer.byteLength(JSON.stringify(valid)) > INLINE_RESULT_MAX) {
        resultRevision = await this.createResult(key, fitText(valid, this.maxRecordBytes));
        if (resultRevision === undefined) return false; // this attempt already has a result
      }
      const outcome =
        resultRevision === undefined
          ? { status: result.status, result: valid }
          : { status: result.status, resultRevision };
      for (let i = 0; i < 5 && held; i++) {
        const next = this.newWrite({
          ...held.record,
          state: "finished",
          claim: undefined,
          outcome,
          via: "complete",
        });
        if ((await this.cas(id, next, held.rev)) !== undefined) {
          this.held.delete(claim.handle);
          if (clearProgress) await this.dropProgress(id);
          return true;
        }
        held = await this.readHeld(claim); // a renewal of ours may have raced us: try again if still ours
      }
      // Lost (after publishing a large result: it does not count; take it back if still ours).
      this.held.delete(claim.handle);
      if (resultRevision !== undefined)
        await this.io("withdraw a result", () =>
          this.kv.results.delete(key, { previousSeq: resultRevision }),
        ).catch(() => {});
      return false;
    } finally {
      this.finishing.delete(claim.handle);
    }
  }

  /** Create results/<key>; undefined if it exists (unless it is this very write, landed by an earlier try). */
  private async createResult(key: string, data: string): Promise<number | undefined> {
    try {
      return await this.io("publish a result", () => this.kv.results.create(key, data));
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      const now = await this.io("read a result", () => this.kv.results.get(key));
      return now?.operation === "PUT" && decoder.decode(now.value) === data ? now.revision : undefined;
    }
  }

  private async dropProgress(id: string): Promise<void> {
    await this.io("clear progress", () => this.kv.progress.purge(id)).catch(() => {});
  }

  async requeue(claim: Claim, options: RequeueOptions): Promise<RequeueOutcome> {
    let held = this.held.get(claim.handle) ?? (await this.readHeld(claim));
    for (let i = 0; i < 5 && held; i++) {
      const outcome = await this.move(claim.request.id, held, {
        ...(options.reroute ? { reroute: options.reroute } : {}),
        event: options.event,
        ...(options.error ? { error: options.error } : {}),
        consumesAttempt: options.consumesAttempt ?? true,
        via: "requeue",
      });
      if (outcome !== "lost") {
        this.held.delete(claim.handle);
        return outcome;
      }
      held = await this.readHeld(claim);
    }
    this.held.delete(claim.handle);
    return "lost";
  }

  /**
   * The next form of a task taken from its current state by `plan`: pending again (attempt + 1
   * if the plan consumes one, maybe elsewhere), or finished — cancelled if a cancel was asked
   * for, failed if no attempts are left.
   */
  private successor(record: NatsTaskRecord, plan: Plan): { next: NatsTaskRecord; outcome: RequeueOutcome } {
    const at = this.stamp();
    const request = record.request;
    const cancelRequested = plan.clearCancel ? false : record.cancelRequested;
    const finish = (status: "failed" | "cancelled", error: TaskResult["error"], outcome: RequeueOutcome) => {
      const verdict: TaskResult = {
        schema: "clawos.result/1",
        id: request.id,
        attempt: request.attempt,
        node: record.node,
        status,
        ...(error ? { error } : {}),
        finishedAt: at,
      };
      return {
        next: this.newWrite({
          ...record,
          state: "finished",
          cancelRequested,
          claim: undefined,
          outcome: { status, verdict },
          via: plan.via,
        }),
        outcome,
      };
    };
    if (cancelRequested)
      return finish("cancelled", { kind: "cancelled", message: "cancelled by request" }, "cancelled");
    const attempt = plan.consumesAttempt ? request.attempt + 1 : request.attempt;
    if (attempt > request.maxAttempts && !plan.raiseMaxAttempts) {
      return finish(
        "failed",
        {
          kind: plan.error?.kind ?? "gave_up",
          message: `gave up after ${request.attempt} attempt(s): ${plan.error?.message ?? plan.event.detail}`,
          ...(plan.error?.hint ? { hint: plan.error.hint } : {}),
        },
        "dead",
      );
    }
    const route = plan.reroute ?? request.route;
    const next: TaskRequest = {
      ...request,
      attempt,
      maxAttempts: plan.raiseMaxAttempts ? Math.max(request.maxAttempts, attempt) : request.maxAttempts,
      route,
      history: [...request.history, { at, ...plan.event }].slice(-100),
    };
    return {
      next: this.newWrite({
        schema: RECORD_SCHEMA,
        node: route.node,
        state: "pending",
        request: next,
        cancelRequested,
        via: plan.via,
      }),
      outcome: "requeued",
    };
  }

  /** Move a task on by `plan` with one CAS from `from`; "lost" if the record moved on first. */
  private async move(id: string, from: Held, plan: Plan): Promise<RequeueOutcome> {
    const { next, outcome } = this.successor(from.record, plan);
    const rev = await this.cas(id, next, from.rev);
    if (rev === undefined) return "lost";
    if (from.record.state === "claimed") {
      // This move won over the claim holder: anything it published for this attempt is void.
      await this.io("void a result", () =>
        this.kv.results.purge(this.names.resultKey(id, from.record.request.attempt)),
      ).catch(() => {});
      await this.dropProgress(id);
    }
    if (next.state === "pending") await this.ring(next, rev);
    return outcome;
  }

  // ── reading ───────────────────────────────────────────────────────────────

  /** Every current entry of a bucket (deleted keys come back as DEL/PURGE entries). */
  private async scan(kv: KV): Promise<KvEntry[]> {
    return this.io("scan a bucket", async () => {
      const latest = new Map<string, KvEntry>();
      const iter = await kv.history();
      for await (const entry of iter) {
        const seen = latest.get(entry.key);
        if (!seen || seen.revision < entry.revision) latest.set(entry.key, entry);
      }
      return [...latest.values()];
    });
  }

  private async describe(record: NatsTaskRecord): Promise<StoredTask> {
    const { request, node, cancelRequested } = record;
    if (record.state === "pending") return { request, node, state: "pending", cancelRequested };
    if (record.state === "claimed") {
      const entry = await this.io("read progress", () => this.kv.progress.get(request.id));
      const parsed = entry?.operation === "PUT" ? parseJsonRecord(entry.value, ProgressWithClaim) : undefined;
      const progress = parsed?.ok ? parsed.value : undefined;
      const running =
        progress !== undefined &&
        progress.id === request.id &&
        progress.attempt === request.attempt &&
        (progress.claim === undefined || progress.claim === record.claim?.token);
      if (!running) return { request, node, state: "claimed", cancelRequested };
      const { claim: _claim, ...plain } = progress;
      return { request, node, state: "running", cancelRequested, progress: plain };
    }
    const outcome = record.outcome!;
    let result: TaskResult | undefined = outcome.verdict ?? outcome.result;
    if (!result && outcome.resultRevision !== undefined) {
      const key = this.names.resultKey(request.id, request.attempt);
      const entry = await this.io("read a result", () => this.kv.results.get(key));
      const parsed =
        entry?.operation === "PUT" && entry.revision === outcome.resultRevision
          ? parseJsonRecord(entry.value, TaskResult)
          : undefined;
      if (parsed?.ok && parsed.value.id === request.id && parsed.value.attempt === request.attempt)
        result = parsed.value;
    }
    result ??= {
      schema: "clawos.result/1",
      id: request.id,
      attempt: request.attempt,
      node,
      status: outcome.status,
      error: { kind: "result_missing", message: "finished, but its result is missing or unreadable" },
      finishedAt: record.at,
    };
    return { request, node, state: outcome.status, result, cancelRequested };
  }

  async get(id: string): Promise<StoredTask | undefined> {
    if (!isValidTaskId(id)) return undefined;
    const read = await this.readTask(id);
    if (read.kind === "ok") return this.describe(read.record);
    const archived = read.kind === "missing" ? await this.readArchived(id) : undefined;
    return archived ? this.describe(archived) : undefined;
  }

  /** The archived record of task `id`, if the coordinator archived it. */
  private async readArchived(id: string): Promise<NatsTaskRecord | undefined> {
    const entry = await this.io("read the archive", () => this.kv.archive.get(id));
    if (!entry) return undefined;
    const read = this.parseRecord(id, entry);
    return read.kind === "ok" && read.record.state === "finished" ? read.record : undefined;
  }

  async list(options: ListOptions = {}): Promise<TaskListing> {
    const finishedLimit = options.finishedLimit ?? 500;
    const counts: Record<TaskState, number> = {
      pending: 0,
      claimed: 0,
      running: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
    };
    const problems: string[] = [];
    const active: NatsTaskRecord[] = [];
    const finished: NatsTaskRecord[] = [];
    for (const entry of await this.scan(this.kv.tasks)) {
      if (entry.operation !== "PUT") continue;
      const where = `${this.names.tasks}/${truncateName(entry.key)}`;
      if (!isValidTaskId(entry.key)) {
        problems.push(`${where}: not a task record (its key is not a task id)`);
        continue;
      }
      const read = this.parseRecord(entry.key, entry);
      if (read.kind === "malformed") problems.push(`${where}: ${read.reason}`);
      if (read.kind !== "ok") continue;
      (read.record.state === "finished" ? finished : active).push(read.record);
    }
    active.sort((a, b) => (a.state === b.state ? 0 : a.state === "claimed" ? -1 : 1));
    finished.sort((a, b) => (a.request.id < b.request.id ? 1 : a.request.id > b.request.id ? -1 : 0));
    const shown = [...active, ...finished.slice(0, finishedLimit)];
    const tasks = await mapLimit(shown, CONCURRENCY, (r) => this.describe(r));
    for (const t of tasks) counts[t.state]++;
    for (const r of finished.slice(finishedLimit)) counts[r.outcome!.status]++;
    const aside = (await this.scan(this.kv.aside)).filter(
      (e) => e.operation === "PUT" && e.key.endsWith(".reason"),
    ).length;
    if (aside) problems.push(`${aside} malformed record(s) set aside in bucket ${this.names.aside}`);
    return { tasks, counts, problems };
  }

  // ── cancel and retry ───────────────────────────────────────────────────────

  async isCancelRequested(id: string): Promise<boolean> {
    if (!isValidTaskId(id)) return false;
    const read = await this.readTask(id);
    return read.kind === "ok" && read.record.cancelRequested;
  }

  async requestCancel(id: string): Promise<StoredTask> {
    await this.requireTask(id);
    for (let i = 0; i < 20; i++) {
      const read = await this.readTask(id);
      if (read.kind !== "ok") break;
      const { record } = read;
      if (record.state === "finished") {
        throw new UserError(
          `Task ${id} has already finished (${record.outcome?.status}); there is nothing to cancel.`,
          { code: "not_cancellable" },
        );
      }
      if (record.cancelRequested) break;
      const next =
        record.state === "pending"
          ? this.successor(
              { ...record, cancelRequested: true },
              {
                event: { event: "cancelled", detail: "cancelled while pending" },
                consumesAttempt: false,
                via: "cancel",
              },
            ).next
          : // A claimed task is stopped by its worker, which polls isCancelRequested.
            this.newWrite({ ...record, cancelRequested: true, via: "cancel" });
      if ((await this.cas(id, next, read.rev)) !== undefined) break;
    }
    return (await this.get(id)) ?? (await this.requireTask(id));
  }

  async retry(id: string, reroute?: RouteDecision): Promise<StoredTask> {
    const task = await this.requireTask(id);
    if (task.state !== "failed" && task.state !== "cancelled") {
      throw new UserError(`Task ${id} is ${task.state}; only failed or cancelled tasks can be retried.`, {
        hint:
          task.state === "completed"
            ? "dispatch it again to run it once more"
            : "wait for it to finish, or cancel it first",
        code: "not_retryable",
      });
    }
    let read = await this.readTask(id);
    if (read.kind === "missing") read = await this.restoreArchived(id);
    const outcome =
      read.kind === "ok" && read.record.state === "finished"
        ? await this.move(id, read, {
            ...(reroute ? { reroute } : {}),
            event: { event: "retry", detail: `retried by hand after ${task.state}` },
            consumesAttempt: true,
            raiseMaxAttempts: true,
            clearCancel: true,
            via: "retry",
          })
        : "lost";
    if (outcome === "lost")
      throw new UserError(`Task ${id} changed while retrying it; look again with clawos tasks show ${id}.`);
    return (await this.get(id)) ?? task;
  }

  /** Put an archived task back into the tasks bucket (for a retry). */
  private async restoreArchived(id: string): Promise<Read> {
    const archived = await this.readArchived(id);
    if (archived) await this.createRecord(archived, true);
    return this.readTask(id);
  }

  /** Active tasks per node: this driver has no cheaper count than a listing of the active ones. */
  async activeCounts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const listing = await this.list({ finishedLimit: 0, activeOnly: true });
    for (const t of listing.tasks) counts.set(t.node, (counts.get(t.node) ?? 0) + 1);
    return counts;
  }

  private async requireTask(id: string): Promise<StoredTask> {
    if (!isValidTaskId(id)) {
      throw new UserError(`"${truncateName(id)}" is not a task id.`, {
        hint: "ids look like req_20260227_203220_e68aee2d",
        code: "usage",
      });
    }
    const task = await this.get(id);
    if (!task)
      throw new UserError(`No task ${id} on the NATS blackboard at ${this.location}.`, {
        hint: "clawos tasks list shows them",
        code: "not_found",
      });
    return task;
  }

  // ── node status ───────────────────────────────────────────────────────────

  async writeNodeStatus(record: NodeStatusRecord): Promise<void> {
    const valid = NodeStatusRecord.parse(record);
    await this.io("write a node status", () => this.kv.nodes.put(valid.node, JSON.stringify(valid)));
  }

  async readNodeStatuses(): Promise<{ records: NodeStatusRecord[]; problems: string[] }> {
    const records: NodeStatusRecord[] = [];
    const problems: string[] = [];
    for (const entry of await this.scan(this.kv.nodes)) {
      if (entry.operation !== "PUT") continue;
      const where = `${this.names.nodes}/${truncateName(entry.key)}`;
      const parsed = parseJsonRecord(entry.value, NodeStatusRecord);
      if (!parsed.ok) problems.push(`${where}: ${parsed.reason}`);
      else if (parsed.value.node !== entry.key)
        problems.push(`${where}: holds the status of node ${parsed.value.node}`);
      else records.push(heartbeatNotAfter(parsed.value, entry.created.getTime()));
    }
    return { records, problems };
  }

  // ── coordinator ───────────────────────────────────────────────────────────

  coordinator(): CoordinatorDuties {
    return {
      reapExpired: (leaseMs) => this.reapExpired(leaseMs),
      recover: () => this.recover(),
      reroutePending: (id, from, decision) => this.reroutePending(id, from, decision),
      quarantineMalformed: () => this.quarantineMalformed(),
    };
  }

  async releaseCoordinatorLease(): Promise<void> {
    const key = "coordinator";
    const entry = await this.io("read the coordinator lease", () => this.kv.leases.get(key));
    if (entry?.operation !== "PUT") return;
    let token: unknown;
    try {
      token = (JSON.parse(decoder.decode(entry.value)) as { token?: unknown }).token;
    } catch {
      return;
    }
    if (token !== this.leaseToken) return; // not ours (any more): nothing to give up
    try {
      // Only that very revision: if someone took it over meanwhile, theirs stays.
      await this.io("release the coordinator lease", () =>
        this.kv.leases.delete(key, { previousSeq: entry.revision }),
      );
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
    }
  }

  async coordinatorLease(holder: string, leaseMs: number): Promise<boolean> {
    const key = "coordinator";
    const entry = await this.io("read the coordinator lease", () => this.kv.leases.get(key));
    const now = this.now();
    const data = JSON.stringify({ holder: holder.slice(0, 200), token: this.leaseToken, at: this.stamp() });
    const write = async (over: number | undefined): Promise<boolean> => {
      try {
        await this.io("write the coordinator lease", () =>
          over === undefined ? this.kv.leases.create(key, data) : this.kv.leases.update(key, data, over),
        );
        this.coordinatorSeen = undefined;
        return true;
      } catch (error) {
        if (isWrongLastSequence(error)) return false; // someone else moved first
        throw error;
      }
    };
    if (entry?.operation !== "PUT") return write(entry?.revision);
    let token: unknown;
    try {
      token = (JSON.parse(decoder.decode(entry.value)) as { token?: unknown }).token;
    } catch {
      token = undefined; // unreadable: treated like another holder's, taken over when it stays still
    }
    if (token === this.leaseToken) return write(entry.revision);
    const seen = this.coordinatorSeen;
    if (!seen || seen.rev !== entry.revision) {
      this.coordinatorSeen = { rev: entry.revision, seenAt: now };
      return false;
    }
    if (now - seen.seenAt < leaseMs) return false;
    return write(entry.revision);
  }

  /** Current, well-formed task records. */
  private async scanTasks(): Promise<Extract<Read, { kind: "ok" }>[]> {
    const ok: Extract<Read, { kind: "ok" }>[] = [];
    for (const entry of await this.scan(this.kv.tasks)) {
      if (!isValidTaskId(entry.key)) continue;
      const read = this.parseRecord(entry.key, entry);
      if (read.kind === "ok") ok.push(read);
    }
    return ok;
  }

  /**
   * Leases are judged by when *this* coordinator saw the record's revision change (every
   * renewal is a CAS, so it changes the revision), never by comparing timestamps across
   * machines: skewed clocks never expire a lease early.
   */
  private async reapExpired(leaseMs: number): Promise<ExpiredLease[]> {
    const now = this.now();
    if (!this.leaseMemoryRead) await this.recallLeases();
    const expired: ExpiredLease[] = [];
    const present = new Set<string>();
    for (const read of await this.scanTasks()) {
      const { record, rev } = read;
      if (record.state !== "claimed") continue;
      const id = record.request.id;
      present.add(id);
      const seen = this.leaseSeen.get(id);
      if (!seen || seen.rev !== rev) {
        this.leaseSeen.set(id, { rev, seenAt: now });
        continue;
      }
      if (now - seen.seenAt < leaseMs) continue;
      const outcome = await this.move(id, read, {
        event: {
          event: "lease-expired",
          detail: `its lease on ${record.node} was not renewed for ${Math.round((now - seen.seenAt) / 1000)} s: the process running attempt ${record.request.attempt} (a worker or a dispatcher) is gone`,
        },
        error: {
          kind: "lease_expired",
          message: `the process running it on ${record.node} (a worker or a dispatcher) stopped renewing its lease`,
        },
        consumesAttempt: true,
        via: "lease-expired",
      });
      this.leaseSeen.delete(id);
      if (outcome !== "lost") expired.push({ id, node: record.node, outcome });
    }
    for (const key of this.leaseSeen.keys()) if (!present.has(key)) this.leaseSeen.delete(key);
    await this.rememberLeases();
    return expired;
  }

  /**
   * What this machine's coordinator saw of each lease, kept in the leases bucket between runs:
   * `clawos node run --once` from cron is a new process every time, and a lease can only be
   * judged expired by one clock watching it stay unrenewed for leaseMs. Notes another machine
   * wrote are ignored (its clock is not ours).
   */
  private async recallLeases(): Promise<void> {
    this.leaseMemoryRead = true;
    const entry = await this.kv.leases.get(this.leaseMemoryKey()).catch(() => null);
    if (entry?.operation !== "PUT") return;
    try {
      const memory = LeaseMemory.parse(JSON.parse(decoder.decode(entry.value)));
      if (memory.host !== this.machineName()) return;
      // A note from the future (this clock was set back, or someone wrote it) counts from now.
      const now = this.now();
      for (const [id, seen] of Object.entries(memory.leases))
        if (!this.leaseSeen.has(id))
          this.leaseSeen.set(id, { rev: seen.rev, seenAt: notAfter(seen.seenAt, now) });
    } catch {
      // unreadable notes: every lease is simply watched afresh
    }
  }

  private machineName(): string {
    return this.options.machine ?? hostname();
  }

  /** One key per machine: two coordinators (say, --coordinator given on two) never overwrite each other. */
  private leaseMemoryKey(): string {
    return `${LEASE_MEMORY_KEY}.${this.machineName()
      .replace(/[^A-Za-z0-9_-]/g, "_")
      .slice(0, 100)}`;
  }

  private async rememberLeases(): Promise<void> {
    const json = JSON.stringify({ host: this.machineName(), leases: Object.fromEntries(this.leaseSeen) });
    if (json === this.leaseMemoryWritten) return;
    await this.kv.leases.put(this.leaseMemoryKey(), json).then(
      () => {
        this.leaseMemoryWritten = json;
      },
      () => {}, // the next round tries again; losing the notes only restarts each lease's count
    );
  }

  /**
   * Republish the doorbells of pending tasks that have none (a dispatch, requeue, reroute or
   * retry died between its deciding CAS and its publish), and drop doorbells of tasks that
   * have moved on. Leftovers younger than a few seconds may still be in flight: left alone
   * (and republishing is deduplicated by msgID anyway).
   */
  private async recover(): Promise<string[]> {
    const now = this.now();
    const notes: string[] = [];
    const info = await this.io("list the inboxes", () =>
      this.jsm.streams.info(this.names.workStream, { subjects_filter: this.names.workSubjects }),
    );
    const rung = new Set(Object.keys(info.state.subjects ?? {}));
    const records = new Map<string, NatsTaskRecord>();
    const old: Extract<Read, { kind: "ok" }>[] = [];
    const archiveAfter = this.options.archiveAfterMs ?? 7 * DAY_MS;
    for (const read of await this.scanTasks()) {
      const { record, rev, created } = read;
      records.set(record.request.id, record);
      if (record.state === "finished" && now - created >= archiveAfter && old.length < ARCHIVE_BATCH)
        old.push(read);
      if (record.state !== "pending" || record.cancelRequested) continue;
      if (rung.has(this.names.doorbell(record.node, record.request.id, record.request.priority))) continue;
      // Only a record the server stored moments ago by our clock may be in flight: a server
      // clock ahead of ours must not hold a task without its doorbell (republishing is deduplicated).
      if (created <= now && now - created < IN_FLIGHT_GRACE_MS) continue;
      await this.ring(record, rev);
      notes.push(
        `${record.request.id}: republished to ${record.node}'s inbox after an interrupted ${record.via}`,
      );
    }
    // Doorbells of tasks that were claimed, finished or moved meanwhile: clean up, quietly.
    const prefix = `${this.names.prefix}.tasks.`;
    for (const subject of rung) {
      const [node, priority, id, ...rest] = subject.slice(prefix.length).split(".");
      if (!node || !id || rest.length || !isValidTaskId(id)) continue;
      const record = records.get(id);
      if (!record) continue; // maybe an enqueue in flight; a doorbell without a record is harmless
      if (record.state === "pending" && record.node === node && record.request.priority === priority)
        continue;
      await this.dropDoorbells(subject);
    }
    let archived = 0;
    for (const read of old) if (await this.archive(read)) archived++;
    if (archived) notes.push(`archived ${archived} task(s) finished over ${formatAge(archiveAfter)} ago`);
    await this.purgeOldMarkers(now);
    return notes;
  }

  /**
   * Move a finished task to the archive bucket: copy it there (a large result folded in), then
   * delete it from the tasks bucket only if it is still that revision (a retry may have moved
   * it on: then the copy is withdrawn). A crash in between leaves both copies; the next round
   * finishes the move. Its results entries go last.
   */
  private async archive(read: Extract<Read, { kind: "ok" }>): Promise<boolean> {
    const { record, rev } = read;
    const id = record.request.id;
    let copy = record;
    const outcome = record.outcome!;
    if (outcome.resultRevision !== undefined) {
      const full = (await this.describe(record)).result;
      // The result's text is cut (and says so) if the record would not fit otherwise.
      const result = full
        ? (JSON.parse(fitText(full, this.maxRecordBytes - 32 * 1024)) as TaskResult)
        : undefined;
      copy = { ...record, outcome: { status: outcome.status, ...(result ? { result } : {}) } };
    }
    const data = JSON.stringify(copy);
    await this.io("archive a task", () => this.kv.archive.put(id, data));
    try {
      await this.io("archive a task", () => this.kv.tasks.delete(id, { previousSeq: rev }));
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      // Moved on meanwhile (retried): it is live again, so the copy goes.
      const now = await this.readTask(id);
      if (now.kind === "ok") await this.io("withdraw an archived copy", () => this.kv.archive.purge(id));
      return false;
    }
    for (let attempt = 1; attempt <= record.request.attempt; attempt++)
      await this.io("drop an archived result", () =>
        this.kv.results.purge(this.names.resultKey(id, attempt)),
      ).catch(() => {});
    return true;
  }

  /**
   * Delete markers of archived tasks keep their ids taken; once the archive itself has let
   * them go (archiveKeepMs), the markers go too — checked at most once an hour.
   */
  private async purgeOldMarkers(now: number): Promise<void> {
    if (now - this.markersPurgedAt < HOUR_MS) return;
    this.markersPurgedAt = now;
    const tasks = this.kv.tasks;
    if (!(tasks instanceof Bucket)) return;
    const keep = this.options.archiveKeepMs ?? 90 * DAY_MS;
    await this.io("drop old delete markers", () => tasks.purgeDeletes(keep)).catch(() => {});
  }

  private async dropDoorbells(subject: string): Promise<void> {
    for (let i = 0; i < 10; i++) {
      try {
        const stored = await this.io("find a doorbell", () =>
          this.jsm.streams.getMessage(this.names.workStream, { last_by_subj: subject }),
        );
        if (!stored) return;
        // Never a filtered purge: on server 2.9 it moves work-queue consumers past other subjects' messages.
        await this.io("drop a doorbell", () =>
          this.jsm.streams.deleteMessage(this.names.workStream, stored.seq, false),
        );
      } catch (error) {
        if (error instanceof JetStreamApiError && error.code === 10037) return; // no message
        throw error;
      }
    }
  }

  private async reroutePending(id: string, from: string, decision: RouteDecision): Promise<boolean> {
    if (!isValidNodeId(from) || !isValidTaskId(id) || !isValidNodeId(decision.node)) return false;
    const read = await this.readTask(id);
    if (read.kind !== "ok" || read.record.state !== "pending" || read.record.node !== from) return false;
    const outcome = await this.move(id, read, {
      reroute: decision,
      event: { event: "rerouted", detail: `moved from ${from} to ${decision.node}: ${decision.reason}` },
      consumesAttempt: false,
      via: "reroute",
    });
    return outcome === "requeued";
  }

  /**
   * Set malformed records aside (with a reason) if this handle may. A KV value is written
   * whole, so no reader ever sees half of one: a record that does not parse is broken
   * whatever its age, and there is no young/half-written grace as on a synced folder.
   */
  private async quarantineMalformed(): Promise<string[]> {
    if (!this.options.quarantine) return [];
    const moved: string[] = [];
    for (const entry of await this.scan(this.kv.tasks)) {
      if (entry.operation !== "PUT") continue;
      const reason = isValidTaskId(entry.key)
        ? (() => {
            const read = this.parseRecord(entry.key, entry);
            return read.kind === "malformed" ? read.reason : undefined;
          })()
        : "not a task record (its key is not a task id)";
      if (reason && (await this.setAside(this.names.tasks, entry, reason)))
        moved.push(`${this.names.tasks}/${truncateName(entry.key)}: ${reason}`);
    }
    for (const entry of await this.scan(this.kv.nodes)) {
      if (entry.operation !== "PUT") continue;
      const parsed = parseJsonRecord(entry.value, NodeStatusRecord);
      if (!parsed.ok && (await this.setAside(this.names.nodes, entry, parsed.reason)))
        moved.push(`${this.names.nodes}/${truncateName(entry.key)}: ${parsed.reason}`);
    }
    return moved;
  }

  /** Copy a record into the aside bucket with its reason, then delete it — only if it is still that revision. */
  private async setAside(bucket: string, entry: KvEntry, reason: string): Promise<boolean> {
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, "-");
    const name = `${stamp}_${randomBytes(3).toString("hex")}_${truncateName(entry.key).replace(/[^\w-]/g, "_")}`;
    await this.io("set a record aside", () => this.kv.aside.put(`${name}.value`, entry.value));
    await this.io("set a record aside", () =>
      this.kv.aside.put(`${name}.reason`, `${bucket}/${truncateName(entry.key)}\n${reason}\n`),
    );
    try {
      // A raw delete marker: the key may be one the KV client refuses to name.
      const h = headers();
      h.set("KV-Operation", "DEL");
      await this.io("delete a malformed record", () =>
        this.js.publish(`${this.kvWritePrefix}$KV.${bucket}.${entry.key}`, Empty, {
          headers: h,
          expect: { lastSubjectSequence: entry.revision },
        }),
      );
      return true;
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      // Rewritten meanwhile (maybe fixed): leave it, and take our copy back.
      await this.kv.aside.purge(`${name}.value`).catch(() => {});
      await this.kv.aside.purge(`${name}.reason`).catch(() => {});
      return false;
    }
  }

  // ── migration ──────────────────────────────────────────────────────────────

  /**
   * Copy one task from another blackboard (clawos blackboard migrate). Pending and claimed
   * tasks arrive pending with the same attempt (a claim does not survive the move: its run is
   * redone); finished ones keep their result. Idempotent: an id already here is left alone.
   */
  async importTask(task: StoredTask, from: string): Promise<"created" | "exists"> {
    const id = task.request.id;
    if ((await this.readTask(id)).kind !== "missing") return "exists";
    const request = TaskRequest.parse(task.request);
    const event = (detail: string): TaskRequest => ({
      ...request,
      history: [...request.history, { at: this.stamp(), event: "migrated", detail }].slice(-100),
    });
    const base = { schema: RECORD_SCHEMA, node: task.node, cancelRequested: task.cancelRequested } as const;
    let record: NatsTaskRecord;
    if (task.state === "pending" || task.state === "claimed" || task.state === "running") {
      const was = task.state === "pending" ? "pending" : `${task.state} (its run is redone)`;
      if (task.cancelRequested) {
        record = this.successor(
          {
            ...base,
            state: "pending",
            request: event(`copied from ${from}, was ${task.state}`),
            via: "migrate",
            w: "",
            at: "",
          },
          {
            event: { event: "cancelled", detail: "cancel was requested before the move" },
            consumesAttempt: false,
            via: "migrate",
          },
        ).next;
      } else {
        record = this.newWrite({
          ...base,
          state: "pending",
          request: event(`copied from ${from}, was ${was}`),
          via: "migrate",
        });
      }
    } else {
      const result = task.result ? TaskResult.parse(task.result) : undefined;
      let resultRevision: number | undefined;
      const large = result ? Buffer.byteLength(JSON.stringify(result)) > INLINE_RESULT_MAX : false;
      if (result && large && result.error?.kind !== "result_missing") {
        const data = fitText(result, this.maxRecordBytes);
        const key = this.names.resultKey(id, request.attempt);
        resultRevision = await this.createResult(key, data);
        if (resultRevision === undefined) {
          // An earlier, interrupted migration published it: use that one.
          const entry = await this.io("read a result", () => this.kv.results.get(key));
          resultRevision = entry?.operation === "PUT" ? entry.revision : undefined;
        }
      }
      record = this.newWrite({
        ...base,
        state: "finished",
        request: event(`copied from ${from}, was ${task.state}`),
        outcome: {
          status: task.state,
          ...(resultRevision !== undefined ? { resultRevision } : result ? { result } : {}),
        },
        via: "migrate",
      });
    }
    const rev = await this.createRecord(NatsTaskRecord.parse(record));
    if (rev === undefined) return "exists";
    if (record.state === "pending") await this.ring(record, rev);
    return "created";
  }

  // ── wake-ups ──────────────────────────────────────────────────────────────

  watch(scope: WatchScope, onChange: () => void): () => void {
    if (!this.nc || this.closed) return () => {};
    const n = this.names;
    let subjects: string[];
    if ("inboxOf" in scope) {
      if (!isValidNodeId(scope.inboxOf)) return () => {};
      subjects = [n.inboxFilter(scope.inboxOf)];
    } else if ("task" in scope) {
      if (!isValidTaskId(scope.task)) return () => {};
      subjects = [
        `$KV.${n.tasks}.${scope.task}`,
        `$KV.${n.progress}.${scope.task}`,
        `$KV.${n.results}.${scope.task}.*`,
      ];
    } else {
      subjects = [n.workSubjects, ...[n.tasks, n.progress, n.results, n.nodes].map((b) => `$KV.${b}.>`)];
    }
    // Plain subscriptions on the subjects JetStream stores: no consumer on the server, and the
    // client re-subscribes by itself after a reconnect. Events can still be missed: callers rescan.
    const subs: Subscription[] = subjects.map((subject) =>
      this.conn.subscribe(subject, {
        callback: () => {
          onChange();
        },
      }),
    );
    return () => {
      for (const s of subs) {
        try {
          s.unsubscribe();
        } catch {
          // the connection is already closed
        }
      }
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.held.clear();
    const nc = this.nc;
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.idleTimer);
      lane.pull?.finish(new Error("the blackboard was closed"));
      for (const w of lane.waiting.splice(0)) w.resolve(undefined);
      // Doorbells fetched ahead go back at once rather than after their ack wait.
      for (const msg of lane.buffer.splice(0))
        if (msg.reply && nc && !nc.isClosed()) {
          try {
            nc.publish(msg.reply, "-NAK");
          } catch {
            // gone anyway: they come back after the ack wait
          }
        }
    }
    this.lanes.clear();
    this.nc = undefined;
    this.wire?.close();
    if (nc && !nc.isClosed()) await nc.close().catch(() => {});
  }
}

// ── helpers ─────────────────────────────────────────────────────────────────

function rejectLater(): { promise: Promise<never>; reject: (error: Error) => void } {
  let reject!: (error: Error) => void;
  const promise = new Promise<never>((_, r) => {
    reject = r;
  });
  promise.catch(() => {}); // only ever raced against an operation
  return { promise, reject };
}

const ProgressWithClaim = TaskProgress.extend({ claim: z.string().optional() });

/** Unique per process and call: a random prefix and a counter (randomBytes per write showed in profiles). */
const UNIQUE_PREFIX = randomBytes(6).toString("hex");
let uniqueCounter = 0;
function newToken(): string {
  uniqueCounter++;
  return UNIQUE_PREFIX + uniqueCounter.toString(16).padStart(6, "0");
}

/** Why a record cannot be trusted as the task stored under `key`, if it cannot. */
function inconsistent(record: NatsTaskRecord, key: string): string | undefined {
  const request = record.request;
  if (request.id !== key || request.route.node !== record.node)
    return `holds task ${request.id} for node ${request.route.node}, but lies at ${record.node}/${truncateName(key)}`;
  if (record.state === "claimed" && !record.claim) return "is claimed but names no claim";
  if (record.state === "finished" && !record.outcome) return "is finished but has no outcome";
  return undefined;
}

/** JSON of a record with a `text`, its text cut (and marked) so the whole fits in `limit` bytes. */
function fitText(record: { text?: string | undefined }, limit: number): string {
  const full = JSON.stringify(record);
  const size = Buffer.byteLength(full);
  if (size <= limit || record.text === undefined) return full;
  const marker = `\n[… cut by clawos: the whole text was ${size} bytes, over the blackboard's ${limit}-byte record limit]`;
  let lo = 0;
  let hi = record.text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const candidate = JSON.stringify({ ...record, text: record.text.slice(0, mid) + marker });
    if (Buffer.byteLength(candidate) <= limit) lo = mid;
    else hi = mid - 1;
  }
  return JSON.stringify({ ...record, text: record.text.slice(0, lo) + marker });
}

function isNoResponders(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (e instanceof NoRespondersError) return true;
  return false;
}

function isTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (e instanceof TimeoutError) return true;
  return false;
}

function isWrongLastSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE;
}

/** Errors a reconnect or a restarting server cures. */
function isTransient(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof TimeoutError || e instanceof NoRespondersError) return true;
    if (e instanceof JetStreamApiError) return e.status === 503 || e.code === 10008;
    if (
      /timeout|timed out|no responders|disconnect|reconnect|connection (closed|lost|refused)/i.test(e.message)
    )
      return true;
  }
  return false;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
