import { randomBytes } from "node:crypto";
import type { KvEntry } from "@nats-io/kv";
import { z } from "zod";
import { count } from "../../domain/plural.js";
import {
  NodeId,
  type RouteDecision,
  type TaskEvent,
  TaskProgress,
  TaskRequest,
  TaskResult,
} from "../../domain/schema.js";
import { truncateName } from "../names.js";
import type { RequeueOutcome } from "../types.js";
import { parseJsonRecord } from "./nats-untrusted.js";
import type { StoredEntry } from "./nats-wire.js";

/**
 * The task record on NATS (one KV entry per task, the single source of truth) and the pure
 * rules for reading it and for writing its next form. Every state change is one CAS of a
 * record made here; see nats.ts for the layout of buckets and streams.
 */

export const RECORD_SCHEMA = "clawos.nats-task/1";
/** Results up to this size (JSON bytes) are committed inside the task record. */
export const INLINE_RESULT_MAX = 64 * 1024;

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

/** What a doorbell carries: the task id, and the record as of the revision that rang it (when small). */
export const Doorbell = z.object({
  id: z.string(),
  rev: z.number().int().min(1).optional(),
  record: z.unknown(),
});

/** Progress as stored: the claim token says which claim wrote it. */
export const ProgressWithClaim = TaskProgress.extend({ claim: z.string().optional() });

export type Read =
  | { kind: "ok"; record: NatsTaskRecord; rev: number; created: number }
  | { kind: "missing" }
  | { kind: "malformed"; reason: string; rev: number };
export type OkRead = Extract<Read, { kind: "ok" }>;

/** A claim as its holder last wrote it. */
export interface Held {
  rev: number;
  record: NatsTaskRecord;
  /** This handle wrote progress for the claim (so finishing must clear it). */
  progressed?: boolean;
}

/** How to move a task on from its current state (see successor). */
export interface Plan {
  reroute?: RouteDecision;
  event: Omit<TaskEvent, "at">;
  /** Events of the attempt that ends here, recorded before `event` (see RequeueOptions). */
  earlier?: TaskEvent[];
  error?: TaskResult["error"];
  consumesAttempt: boolean;
  raiseMaxAttempts?: boolean;
  clearCancel?: boolean;
  via: string;
}

/** Unique per process and call: a random prefix and a counter (randomBytes per write showed in profiles). */
const UNIQUE_PREFIX = randomBytes(6).toString("hex");
let uniqueCounter = 0;
export function newToken(): string {
  uniqueCounter++;
  return UNIQUE_PREFIX + uniqueCounter.toString(16).padStart(6, "0");
}

/** A record ready to write: a fresh write id, stamped `at`. */
export function newWrite(record: Omit<NatsTaskRecord, "w" | "at">, at: string): NatsTaskRecord {
  return { ...record, w: newToken(), at };
}

/** Why a record cannot be trusted as the task stored under `key`, if it cannot. */
export function inconsistent(record: NatsTaskRecord, key: string): string | undefined {
  const request = record.request;
  if (request.id !== key || request.route.node !== record.node)
    return `holds task ${request.id} for node ${request.route.node}, but lies at ${record.node}/${truncateName(key)}`;
  if (record.state === "claimed" && !record.claim) return "is claimed but names no claim";
  if (record.state === "finished" && !record.outcome) return "is finished but has no outcome";
  return undefined;
}

/** Read a stored entry as the task record under `key`, without trusting it. */
export function parseRecord(key: string, entry: StoredEntry | KvEntry): Read {
  if (entry.operation !== "PUT") return { kind: "missing" };
  const parsed = parseJsonRecord(entry.value, NatsTaskRecord);
  if (!parsed.ok) return { kind: "malformed", reason: parsed.reason, rev: entry.revision };
  const record = parsed.value;
  const wrong = inconsistent(record, key);
  if (wrong) return { kind: "malformed", reason: wrong, rev: entry.revision };
  const created = typeof entry.created === "number" ? entry.created : entry.created.getTime();
  return { kind: "ok", record, rev: entry.revision, created };
}

/**
 * The next form of a task taken from its current state by `plan`: pending again (attempt + 1
 * if the plan consumes one, maybe elsewhere), or finished — cancelled if a cancel was asked
 * for, failed if no attempts are left. `stamp` is the writer's clock as an ISO string.
 */
export function successor(
  record: NatsTaskRecord,
  plan: Plan,
  stamp: () => string,
): { next: NatsTaskRecord; outcome: RequeueOutcome } {
  const at = stamp();
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
      next: newWrite(
        {
          ...record,
          state: "finished",
          cancelRequested,
          claim: undefined,
          outcome: { status, verdict },
          via: plan.via,
        },
        stamp(),
      ),
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
        message: `gave up after ${count(request.attempt, "attempt")}: ${plan.error?.message ?? plan.event.detail}`,
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
    history: [...request.history, ...(plan.earlier ?? []), { at, ...plan.event }].slice(-100),
  };
  return {
    next: newWrite(
      {
        schema: RECORD_SCHEMA,
        node: route.node,
        state: "pending",
        request: next,
        cancelRequested,
        via: plan.via,
      },
      stamp(),
    ),
    outcome: "requeued",
  };
}

/** JSON of a record with a `text`, its text cut (and marked) so the whole fits in `limit` bytes. */
export function fitText(record: { text?: string | undefined }, limit: number): string {
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
