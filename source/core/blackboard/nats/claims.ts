import type { Msg } from "@nats-io/transport-node";
import { isValidNodeId, isValidTaskId } from "../../domain/ids.js";
import { type TaskProgress, TaskRequest, TaskResult } from "../../domain/schema.js";
import { assertResultFitsClaim, OneCompletionPerClaim, progressRecord } from "../driver-rules.js";
import type { Claim, RequeueOptions, RequeueOutcome } from "../types.js";
import { mapLimit } from "./collections.js";
import type { DoorbellLanes, Lane } from "./lanes.js";
import {
  Doorbell,
  fitText,
  type Held,
  INLINE_RESULT_MAX,
  inconsistent,
  NatsTaskRecord,
  newToken,
  RECORD_SCHEMA,
  type Read,
} from "./record.js";
import type { TaskRecords } from "./records.js";

const CONCURRENCY = 32;
const decoder = new TextDecoder();

/**
 * Enqueue, claim and the claim holder's writes. A claim is the CAS that takes a pending record
 * to claimed with a fresh token; renew, complete and requeue are CASes from the revision the
 * holder last wrote (kept here, so they need no read), and a holder whose CAS finds the
 * revision moved on has lost its claim. JetStream acks are not fenced and decide nothing.
 */
export class Claims {
  /** Claims this handle holds: the record revision it last wrote, so renew/complete need no read. */
  private readonly held = new Map<string, Held>();
  private readonly completing = new OneCompletionPerClaim();

  constructor(
    private readonly store: TaskRecords,
    private readonly lanes: DoorbellLanes,
  ) {}

  /** Forget every claim (the handle is closing). */
  clear(): void {
    this.held.clear();
  }

  async enqueue(request: TaskRequest): Promise<{ created: boolean }> {
    const valid = TaskRequest.parse(request);
    const record = this.store.write({
      schema: RECORD_SCHEMA,
      node: valid.route.node,
      state: "pending",
      request: valid,
      cancelRequested: false,
      via: "enqueue",
    });
    const rev = await this.store.createRecord(record);
    if (rev === undefined) return { created: false };
    // A crash here leaves a pending record without a doorbell: recover() republishes it.
    await this.store.ring(record, rev);
    return { created: true };
  }

  async enqueueClaimed(request: TaskRequest): Promise<Claim | undefined> {
    const valid = TaskRequest.parse(request);
    const token = newToken();
    const record = this.store.write({
      schema: RECORD_SCHEMA,
      node: valid.route.node,
      state: "claimed",
      request: valid,
      cancelRequested: false,
      via: "enqueue-claimed",
      claim: { token, renewals: 0 },
    });
    const rev = await this.store.createRecord(record);
    if (rev === undefined) return undefined;
    this.held.set(token, { rev, record, progressed: false });
    return { request: valid, node: record.node, handle: token };
  }

  async pendingIds(node: string): Promise<string[]> {
    if (!isValidNodeId(node)) return [];
    const ids = await this.lanes.inboxIds(node);
    const reads = await mapLimit(ids, CONCURRENCY, (id) => this.store.readTask(id));
    return ids.filter((_, i) => {
      const read = reads[i]!;
      return read.kind === "ok" && read.record.state === "pending" && read.record.node === node;
    });
  }

  async claim(node: string, id?: string): Promise<Claim | undefined> {
    if (!isValidNodeId(node)) return undefined;
    if (id !== undefined) return isValidTaskId(id) ? this.claimRecord(node, id, undefined) : undefined;
    // Fast path: the node's consumers hand each doorbell to one claimer, most urgent lane first.
    for (let i = 0; i < 100; i++) {
      const got = await this.lanes.nextDoorbell(node);
      if (!got) break;
      const claim = await this.claimFromDoorbell(node, got.lane, got.msg);
      if (claim) return claim;
    }
    // Slow path: doorbells delivered to a claimer that died or timed out stay invisible until
    // their ack wait passes; the inbox listing still shows them, and the record decides.
    for (const candidate of await this.lanes.inboxIds(node)) {
      const claim = await this.claimRecord(node, candidate, undefined);
      if (claim) return claim;
    }
    return undefined;
  }

  private async claimFromDoorbell(node: string, lane: Lane, msg: Msg): Promise<Claim | undefined> {
    const prefix = lane.subjectPrefix;
    const id = msg.subject.startsWith(prefix) ? msg.subject.slice(prefix.length) : "";
    if (!isValidTaskId(id)) {
      this.lanes.ack(msg); // not a task doorbell at all
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
      this.lanes.ack(msg); // claimed, or stale: either way this doorbell is done
      return claim;
    } catch (error) {
      this.lanes.ack(msg, "-NAK"); // let another claimer try it
      throw error;
    }
  }

