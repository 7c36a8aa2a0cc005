import { type FSWatcher, watch } from "node:fs";
import { rmdir } from "node:fs/promises";
import { hostname } from "node:os";
import { attemptEvents } from "../../domain/history.js";
import { isValidNodeId } from "../../domain/ids.js";
import { NodeDefinition } from "../../domain/registry.js";
import { NodeStatusRecord, type RouteDecision } from "../../domain/schema.js";
import { BlackboardError } from "../errors.js";
import { heartbeatNotAfter } from "../foreign-time.js";
import { ForwardsClaims } from "../forwards-claims.js";
import { requireTask, truncateName } from "../names.js";
import { misfiled, ownerKey, ownRecord } from "../node-registry.js";
import type {
  Blackboard,
  CoordinatorDuties,
  ListOptions,
  StoredTask,
  TaskListing,
  WatchScope,
} from "../types.js";
import { Archive } from "./archive.js";
import { Claims } from "./claims.js";
import { Coordinator } from "./coordinator.js";
import { archiveDayOf, DirectoryLayout, type DirectoryOptions, problemOf } from "./layout.js";
import { Listing } from "./listing.js";
import { isSyncArtifact } from "./records.js";

/**
 * The default blackboard: a directory, shareable by a synced folder (its layout and protocol
 * are described in layout.ts). This class wires the driver's modules: layout (paths and safe
 * file operations), claims (publish, claim, finish, the fenced moves), listing (get, list),
 * archive and coordinator.
 */
export class DirectoryBlackboard extends ForwardsClaims implements Blackboard {
  readonly location: string;
  private readonly fs: DirectoryLayout;
  protected readonly claims: Claims;
  private readonly archive: Archive;
  private readonly listing: Listing;
  private readonly duties: Coordinator;

  constructor(
    readonly root: string,
    options: DirectoryOptions = {},
  ) {
    super();
    this.location = root;
    this.fs = new DirectoryLayout(root, options);
    this.claims = new Claims(this.fs);
    this.archive = new Archive(this.fs);
    this.listing = new Listing(this.fs, this.archive);
    this.duties = new Coordinator(this.fs, this.claims, this.archive);
  }

  init(): Promise<void> {
    return this.fs.init();
  }
  activeCounts(): Promise<Map<string, number>> {
    return this.claims.activeCounts();
  }
  get(id: string): Promise<StoredTask | undefined> {
    return this.listing.get(id);
  }

  archivedIds(): Promise<string[]> {
    return this.archive.archivedIds();
  }
  list(options?: ListOptions): Promise<TaskListing> {
    return this.listing.list(options);
  }
  isCancelRequested(id: string): Promise<boolean> {
    return this.fs.isCancelRequested(id);
  }

  async requestCancel(id: string): Promise<StoredTask> {
    const task = await this.requireTask(id);
    if (task.state === "completed" || task.state === "failed" || task.state === "cancelled") {
      throw new BlackboardError({ code: "already_finished", id, state: task.state });
    }
    // Atomic: a write cut short (a full disk) must not leave a marker that cancels the task anyway.
    await this.fs.writeAtomic(this.fs.dir("cancel", id), new Date(this.fs.now()).toISOString());
    if (task.state === "pending") {
      const from = this.fs.requestPath("requests", task.node, id);
      await this.claims.moveThroughReaping(from, task.node, task.request, {
        intent: "cancel",
        event: { event: "cancelled", detail: "cancelled while pending" },
      });
    }
    // A claimed task is stopped by its worker, which watches for the cancel marker.
    return (await this.listing.get(id)) ?? task;
  }

  async retry(id: string, reroute?: RouteDecision): Promise<StoredTask> {
    const task = await this.requireTask(id);
    if (task.state !== "failed" && task.state !== "cancelled") {
      throw new BlackboardError({ code: "not_retryable", id, state: task.state });
    }
    this.fs.unlinkFile(this.fs.dir("cancel", id));
    const done = this.fs.requestPath("done", task.node, id);
    const from = this.fs.isFile(done) ? done : ((await this.archive.findArchived(id))?.path ?? done);
    const outcome = await this.claims.moveThroughReaping(from, task.node, task.request, {
      intent: reroute ? `retry-${reroute.node}` : "retry",
      ...(reroute ? { reroute } : {}),
      event: {
        event: "retried",
        detail: `by hand after ${task.state}: attempt ${task.request.attempt + 1} next`,
      },
      earlier: attemptEvents(task.request, task.node, task.result),
      raiseMaxAttempts: true,
    });
    // Taken out of the archive: that day's counts change.
    if (from !== done && outcome !== "lost") await this.archive.writeArchiveSummary(archiveDayOf(id));
    if (outcome === "lost") throw new BlackboardError({ code: "changed_while_retrying", id });
    return (await this.listing.get(id)) ?? task;
  }

  private requireTask(id: string): Promise<StoredTask> {
    return requireTask((task) => this.listing.get(task), id, `the blackboard at ${this.root}`);
  }

  async writeNodeStatus(record: NodeStatusRecord): Promise<void> {
    const valid = NodeStatusRecord.parse(record);
    const path = this.fs.dir("node-status", `${valid.node}.json`);
    // Something planted there is reported once (status lists it), not at every heartbeat.
    if (this.fs.confine.fileAt(path) === "foreign") return;
    await this.fs.writeAtomic(path, JSON.stringify(valid));
  }

