import type { TaskProgress, TaskRequest, TaskResult, TaskState } from "../domain/schema.js";
import { localeOrder } from "../domain/text-order.js";
import type { Claim } from "./types.js";

/** Rules every driver applies the same way, written once. */

/** A count of zero for every task state (list() fills it in). */
export function emptyTaskCounts(): Record<TaskState, number> {
  return { pending: 0, claimed: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
}

/** A result completes only the claim of its own task and attempt: anything else is a bug in the caller. */
export function assertResultFitsClaim(claim: Claim, result: TaskResult): void {
  if (result.id !== claim.request.id || result.attempt !== claim.request.attempt) {
    throw new Error(
      `a result for ${result.id} attempt ${result.attempt} cannot complete the claim of ${claim.request.id} attempt ${claim.request.attempt}`,
    );
  }
}

/**
 * complete() of one claim at a time in this handle: a concurrent second complete() of the same
 * claim loses (false) instead of racing the first.
 */
export class OneCompletionPerClaim {
  private readonly finishing = new Set<string>();

  async run(claim: Claim, finish: () => Promise<boolean>): Promise<boolean> {
    if (this.finishing.has(claim.handle)) return false;
    this.finishing.add(claim.handle);
    try {
      return await finish();
    } finally {
      this.finishing.delete(claim.handle);
    }
  }
}

/** The reply so far of a claimed task, as both drivers store it. */
export function progressRecord(
  claim: Claim,
  text: string,
  startedAt: string,
  updatedAt: string,
  by?: string,
): TaskProgress {
  return {
    schema: "clawos.progress/1",
    id: claim.request.id,
    attempt: claim.request.attempt,
    node: claim.node,
    text,
    startedAt,
    updatedAt,
    ...(by ? { by } : {}),
  };
}

/** Newest first by creation time, then by id: what "the newest N finished tasks" means in every driver. */
export function newerFirst(a: TaskRequest, b: TaskRequest): number {
  return localeOrder(b.createdAt, a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * How many of `ids` (sorted newest id first) to read so that the newest `limit` by creation time
 * are among them: ids tell the second a task was made, not its order within that second, so the
 * ids sharing the last one's second are read too.
 */
export function readForNewest(ids: readonly string[], limit: number): number {
  if (limit >= ids.length) return ids.length;
  if (limit <= 0) return 0;
  const second = (id: string) => /^req_\d{8}_\d{6}/.exec(id)?.[0] ?? id;
  const edge = second(ids[limit - 1]!);
  let n = limit;
  while (n < ids.length && second(ids[n]!) === edge) n++;
  return n;
}
