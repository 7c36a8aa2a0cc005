import type { KV, KvEntry } from "@nats-io/kv";
import { TimeoutError } from "@nats-io/transport-node";
import { isValidTaskId } from "../../domain/ids.js";
import type { RequeueOutcome } from "../types.js";
import type { NatsLink } from "./connection.js";
import { isNoResponders, isTransient, isWrongLastSequence } from "./js-errors.js";
import type { StoredEntry } from "./nats-wire.js";
import {
  type Held,
  type NatsTaskRecord,
  newWrite,
  type OkRead,
  type Plan,
  parseRecord,
  type Read,
  successor,
} from "./record.js";

/** Doorbells carry the record itself up to this size, saving the claimer a read. */
const DOORBELL_INLINE_MAX = 16 * 1024;

const decoder = new TextDecoder();

/**
 * The task records in the tasks bucket, and the writes that fence them: every state change
 * is one compare-and-set on the record's revision, and whichever CAS wins decides (a claim
 * races other claims; a finishing worker races the reaper; a zombie's CAS finds the revision
 * moved on). A retried write tells by its write id whether its first try landed after all.
 */
export class TaskRecords {
  constructor(readonly link: NatsLink) {}

  /** A record ready to write, stamped by this handle's clock. */
  write(record: Omit<NatsTaskRecord, "w" | "at">): NatsTaskRecord {
    return newWrite(record, this.link.stamp());
  }

  /** The next form of a task moved on by `plan` (see record.ts successor). */
  successor(record: NatsTaskRecord, plan: Plan): { next: NatsTaskRecord; outcome: RequeueOutcome } {
    return successor(record, plan, () => this.link.stamp());
  }

  async readTask(id: string): Promise<Read> {
    const entry = await this.link.io("read a task", () => this.lastTaskEntry(id));
    return entry ? parseRecord(id, entry) : { kind: "missing" };
  }

  private async lastTaskEntry(id: string): Promise<StoredEntry | KvEntry | undefined> {
    const { link } = this;
    const bucket = link.names.tasks;
    if (link.direct) return link.wire.last(`KV_${bucket}`, `$KV.${bucket}.${id}`);
    return (await link.kv.tasks.get(id)) ?? undefined;
  }

  private taskSubject(id: string): string {
    return `${this.link.kvWritePrefix}$KV.${this.link.names.tasks}.${id}`;
  }

  /** Compare-and-set a task record. Returns the new revision, or undefined if the record moved on. */
  async cas(id: string, next: NatsTaskRecord, rev: number): Promise<number | undefined> {
    const data = JSON.stringify(next);
    try {
      return await this.link.io("update a task", () =>
        this.link.wire.publish(this.taskSubject(id), data, { expectLastSubjectSequence: rev }),
      );
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      return this.landedAnyway(id, next);
    }
  }

