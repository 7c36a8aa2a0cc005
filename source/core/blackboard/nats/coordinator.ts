import { hostname } from "node:os";
import { DAY_MS, formatAge, HOUR_MS } from "../../domain/durations.js";
import { isValidNodeId, isValidTaskId } from "../../domain/ids.js";
import { count } from "../../domain/plural.js";
import type { RouteDecision } from "../../domain/schema.js";
import { LeaseWatch, leaseClockOf, machineKey } from "../lease-watch.js";
import type { CoordinatorDuties, ExpiredLease } from "../types.js";
import { archiveTask, purgeOldMarkers } from "./archive.js";
import type { DoorbellLanes } from "./lanes.js";
import type { NatsTaskRecord, OkRead } from "./record.js";
import type { TaskRecords } from "./records.js";
import { quarantineMalformed } from "./set-aside.js";

/** A leftover younger than this (by its server timestamp) may belong to an operation still in flight. */
const IN_FLIGHT_GRACE_MS = 5_000;
/** At most this many tasks are archived per coordinator round (the rest wait for the next). */
const ARCHIVE_BATCH = 500;

/** Key in the leases bucket for the coordinator's lease notes (lease-watch.ts), per machine. */
const LEASE_NOTES_KEY = "lease-seen";

const decoder = new TextDecoder();

/**
 * The coordinator's duties on NATS: reap expired leases, recover lost or stale doorbells,
 * archive old finished tasks, reroute pending tasks, set malformed records aside. Each is a
 * CAS on the record, so two coordinators at once are harmless.
 */
export class NatsCoordinator {
  /** What this machine saw of each claim's lease, kept in the leases bucket between runs. */
  private readonly leases: LeaseWatch;
  /** When the coordinator last dropped old delete markers of archived tasks. */
  private markersPurgedAt = 0;

  constructor(
    private readonly store: TaskRecords,
    private readonly lanes: DoorbellLanes,
  ) {
    const { link } = store;
    const machine = link.options.machine ?? hostname();
    // One key per machine: two coordinators (say, --coordinator given on two) never overwrite each other.
    const key = `${LEASE_NOTES_KEY}.${machineKey(machine)}`;
    this.leases = new LeaseWatch({
      machine,
      versionField: "rev",
      ...leaseClockOf(link.options),
      store: {
        load: async () => {
          const entry = await link.kv.leases.get(key);
          return entry?.operation === "PUT" ? JSON.parse(decoder.decode(entry.value)) : undefined;
        },
        save: async (json) => {
          await link.kv.leases.put(key, json);
        },
      },
    });
  }

  duties(): CoordinatorDuties {
    return {
      reapExpired: (leaseMs) => this.reapExpired(leaseMs),
      recover: () => this.recover(),
      reroutePending: (id, from, decision) => this.reroutePending(id, from, decision),
      quarantineMalformed: () => quarantineMalformed(this.store),
    };
  }

  /**
   * Leases are judged by when *this* coordinator saw the record's revision change (every
   * renewal is a CAS, so it changes the revision), never by comparing timestamps across
   * machines: skewed clocks never expire a lease early (lease-watch.ts).
   */
  private async reapExpired(leaseMs: number): Promise<ExpiredLease[]> {
    await this.leases.beginRound();
    const expired: ExpiredLease[] = [];
    for (const read of await this.store.scanTasks()) {
      const { record, rev } = read;
      if (record.state !== "claimed") continue;
      const id = record.request.id;
      const still = this.leases.unrenewedFor(id, rev);
      if (still === undefined || still < leaseMs) continue;
      const outcome = await this.store.move(id, read, {
        event: {
          event: "lease-expired",
          detail: `its lease on ${record.node} was not renewed for ${Math.round(still / 1000)} s: the process running attempt ${record.request.attempt} (a worker or a dispatcher) is gone`,
        },
        error: {
          kind: "lease_expired",
          message: `the process running it on ${record.node} (a worker or a dispatcher) stopped renewing its lease`,
        },
        consumesAttempt: true,
        via: "lease-expired",
      });
      this.leases.forget(id);
      // A reap that lost its race is reported too: the caller logs what became of each lease.
      expired.push({ id, node: record.node, outcome });
    }
    await this.leases.endRound();
    return expired;
  }

