import type { TaskRequest, TaskResult } from "../domain/schema.js";
import type { Blackboard, Claim, RequeueOptions, RequeueOutcome } from "./types.js";

/** What a driver's claims module does: publishing, claiming, and the claim holder's calls. */
export type ClaimOperations = Pick<
  Blackboard,
  "enqueue" | "enqueueClaimed" | "pendingIds" | "claim" | "renew" | "progress" | "complete" | "requeue"
>;

/** Both drivers hand the claim protocol to their own claims module; the forwarding is written once. */
export abstract class ForwardsClaims {
  protected abstract readonly claims: ClaimOperations;

  enqueue(request: TaskRequest): Promise<{ created: boolean }> {
    return this.claims.enqueue(request);
  }
  enqueueClaimed(request: TaskRequest): Promise<Claim | undefined> {
    return this.claims.enqueueClaimed(request);
  }
  pendingIds(node: string): Promise<string[]> {
    return this.claims.pendingIds(node);
  }
  claim(node: string, id?: string): Promise<Claim | undefined> {
    return this.claims.claim(node, id);
  }
  renew(claim: Claim): Promise<boolean> {
    return this.claims.renew(claim);
  }
  progress(claim: Claim, text: string, startedAt: string, by?: string): Promise<void> {
    return this.claims.progress(claim, text, startedAt, by);
  }
  complete(claim: Claim, result: TaskResult): Promise<boolean> {
    return this.claims.complete(claim, result);
  }
  requeue(claim: Claim, options: RequeueOptions): Promise<RequeueOutcome> {
    return this.claims.requeue(claim, options);
  }
}