  /** Create a task record that must not exist yet. Returns its revision, or undefined if the id is taken. */
  async createRecord(record: NatsTaskRecord, restoring = false): Promise<number | undefined> {
    const id = record.request.id;
    const data = JSON.stringify(record);
    const create = (over: number) =>
      this.link.io("create a task", () =>
        this.link.wire.publish(this.taskSubject(id), data, { expectLastSubjectSequence: over }),
      );
    try {
      return await create(0);
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
    }
    // Taken — unless only a delete marker is there, which a create may replace (but not the
    // marker of an archived task: its id stays taken).
    const now = await this.link.io("read a task", () => this.lastTaskEntry(id));
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

  /** The archived record of task `id`, if the coordinator archived it. */
  async readArchived(id: string): Promise<NatsTaskRecord | undefined> {
    const entry = await this.link.io("read the archive", () => this.link.kv.archive.get(id));
    if (!entry) return undefined;
    const read = parseRecord(id, entry);
    return read.kind === "ok" && read.record.state === "finished" ? read.record : undefined;
  }

  /** Publish the doorbell of a pending task. Deduplicated by msgID, so retries and recover() are idempotent. */
  async ring(record: NatsTaskRecord, rev: number): Promise<void> {
    const { link } = this;
    const id = record.request.id;
    const inline = JSON.stringify({ id, rev, record });
    const payload = inline.length <= DOORBELL_INLINE_MAX ? inline : JSON.stringify({ id, rev });
    const publish = () =>
      link.io(
        "publish to an inbox",
        () =>
          link.wire.publish(link.names.doorbell(record.node, id, record.request.priority), payload, {
            msgID: `${id}@${rev}`,
          }),
        (error) => isTransient(error) && !isNoResponders(error),
      );
    try {
      await publish();
    } catch (error) {
      if (!isNoResponders(error)) throw error;
      // No stream takes the subject (it was deleted): make it again, then publish.
      await link.io("create the work stream", () => link.ensureWorkStream());
      await publish();
    }
  }

  /** Move a task on by `plan` with one CAS from `from`; "lost" if the record moved on first. */
  async move(id: string, from: Held, plan: Plan): Promise<RequeueOutcome> {
    const { next, outcome } = this.successor(from.record, plan);
    const rev = await this.cas(id, next, from.rev);
    if (rev === undefined) return "lost";
    if (from.record.state === "claimed") {
      // This move won over the claim holder: anything it published for this attempt is void.
      await this.link
        .io("void a result", () =>
          this.link.kv.results.purge(this.link.names.resultKey(id, from.record.request.attempt)),
        )
        .catch(() => {});
      await this.dropProgress(id);
    }
    if (next.state === "pending") await this.ring(next, rev);
    return outcome;
  }

  /** Create results/<key>; undefined if it exists (unless it is this very write, landed by an earlier try). */
  async createResult(key: string, data: string): Promise<number | undefined> {
    const { link } = this;
    try {
      return await link.io("publish a result", () => link.kv.results.create(key, data));
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      const now = await link.io("read a result", () => link.kv.results.get(key));
      return now?.operation === "PUT" && decoder.decode(now.value) === data ? now.revision : undefined;
    }
  }

  async dropProgress(id: string): Promise<void> {
    await this.link.io("clear progress", () => this.link.kv.progress.purge(id)).catch(() => {});
  }

  /** Every current entry of a bucket (deleted keys come back as DEL/PURGE entries). */
  async scan(kv: KV): Promise<KvEntry[]> {
    return this.link.io("scan a bucket", async () => {
      const latest = new Map<string, KvEntry>();
      await drainWithin(await kv.history(), SCAN_DEADLINE_MS, (entry) => {
        const seen = latest.get(entry.key);
        if (!seen || seen.revision < entry.revision) latest.set(entry.key, entry);
      });
      return [...latest.values()];
    });
  }

  /** Current, well-formed task records. */
  async scanTasks(): Promise<OkRead[]> {
    const ok: OkRead[] = [];
    for (const entry of await this.scan(this.link.kv.tasks)) {
      if (!isValidTaskId(entry.key)) continue;
      const read = parseRecord(entry.key, entry);
      if (read.kind === "ok") ok.push(read);
    }
    return ok;
  }
}

/** A bucket is read in milliseconds; a read still going after this is stuck and is tried again. */
const SCAN_DEADLINE_MS = 10_000;

/**
 * Reads an iterator to its end, or stops it after `ms` and throws a timeout (transient: the
 * caller's `io` tries again). A history or key listing waits on an ordered consumer, which a
 * starved process can leave waiting for ever.
 */
export async function drainWithin<T>(
  iter: AsyncIterable<T> & { stop(err?: Error): void },
  ms: number,
  each: (item: T) => void,
): Promise<void> {
  let stuck = false;
  const timer = setTimeout(() => {
    stuck = true;
    iter.stop();
  }, ms);
  try {
    for await (const item of iter) each(item);
  } finally {
    clearTimeout(timer);
  }
  if (stuck) throw new TimeoutError();
}