  /**
   * Republish the doorbells of pending tasks that have none (a dispatch, requeue, reroute or
   * retry died between its deciding CAS and its publish), and drop doorbells of tasks that
   * have moved on. Leftovers younger than a few seconds may still be in flight: left alone
   * (and republishing is deduplicated by msgID anyway). Then archive old finished tasks.
   */
  private async recover(): Promise<string[]> {
    const { store } = this;
    const { link } = store;
    const now = link.now();
    const notes: string[] = [];
    const info = await link.io("list the inboxes", () =>
      link.jsm.streams.info(link.names.workStream, { subjects_filter: link.names.workSubjects }),
    );
    const rung = new Set(Object.keys(info.state.subjects ?? {}));
    const records = new Map<string, NatsTaskRecord>();
    const old: OkRead[] = [];
    const archiveAfter = link.options.archiveAfterMs ?? 7 * DAY_MS;
    for (const read of await store.scanTasks()) {
      const { record, rev, created } = read;
      records.set(record.request.id, record);
      if (record.state === "finished" && now - created >= archiveAfter && old.length < ARCHIVE_BATCH)
        old.push(read);
      if (record.state !== "pending" || record.cancelRequested) continue;
      if (rung.has(link.names.doorbell(record.node, record.request.id, record.request.priority))) continue;
      // Only a record the server stored moments ago by our clock may be in flight: a server
      // clock ahead of ours must not hold a task without its doorbell (republishing is deduplicated).
      if (created <= now && now - created < IN_FLIGHT_GRACE_MS) continue;
      await store.ring(record, rev);
      notes.push(
        `${record.request.id}: republished to ${record.node}'s inbox after an interrupted ${record.via}`,
      );
    }
    await this.dropStaleDoorbells(rung, records);
    let archived = 0;
    for (const read of old) if (await archiveTask(store, read)) archived++;
    if (archived)
      notes.push(`archived ${count(archived, "task")} finished over ${formatAge(archiveAfter)} ago`);
    // Checked at most once an hour.
    if (now - this.markersPurgedAt >= HOUR_MS) {
      this.markersPurgedAt = now;
      await purgeOldMarkers(store);
    }
    return notes;
  }

  /** Doorbells of tasks that were claimed, finished or moved meanwhile: clean up, quietly. */
  private async dropStaleDoorbells(rung: Set<string>, records: Map<string, NatsTaskRecord>): Promise<void> {
    const prefix = `${this.store.link.names.prefix}.tasks.`;
    for (const subject of rung) {
      const [node, priority, id, ...rest] = subject.slice(prefix.length).split(".");
      if (!node || !id || rest.length || !isValidTaskId(id)) continue;
      const record = records.get(id);
      if (!record) continue; // maybe an enqueue in flight; a doorbell without a record is harmless
      if (record.state === "pending" && record.node === node && record.request.priority === priority)
        continue;
      await this.lanes.dropDoorbells(subject);
    }
  }

  private async reroutePending(id: string, from: string, decision: RouteDecision): Promise<boolean> {
    if (!isValidNodeId(from) || !isValidTaskId(id) || !isValidNodeId(decision.node)) return false;
    const read = await this.store.readTask(id);
    if (read.kind !== "ok" || read.record.state !== "pending" || read.record.node !== from) return false;
    const outcome = await this.store.move(id, read, {
      reroute: decision,
      event: { event: "rerouted", detail: `moved from ${from} to ${decision.node}: ${decision.reason}` },
      consumesAttempt: false,
      via: "reroute",
    });
    return outcome === "requeued";
  }
}