  async readNodeStatuses(): Promise<{ records: NodeStatusRecord[]; problems: string[] }> {
    const records: NodeStatusRecord[] = [];
    const problems: string[] = [];
    for (const name of await this.fs.listIn(this.fs.dir("node-status"))) {
      if (isSyncArtifact(name) || !name.endsWith(".json")) continue;
      const now = this.fs.now();
      const read = await this.fs.read(this.fs.dir("node-status", name), NodeStatusRecord, now);
      // No later than the file landed here: a clock ahead (or a planted date) is not "alive for ever".
      if (read.kind === "ok" && read.value.node === name.slice(0, -5))
        records.push(heartbeatNotAfter(read.value, Math.min(read.ctimeMs, now)));
      else if (read.kind !== "ok" && problemOf(read))
        problems.push(`node-status/${truncateName(name)}: ${problemOf(read)}`);
      else if (read.kind === "ok")
        problems.push(`node-status/${truncateName(name)}: holds the status of node ${read.value.node}`);
    }
    return { records, problems };
  }

  async writeNodeDefinition(record: NodeDefinition): Promise<void> {
    const valid = ownRecord(record, this.machine);
    await this.fs.writeAtomic(
      this.fs.dir("registry", ownerKey(valid.owner), `${valid.id}.json`),
      JSON.stringify(valid),
    );
  }

  /**
   * registry/<owner>/<id>.json, one directory per owner. Never quarantined: moving a record
   * would write into another machine's directory, which only that machine writes.
   */
  async readNodeDefinitions(): Promise<{ records: NodeDefinition[]; problems: string[] }> {
    const records: NodeDefinition[] = [];
    const problems: string[] = [];
    const now = this.fs.now();
    for (const owner of await this.fs.listIn(this.fs.dir("registry"))) {
      if (isSyncArtifact(owner) || !/^[A-Za-z0-9_-]{1,100}$/.test(owner)) continue;
      for (const name of await this.fs.listIn(this.fs.dir("registry", owner))) {
        if (isSyncArtifact(name) || !name.endsWith(".json") || !isValidNodeId(name.slice(0, -5))) continue;
        const where = `registry/${owner}/${truncateName(name)}`;
        const read = this.fs.readNow(this.fs.dir("registry", owner, name), NodeDefinition, now);
        const wrong = read.kind === "ok" ? misfiled(read.value, owner, name.slice(0, -5)) : problemOf(read);
        if (wrong) problems.push(`${where}: ${wrong}`);
        else if (read.kind === "ok") records.push(read.value);
      }
    }
    return { records, problems };
  }

  private get machine(): string {
    return this.fs.options.machine ?? hostname();
  }

  coordinator(): CoordinatorDuties {
    return {
      reapExpired: (leaseMs) => this.duties.reapExpired(leaseMs),
      recover: () => this.duties.recover(),
      reroutePending: (id, from, decision) => this.duties.reroutePending(id, from, decision),
      quarantineMalformed: () => this.duties.quarantineMalformed(),
    };
  }

  /** No shared lease on a directory: its coordinator is the worker named so in the configuration. */
  async coordinatorLease(_holder: string, _leaseMs: number): Promise<boolean> {
    return false;
  }

  async releaseCoordinatorLease(): Promise<void> {}

  watch(scope: WatchScope, onChange: () => void): () => void {
    const watchers = new Map<string, FSWatcher>();
    let closed = false;
    if ("inboxOf" in scope && !isValidNodeId(scope.inboxOf)) return () => {};
    const add = (dir: string) => {
      // refresh() is asynchronous: once unwatched, it must not start new watchers.
      if (closed || watchers.has(dir)) return;
      try {
        // Non-recursive on purpose: recursive watching is slow on Linux (ARCHITECTURE.md §4).
        const w = watch(dir, { persistent: false }, () => {
          onChange();
          if (scope && "everything" in scope) void refresh();
        });
        w.on("error", () => {
          w.close();
          watchers.delete(dir);
        });
        watchers.set(dir, w);
      } catch {
        // Missing or unwatchable: the caller's rescan covers it.
      }
    };
    const refresh = async () => {
      if ("inboxOf" in scope) {
        try {
          this.fs.ensureDir(this.fs.inbox(scope.inboxOf));
        } catch {}
        add(this.fs.inbox(scope.inboxOf));
        add(this.fs.dir("cancel"));
        return;
      }
      for (const d of [
        "requests",
        "claimed",
        "done",
        "reaping",
        "results",
        "progress",
        "node-status",
        "registry",
        "cancel",
      ])
        add(this.fs.dir(d));
      for (const area of ["requests", "claimed", "done"])
        for (const n of await this.fs.nodeDirs(area)) add(this.fs.dir(area, n));
    };
    void refresh();
    return () => {
      closed = true;
      for (const w of watchers.values()) w.close();
      watchers.clear();
    };
  }

  async close(): Promise<void> {
    this.claims.inboxCache.clear();
    this.claims.inboxViews.clear();
    // Our temp directory is empty unless a write is still in flight; a crash leaves it to sweepTemp().
    const tmp = this.fs.namedTmpDir();
    if (tmp !== undefined && this.fs.knownDirs.delete(tmp)) await rmdir(tmp).catch(() => {});
  }
}
