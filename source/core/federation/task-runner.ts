import type { Blackboard, Claim } from "../blackboard/types.js";
import { describeError, UserError } from "../domain/errors.js";
import type {
  RouteDecision,
  TaskError,
  TaskEvent,
  TaskRequest,
  TaskResult,
  TokenUsage,
} from "../domain/schema.js";
import { NODE_FAULT_KINDS } from "../domain/turn-health.js";

/** The part of the gateway client a task run needs (lets tests and the SSH route plug in). */
export interface ChatRunner {
  chat(input: {
    text: string;
    user: string;
    signal?: AbortSignal;
    onDelta?: (delta: string) => void;
  }): Promise<{ text: string; model?: string; usage?: TokenUsage }>;
}

const CANCEL_CHECK_MS = 500;
const FIRST_PROGRESS_MS = 50;

export type RunOutcome =
  | { kind: "completed"; result: TaskResult }
  | { kind: "failed"; result: TaskResult }
  | { kind: "cancelled"; result: TaskResult }
  /** Retryable failure: given back to the blackboard (maybe to another node), or dead after max attempts. */
  | {
      kind: "requeued";
      error: TaskError;
      outcome: "requeued" | "dead" | "cancelled" | "lost";
      rerouted?: string;
      /** The turn never started (its gateway refused it): the task kept its attempt. */
      attemptKept?: boolean;
    }
  /** The lease was lost (reaped): our result, if any, did not count. */
  | { kind: "lost" };

export interface RunOptions {
  leaseMs: number;
  /** How often the reply so far is written to the blackboard. */
  progressEveryMs?: number;
  onDelta?: (delta: string) => void;
  /** Called for a retryable failure: where to send the task next (undefined = back to its own inbox). */
  rerouteOnFailure?: (error: TaskError) => Promise<RouteDecision | undefined>;
  /** Our own process is stopping: the attempt is given back (not failed), recorded with this event. */
  signal?: AbortSignal;
  stopEvent?: Omit<TaskEvent, "at">;
  /** Who claimed and runs it, for the task's history (see TaskResult.by). */
  by?: string;
  /**
   * A retryable failure, told before the task goes back to an inbox: a worker stops claiming for
   * the node then, or it could claim the task again before it hears of the failure.
   */
  onRetryableFailure?: (error: TaskError) => void;
}

/**
 * Records are read back only up to 1 MB, so a reply may take 900 KB of it *as stored*: JSON
 * escapes a quote or a control character into 2–6 bytes, so 600 KB of quotes is 1.2 MB on disk.
 * A longer reply is cut (never inside a surrogate pair) and says so.
 */