  /** Claim task `id` of `node` by CAS on its record (starting from `known`, if given). */
  private async claimRecord(node: string, id: string, known: Read | undefined): Promise<Claim | undefined> {
    let read = known ?? (await this.store.readTask(id));
    for (let i = 0; i < 5; i++) {
      if (read.kind !== "ok") return undefined;
      const { record } = read;
      if (record.state !== "pending" || record.node !== node || record.cancelRequested) return undefined;
      const token = newToken();
      const next = this.store.write({
        ...record,
        state: "claimed",
        claim: { token, renewals: 0 },
        via: "claim",
      });
      const rev = await this.store.cas(id, next, read.rev);
      if (rev !== undefined) {
        this.held.set(token, { rev, record: next, progressed: false });
        return { request: record.request, node, handle: token };
      }
      read = await this.store.readTask(id); // it changed meanwhile: look again
    }
    return undefined;
  }

  /** The record if `claim` still holds it, read fresh. */
  private async readHeld(claim: Claim): Promise<Held | undefined> {
    const read = await this.store.readTask(claim.request.id);
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
      const next = this.store.write({
        ...held.record,
        claim: { token: claim.handle, renewals: (held.record.claim?.renewals ?? 0) + 1 },
        via: "renew",
      });
      const rev = await this.store.cas(claim.request.id, next, held.rev);
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

  async progress(claim: Claim, text: string, startedAt: string, by?: string): Promise<void> {
    if (!(await this.readHeld(claim))) return; // lost: only the holder reports progress
    const { link } = this.store;
    const record: TaskProgress & { claim: string } = {
      ...progressRecord(claim, text, startedAt, link.stamp(), by),
      claim: claim.handle,
    };
    const data = fitText(record, link.maxRecordBytes);
    const cached = this.held.get(claim.handle);
    if (cached) cached.progressed = true;
    await link.io("write progress", () => link.kv.progress.put(claim.request.id, data));
  }

  async complete(claim: Claim, result: TaskResult): Promise<boolean> {
    assertResultFitsClaim(claim, result);
    return this.completing.run(claim, () => this.finish(claim, result));
  }

  private async finish(claim: Claim, result: TaskResult): Promise<boolean> {
    const { store } = this;
    const { link } = store;
    let held = this.held.get(claim.handle) ?? (await this.readHeld(claim));
    if (!held) return false; // lease already lost: do not even publish
    // Progress to clear: what this handle wrote, or (for a claim taken elsewhere) whatever is there.
    const clearProgress = held.progressed ?? true;
    const id = claim.request.id;
    const key = link.names.resultKey(id, claim.request.attempt);
    const valid = TaskResult.parse(result);
    // A small result is committed inside the record by the one CAS that finishes the task. A
    // large one is first created (once per attempt) in the results bucket, then committed by
    // the CAS naming its revision; if the CAS loses, the result never counts.
    let resultRevision: number | undefined;
    if (Buffer.byteLength(JSON.stringify(valid)) > INLINE_RESULT_MAX) {
      resultRevision = await store.createResult(key, fitText(valid, link.maxRecordBytes));
      if (resultRevision === undefined) return false; // this attempt already has a result
    }
    const outcome =
      resultRevision === undefined
        ? { status: result.status, result: valid }
        : { status: result.status, resultRevision };
    for (let i = 0; i < 5 && held; i++) {
      const next = store.write({
        ...held.record,
        state: "finished",
        claim: undefined,
        outcome,
        via: "complete",
      });
      if ((await store.cas(id, next, held.rev)) !== undefined) {
        this.held.delete(claim.handle);
        if (clearProgress) await store.dropProgress(id);
        return true;
      }
      held = await this.readHeld(claim); // a renewal of ours may have raced us: try again if still ours
    }
    // Lost (after publishing a large result: it does not count; take it back if still ours).
    this.held.delete(claim.handle);
    if (resultRevision !== undefined)
      await link
        .io("withdraw a result", () => link.kv.results.delete(key, { previousSeq: resultRevision }))
        .catch(() => {});
    return false;
  }

  async requeue(claim: Claim, options: RequeueOptions): Promise<RequeueOutcome> {
    let held = this.held.get(claim.handle) ?? (await this.readHeld(claim));
    for (let i = 0; i < 5 && held; i++) {
      const outcome = await this.store.move(claim.request.id, held, {
        ...(options.reroute ? { reroute: options.reroute } : {}),
        event: options.event,
        ...(options.earlier ? { earlier: options.earlier } : {}),
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
}
