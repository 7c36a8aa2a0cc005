import { link, lstat, rmdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { HOUR_MS } from "../../domain/durations.js";
import { isErrnoException } from "../../domain/errors.js";
import { isValidNodeId, isValidTaskId } from "../../domain/ids.js";
import { NodeStatusRecord, type RouteDecision, TaskRequest } from "../../domain/schema.js";
import { diskError } from "../../infra/atomic-file.js";
import { LeaseWatch, leaseClockOf, machineKey } from "../lease-watch.js";
import type { ExpiredLease } from "../types.js";
import type { Archive } from "./archive.js";
import type { Claims } from "./claims.js";
import {
  claimedIdOf,
  type DirectoryLayout,
  misplaced,
  pendingIdOf,
  reapingNameOf,
  unlinkQuietly,
} from "./layout.js";
import { isSyncArtifact } from "./records.js";

/** The coordinator archives and sweeps stale temp files at most this often. */
const ARCHIVE_EVERY_MS = 10 * 60_000;

/** A temp file this old was left by a writer that crashed: recover() removes it. */
const STALE_TEMP_MS = HOUR_MS;

/** The coordinator's duties on a directory: reap expired leases, recover interrupted moves, reroute, quarantine, sweep. */
export class Coordinator {
  constructor(
    private readonly fs: DirectoryLayout,
    private readonly claims: Claims,
    private readonly archive: Archive,
  ) {
    // One file per machine: two coordinators (say, --coordinator given on two) never overwrite each other.
    const machine = fs.options.machine ?? hostname();
    const notes = fs.dir("coordinator", `lease-seen-${machineKey(machine)}.json`);
    this.leases = new LeaseWatch({
      machine,
      versionField: "mtimeMs",
      ...leaseClockOf(fs.options),
      store: {
        load: async () => {
          const read = fs.readNow(notes, z.unknown());
          return read.kind === "ok" ? read.value : undefined;
        },
        // Not flushed: losing it to a power cut only restarts the count of each lease.
        save: (json) => fs.writeAtomic(notes, json, { durable: false }),
      },
    });
  }

  /** The coordinator's lease observations, kept in coordinator/lease-seen-<machine>.json between runs. */
  private readonly leases: LeaseWatch;

  /** When this instance last archived and swept temp files (see recover()). */
  private lastHousekeepingAt = Number.NEGATIVE_INFINITY;

  /**
   * Leases are judged by when *this* machine saw the claimed file's mtime change,
   * not by comparing mtimes with our clock, so skewed clocks never expire a lease early.
   */
  async reapExpired(leaseMs: number): Promise<ExpiredLease[]> {
    await this.leases.beginRound();
    const expired: ExpiredLease[] = [];
    for (const node of await this.fs.nodeDirs("claimed")) {
      for (const name of await this.fs.listIn(this.fs.dir("claimed", node))) {
        const id = claimedIdOf(name);
        if (!id) continue;
        const path = this.fs.dir("claimed", node, name);
        let mtimeMs: number;
        try {
          mtimeMs = (await lstat(path)).mtimeMs;
        } catch {
          continue;
        }
        const still = this.leases.unrenewedFor(path, mtimeMs);
        if (still === undefined || still < leaseMs) continue;
        const read = await this.fs.readRequestAt(path, node, id);
        if (read.kind !== "ok") continue;
        const outcome = await this.claims.moveThroughReaping(path, node, read.value, {
          intent: "requeue",
          event: {
            event: "lease-expired",
            detail: `its lease on ${node} was not renewed for ${Math.round(still / 1000)} s: the process running attempt ${read.value.attempt} (a worker or a dispatcher) is gone`,
          },
          error: {
            kind: "lease_expired",
            message: `the process running it on ${node} (a worker or a dispatcher) stopped renewing its lease`,
          },
          fromClaim: true,
        });
        this.leases.forget(path);
        // A reap that lost its race is reported too: the caller logs what became of each lease.
        expired.push({ id: read.value.id, node, outcome });
      }
    }
    await this.leases.endRound();
    return expired;
  }

  /** Temp files a crashed writer left behind (hours old), and the emptied per-process temp directories. */
  async sweepTemp(): Promise<void> {
    const cutoff = this.fs.now() - STALE_TEMP_MS;
    // lstat, and listIn() checks each directory: a link planted in tmp/ is neither entered nor followed.
    const sweep = async (dir: string, depth: number) => {
      for (const name of await this.fs.listIn(dir)) {
        const path = join(dir, name);
        const st = await lstat(path).catch(() => undefined);
        if (!st) continue;
        if (st.isDirectory() && depth === 0) {
          await sweep(path, 1);
          if (name !== this.fs.tmpName && st.mtimeMs < cutoff) await rmdir(path).catch(() => {});
        } else if (!st.isFile()) {
          this.fs.confine.fileAt(path); // reported, left alone
        } else if (st.mtimeMs < cutoff) this.fs.unlinkFile(path);
      }
    };
    await sweep(this.fs.dir("tmp"), 0);
  }

  async recover(): Promise<string[]> {
    const notes: string[] = [];
    // Housekeeping that needs no faster pace than the archive's.
    const now = this.fs.now();
    if (now - this.lastHousekeepingAt >= ARCHIVE_EVERY_MS) {
      this.lastHousekeepingAt = now;
      await this.sweepTemp();
      notes.push(...(await this.archive.archiveFinished()));
    }
    const located = new Set<string>();
    for (const area of ["requests", "claimed", "done"]) {
      for (const node of await this.fs.nodeDirs(area)) {
        for (const name of await this.fs.listIn(this.fs.dir(area, node))) {
          const id = area === "claimed" ? claimedIdOf(name) : pendingIdOf(name);
          if (id) located.add(id);
        }
      }
    }
    const moving = new Set<string>();
    // 1. Moves interrupted between the fencing rename and the publish.
    for (const node of await this.fs.nodeDirs("reaping")) {
      for (const name of await this.fs.listIn(this.fs.dir("reaping", node))) {
        const parsed = reapingNameOf(name);
        if (!parsed) continue;
        const { id, intent, to } = parsed;
        moving.add(id);
        const path = this.fs.dir("reaping", node, name);
        if (await this.fs.inFlight(path)) continue;
        if (located.has(id)) {
          this.fs.unlinkFile(path); // published, but the crash came before the clean-up
          continue;
        }
        const read = await this.fs.read(path, TaskRequest, this.fs.now());
        if (read.kind !== "ok" || misplaced(read.value, id, node)) continue;
        const reroute =
          to && to !== read.value.route.node
            ? { ...read.value.route, node: to, reason: `${read.value.route.reason} (recovered move)` }
            : undefined;
        try {
          const outcome = await this.claims.finishReaping(path, node, read.value, {
            ...(reroute ? { reroute } : {}),
            event: { event: "recovered", detail: `finished an interrupted ${intent} after a crash` },
            consumesAttempt: intent === "requeue" || intent === "retry",
            raiseMaxAttempts: intent === "retry",
            fromClaim: intent === "requeue",
          });
          located.add(id);
          notes.push(`${id}: finished an interrupted ${intent} (${outcome})`);
        } catch (error) {
          if (!isErrnoException(error, "ENOENT")) throw error;
          // Someone else finished it meanwhile.
        }
      }
    }
    // 2. Dispatches that crashed after reserving the id but before publishing.
    for (const name of await this.fs.listIn(this.fs.dir("index"))) {
      const id = pendingIdOf(name);
      if (!id || located.has(id) || moving.has(id)) continue;
      const path = this.fs.dir("index", name);
      const read = await this.fs.read(path, TaskRequest, this.fs.now());
      if (read.kind !== "ok" || read.value.id !== id || (await this.fs.inFlight(path))) continue;
      const dest = this.fs.requestPath("requests", read.value.route.node, id);
      this.fs.checkWritable(dest);
      const tmp = await this.fs.writeTemp(dest, JSON.stringify(read.value));
      try {
        await link(tmp, dest); // never over a copy someone else republished meanwhile
        notes.push(`${id}: republished a task whose dispatch was interrupted`);
      } catch (error) {
        if (!isErrnoException(error, "EEXIST")) throw diskError(error, dest);
      } finally {
        unlinkQuietly(tmp);
      }
    }
    // What was left alone is reported by the coordinator's handle, the one whose notes are logged.
    const leftAlone = this.fs.confine.takeNotes();
    return this.fs.options.quarantine ? [...notes, ...leftAlone] : notes;
  }

  async reroutePending(id: string, from: string, decision: RouteDecision): Promise<boolean> {
    if (!isValidNodeId(from) || !isValidTaskId(id)) return false;
    const path = this.fs.requestPath("requests", from, id);
    const read = await this.fs.readRequestAt(path, from, id);
    if (read.kind !== "ok") return false;
    const outcome = await this.claims.moveThroughReaping(path, from, read.value, {
      intent: `reroute-${decision.node}`,
      reroute: decision,
      event: { event: "rerouted", detail: `moved from ${from} to ${decision.node}: ${decision.reason}` },
      consumesAttempt: false,
    });
    return outcome === "requeued";
  }

  async quarantineMalformed(): Promise<string[]> {
    const moved: string[] = [];
    const check = async (dir: string, validate: (name: string) => Promise<string | undefined>) => {
      for (const name of await this.fs.listIn(dir)) {
        if (isSyncArtifact(name)) continue;
        const reason = await validate(name);
        if (reason && (await this.fs.maybeQuarantine(join(dir, name), reason)))
          moved.push(`${join(dir, name).slice(this.fs.root.length + 1)}: ${reason}`);
      }
    };
    const requestCheck = (area: "requests" | "claimed", node: string) => async (name: string) => {
      const id = area === "claimed" ? claimedIdOf(name) : pendingIdOf(name);
      if (!id) return "not a task file name (expected <task id>.json)";
      const read = await this.fs.read(this.fs.dir(area, node, name), TaskRequest, this.fs.now());
      if (read.kind === "malformed" || read.kind === "unreadable") return read.reason;
      if (read.kind === "ok") return misplaced(read.value, id, node);
      return undefined;
    };
    for (const area of ["requests", "claimed"] as const) {
      for (const node of await this.fs.nodeDirs(area))
        await check(this.fs.dir(area, node), requestCheck(area, node));
    }
    await check(this.fs.dir("node-status"), async (name) => {
      if (!name.endsWith(".json")) return "not a node status file name";
      const read = await this.fs.read(this.fs.dir("node-status", name), NodeStatusRecord, this.fs.now());
      return read.kind === "malformed" || read.kind === "unreadable" ? read.reason : undefined;
    });
    return moved;
  }
}