const MAX_REPLY_BYTES = 900_000;
const storedBytes = (text: string) => Buffer.byteLength(JSON.stringify(text));
export function fitForRecord(text: string): string {
  if (text.length <= MAX_REPLY_BYTES / 6 || storedBytes(text) <= MAX_REPLY_BYTES) return text;
  const note = `\n[… reply cut: ${Buffer.byteLength(text)} bytes is more than a task record holds]`;
  const budget = MAX_REPLY_BYTES - storedBytes(note);
  // The longest prefix that fits once escaped (binary search: ~20 encodings, only for huge replies).
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (storedBytes(text.slice(0, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  const last = text.charCodeAt(lo - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? lo - 1 : lo;
  return `${text.slice(0, end)}${note}`;
}

/** The session key OpenClaw keeps per `user`: stable across attempts so a retry continues the same session. */
export function sessionUserFor(taskId: string): string {
  return `clawos:${taskId}`;
}

function toTaskError(error: unknown): TaskError & { retryable: boolean; notStarted: boolean } {
  if (error instanceof UserError) {
    const retryable = "retryable" in error ? Boolean((error as { retryable?: boolean }).retryable) : false;
    // The gateway never took the request (GatewayError.notStarted): no turn ran.
    const notStarted = "notStarted" in error && (error as { notStarted?: boolean }).notStarted === true;
    const kind = "kind" in error ? String((error as { kind?: string }).kind) : error.code;
    return {
      kind,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      retryable,
      notStarted,
    };
  }
  return { kind: "internal", message: describeError(error), retryable: true, notStarted: false };
}

/**
 * A task whose claimed record is still being written (enqueueClaimed in flight). The
 * chat starts at once; nothing is recorded for it until `published` has settled.
 */
export interface PublishingClaim {
  readonly request: TaskRequest;
  readonly node: string;
  readonly published: Promise<Claim>;
}

/**
 * Run one claimed task on a gateway: keep the lease alive, stream the reply into
 * the task's progress record, honour cancel, and finish with a fenced completion.
 */
export async function runClaim(
  blackboard: Blackboard,
  source: Claim | PublishingClaim,
  gateway: ChatRunner,
  options: RunOptions,
): Promise<RunOutcome> {
  const { request } = source;
  const watch = watchClaim(blackboard, source, options);
  const { published, abort } = watch;
  const startedAt = new Date().toISOString();
  const started = Date.now();
  const progress = progressWriter(blackboard, published, startedAt, options);
  const finish = (status: TaskResult["status"], extra: Partial<TaskResult>): TaskResult => ({
    schema: "clawos.result/1" as const,
    id: request.id,
    attempt: request.attempt,
    node: source.node,
    startedAt,
    ...(options.by ? { by: options.by } : {}),
    status,
    ...extra,
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
  });
  const stopTimers = () => {
    watch.stop();
    progress.stop();
  };

  let answered = false;
  // A failed publish stops the chat: a task that is not on the blackboard must not run on.
  published.catch(() => abort.abort());
  try {
    const answer = await gateway.chat({
      text: request.text,
      user: sessionUserFor(request.id),
      signal: abort.signal,
      onDelta: (delta) => {
        progress.append(delta);
        options.onDelta?.(delta);
      },
    });
    answered = true;
    const held = await published;
    stopTimers();
    await progress.written();
    const result = finish("completed", {
      text: fitForRecord(answer.text),
      ...(answer.model ? { model: answer.model } : {}),
      ...(answer.usage ? { usage: answer.usage } : {}),
    });
    return (await blackboard.complete(held, result)) ? { kind: "completed", result } : { kind: "lost" };
  } catch (error) {
    stopTimers();
    await progress.written();
    // The agent answered but the blackboard refused its outcome (a full disk, say): not the task's
    // failure. The caller sees the error; the unrenewed lease runs out and the task is handed out again.
    if (answered) throw error;
    // Never published (a full disk, say): there is no record to finish; the caller reports the publish error.
    const held = await published;
    if (watch.lost()) return { kind: "lost" };
    return await settleFailure(blackboard, held, error, {
      request,
      cancelled: watch.cancelled(),
      reply: progress.text(),
      finish,
      options,
    });
  } finally {
    watch.detach();
  }
}

/**
 * While the chat runs: renew the lease and look for a cancel, and abort the chat when the lease
 * is lost, a cancel is asked for, or our own process stops. For a PublishingClaim the lease
 * renewals wait until its record is written.
 */
function watchClaim(blackboard: Blackboard, source: Claim | PublishingClaim, options: RunOptions) {
  const { request } = source;
  // Once published, `claim` is set; the lease, progress and cancel checks wait until then.
  let claim: Claim | undefined = "published" in source ? undefined : source;
  const published: Promise<Claim> =
    "published" in source
      ? source.published.then((c) => {
          claim = c;
          return c;
        })
      : Promise.resolve(source);
  const abort = new AbortController();
  let lost = false;
  let cancelled = false;

  const onOuterAbort = () => abort.abort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (options.signal?.aborted) abort.abort(); // stopped before we listened: an abort event never comes

  const renewEvery = Math.max(100, Math.floor(options.leaseMs / 3));
  const renewTimer = setInterval(() => {
    if (!claim) return;
    blackboard.renew(claim).then(
      (held) => {
        if (!held) {
          lost = true;
          abort.abort();
        }
      },
      () => {}, // a transient disk error: the next tick tries again; the lease is long enough
    );
  }, renewEvery);
  // Cancel is checked more often than the lease is renewed: a user waiting on `x` wants it to stop now.
  const cancelTimer = setInterval(() => {
    blackboard.isCancelRequested(request.id).then(
      (requested) => {
        if (requested) {
          cancelled = true;
          abort.abort();
        }
      },
      () => {},
    );
  }, CANCEL_CHECK_MS);
  return {
    published,
    abort,
    lost: () => lost,
    cancelled: () => cancelled,
    stop: () => {
      clearInterval(renewTimer);
      clearInterval(cancelTimer);
    },
    detach: () => options.signal?.removeEventListener("abort", onOuterAbort),
  };
}

/** The reply so far, written to the task's progress record every `everyMs` while it grows. */
function progressWriter(
  blackboard: Blackboard,
  published: Promise<Claim>,
  startedAt: string,
  { progressEveryMs: everyMs = 200, by }: Pick<RunOptions, "progressEveryMs" | "by">,
) {
  let reply = "";
  let dirty = true;
  let writing: Promise<void> = Promise.resolve();
  const flush = () => {
    if (!dirty) return writing;
    dirty = false;
    const text = reply;
    writing = writing.then(() =>
      published.then((c) => blackboard.progress(c, fitForRecord(text), startedAt, by)).catch(() => {}),
    );
    return writing;
  };
  const progressTimer = setInterval(flush, everyMs);
  // The first record marks the task running. Not at once: an answer back within this time needs
  // no progress record at all (one file created and removed less on the way to the result).
  const firstProgress = setTimeout(flush, FIRST_PROGRESS_MS);
  return {
    append: (delta: string) => {
      reply += delta;
      dirty = true;
    },
    text: () => reply,
    /** The writes asked for so far have settled. */
    written: () => writing,
    stop: () => {
      clearInterval(progressTimer);
      clearTimeout(firstProgress);
    },
  };
}

/** The chat failed (not after an answer): record it as cancelled, handed back, requeued or failed. */
async function settleFailure(
  blackboard: Blackboard,
  held: Claim,
  error: unknown,
  run: {
    request: TaskRequest;
    cancelled: boolean;
    reply: string;
    finish: (status: TaskResult["status"], extra: Partial<TaskResult>) => TaskResult;
    options: RunOptions;
  },
): Promise<RunOutcome> {
  const { request, reply, finish, options } = run;
  // The attempt's start is recorded only in its progress, which the move clears: keep it in the history.
  const started = finish("failed", {}).startedAt;
  const earlier: TaskEvent[] = started
    ? [{ at: started, event: "started", detail: `attempt ${request.attempt} on ${held.node}` }]
    : [];
  if (run.cancelled || (await blackboard.isCancelRequested(request.id).catch(() => false))) {
    const result = finish("cancelled", {
      ...(reply ? { text: fitForRecord(reply) } : {}),
      error: { kind: "cancelled", message: "cancelled by request" },
    });
    return (await blackboard.complete(held, result)) ? { kind: "cancelled", result } : { kind: "lost" };
  }
  const taskError = toTaskError(error);
  const { retryable, notStarted, ...plainError } = taskError;
  // A failure of the node rather than the task (its model has no key, say): an `any` task moves on.
  const nodeFault = request.target === "any" && NODE_FAULT_KINDS.has(plainError.kind);
  if ((retryable || nodeFault) && !options.signal?.aborted) {
    const reroute = await options.rerouteOnFailure?.(plainError);
    if (reroute || retryable) {
      // Its gateway is down (connection refused): no turn ran, so the task goes back to its inbox
      // keeping its attempt. Another process may still think that gateway is up and claim it
      // at once (its probe is seconds old); attempts must not run out in such a loop. The
      // claimer stops claiming until a probe says the gateway is back (ClaimLoop). A re-route
      // counts the attempt, so two down nodes can never pass a task back and forth for free.
      const keep = notStarted && !reroute;
      options.onRetryableFailure?.(plainError);
      const outcome = await blackboard.requeue(held, {
        ...(reroute ? { reroute } : {}),
        event: keep
          ? {
              event: "handed-back",
              detail: `attempt ${request.attempt} on ${held.node} did not start (attempt kept): ${plainError.message}`,
            }
          : {
              event: "attempt-failed",
              detail: `attempt ${request.attempt} on ${held.node}: ${plainError.message}${reroute ? `; re-routed to ${reroute.node}` : ""}`,
            },
        // Nothing started: no "started" event for it either.
        earlier: keep ? [] : earlier,
        error: plainError,
        ...(keep ? { consumesAttempt: false } : {}),
      });
      return {
        kind: "requeued",
        error: plainError,
        outcome,
        ...(reroute ? { rerouted: reroute.node } : {}),
        ...(keep ? { attemptKept: true } : {}),
      };
    }
  }
  if (options.signal?.aborted) {
    // Our own process is stopping: give the task back rather than fail it.
    const outcome = await blackboard.requeue(held, {
      event: options.stopEvent ?? {
        event: "handed-back",
        detail: `attempt ${request.attempt}: the worker of ${held.node} stopped during it`,
      },
      earlier,
      error: plainError,
      consumesAttempt: false, // nothing failed: it was stopped, so it keeps its attempt
    });
    return { kind: "requeued", error: plainError, outcome };
  }
  const result = finish("failed", { ...(reply ? { text: fitForRecord(reply) } : {}), error: plainError });
  return (await blackboard.complete(held, result)) ? { kind: "failed", result } : { kind: "lost" };
}

/** What a turn's outcome says about its node's model (run/turns/), if anything. */
export function turnFactOf(node: string, outcome: RunOutcome) {
  const error =
    outcome.kind === "requeued"
      ? outcome.error
      : outcome.kind === "failed"
        ? outcome.result.error
        : undefined;
  if (outcome.kind === "completed") return { node, ok: true } as const;
  if (!error) return undefined;
  return {
    node,
    ok: false,
    kind: error.kind,
    error: error.message,
    ...(error.hint ? { hint: error.hint } : {}),
  } as const;
}
