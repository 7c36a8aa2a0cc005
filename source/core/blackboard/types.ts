import type { NodeDefinition } from "../domain/registry.js";
import type {
  NodeStatusRecord,
  RouteDecision,
  TaskEvent,
  TaskProgress,
  TaskRequest,
  TaskResult,
  TaskState,
} from "../domain/schema.js";

/** A claimed task: only its holder may renew, report progress on, complete or release it. */
export interface Claim {
  readonly request: TaskRequest;
  readonly node: string;
  /** Driver-private handle (a path for the directory driver). */
  readonly handle: string;
}

export interface StoredTask {
  request: TaskRequest;
  state: TaskState;
  node: string;
  result?: TaskResult;
  progress?: TaskProgress;
  cancelRequested: boolean;
}

export interface ListOptions {
  /** Read at most this many finished tasks (newest first); the rest are only counted. */
  finishedLimit?: number;
  /** Only pending and claimed tasks: finished ones are neither read nor counted (drivers may still). */
  activeOnly?: boolean;
}

export interface TaskListing {
  tasks: StoredTask[];
  counts: Record<TaskState, number>;
  problems: string[];
}

export interface RequeueOptions {
  /** Move to another node's inbox (coordinator or the current claim holder only). */
  reroute?: RouteDecision;
  event: Omit<TaskEvent, "at">;
  /** What the attempt being given back did before `event` (its start), recorded just before it. */
  earlier?: TaskEvent[];
  /** Failure to record if the task has no attempts left. */
  error?: TaskResult["error"];
  /**
   * false: the attempt did not fail, its runner stopped (Ctrl+C, a timeout, a worker shutting
   * down), so the task goes back with the same attempt number and can never run out of attempts
   * that way. Default true.
   */
  consumesAttempt?: boolean;
}

export type RequeueOutcome = "requeued" | "dead" | "lost" | "cancelled";

/** The shared store of requests, results and node status. Drivers: directory (default), nats. */
export interface Blackboard {
  readonly location: string;
  init(): Promise<void>;
  /** Deduplicated by id: a second enqueue of the same id changes nothing and returns created:false. */
  enqueue(request: TaskRequest): Promise<{ created: boolean }>;
  /** Enqueue and claim in one step, for a dispatcher that runs the task itself (localhost route). */
  enqueueClaimed(request: TaskRequest): Promise<Claim | undefined>;
  /** Claim one pending task of `node` (a specific one if `id` is given). */
  claim(node: string, id?: string): Promise<Claim | undefined>;
  pendingIds(node: string): Promise<string[]>;
  /** Active (pending, claimed or moving) tasks per node, as cheaply as the driver can count them. */
  activeCounts(): Promise<Map<string, number>>;
  /** Refresh the lease. false → the lease was lost (reaped): stop working on it. */
  renew(claim: Claim): Promise<boolean>;
  progress(claim: Claim, text: string, startedAt: string, by?: string): Promise<void>;
  /** Fenced: false if the claim was lost meanwhile, and then the result does not count. */
  complete(claim: Claim, result: TaskResult): Promise<boolean>;
  /** Give a claimed task back (attempt + 1), optionally to another node. */
  requeue(claim: Claim, options: RequeueOptions): Promise<RequeueOutcome>;
  get(id: string): Promise<StoredTask | undefined>;
  /** The ids of archived tasks (a listing of the whole archive: for an id typed in part that no live task has). */
  archivedIds(): Promise<string[]>;
  list(options?: ListOptions): Promise<TaskListing>;
  requestCancel(id: string): Promise<StoredTask>;
  isCancelRequested(id: string): Promise<boolean>;
  retry(id: string, reroute?: RouteDecision): Promise<StoredTask>;
  writeNodeStatus(record: NodeStatusRecord): Promise<void>;
  readNodeStatuses(): Promise<{ records: NodeStatusRecord[]; problems: string[] }>;
  /** Publish this machine's record of a node (the shared registry); refuses a record another machine owns. */
  writeNodeDefinition(record: NodeDefinition): Promise<void>;
  /** Every owner's node records, in one listing; bad ones are problem lines, never read as nodes. */
  readNodeDefinitions(): Promise<{ records: NodeDefinition[]; problems: string[] }>;
  /** Coordinator duties. */
  coordinator(): CoordinatorDuties;
  /**
   * Take or keep the coordinator lease for `holder` (call at least every leaseMs/3): true while
   * this handle holds it. Another holder's lease is taken over once it has not been renewed for
   * `leaseMs` as seen by this handle's clock. A driver with no shared lease (directory) always
   * answers false: its coordinator is named in the configuration instead.
   */
  coordinatorLease(holder: string, leaseMs: number): Promise<boolean>;
  /** Give the coordinator lease up (a worker stopping cleanly), so another takes over at once. */
  releaseCoordinatorLease(): Promise<void>;
  /** Wake-ups on changes (plus a slow rescan by the caller, since events can be dropped). */
  watch(scope: WatchScope, onChange: () => void): () => void;
  close(): Promise<void>;
}

export type WatchScope = { inboxOf: string } | { everything: true } | { task: string };

export interface ExpiredLease {
  id: string;
  node: string;
  outcome: RequeueOutcome;
}

export interface CoordinatorDuties {
  /** Requeue tasks whose lease has not been renewed for `leaseMs` as seen by this coordinator's clock. */
  reapExpired(leaseMs: number): Promise<ExpiredLease[]>;
  /** Finish interrupted moves and republish tasks a crashed dispatcher left half-enqueued. */
  recover(): Promise<string[]>;
  /** Move a pending task to another node's inbox. */
  reroutePending(id: string, from: string, decision: RouteDecision): Promise<boolean>;
  /** Move malformed files aside; returns what was moved and why. */
  quarantineMalformed(): Promise<string[]>;
}
