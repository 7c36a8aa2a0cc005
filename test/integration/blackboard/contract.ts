/**
 * The blackboard contract (ARCHITECTURE.md §4): every driver runs this one suite.
 *
 * Tests speak only through the `Blackboard` interface and its coordinator duties. What the
 * interface cannot express — a second handle on the same store (another worker, another
 * machine), claimers in other processes, and the leftovers of crashes, sync tools and foreign
 * writers — comes from the driver's fixture, each hook described in driver-neutral terms.
 *
 * Time: leases are judged by the coordinator's own clock, so tests move injected clocks
 * instead of sleeping, and never assert wall-clock durations.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { resolveTaskId } from "../../../source/core/blackboard/resolve-id.js";
import type { Blackboard, Claim, StoredTask } from "../../../source/core/blackboard/types.js";
import { completeHistory } from "../../../source/core/domain/history.js";
import type { NodeDefinition } from "../../../source/core/domain/registry.js";
import type {
  NodeStatusRecord,
  Priority,
  RouteDecision,
  TaskRequest,
  TaskResult,
} from "../../../source/core/domain/schema.js";

// ── what a driver's fixture provides ────────────────────────────────────────

export interface ConnectOptions {
  /** This handle's clock (ms since the epoch); defaults to the real one. */
  clock?: () => number;
  /** The clock its coordinator times leases by (the machine's monotonic one); defaults to `clock`. */
  leaseClock?: () => number;
  /** Let this handle set malformed records aside (the coordinator's `quarantineMalformed`). */
  quarantine?: boolean;
  /** The machine this handle speaks for (it writes only that machine's registry records). */
  machine?: string;
}

export type BadRecordKind =
  /** Valid JSON that fails the request schema. */
  | "wrong-schema"
  /** Invalid JSON, last written long ago: a broken file, not one still being written. */
  | "invalid-json-old"
  /** Invalid JSON written just now: may be a half-written copy from a non-atomic writer. */
  | "invalid-json-young"
  /** Over the 1 MB record limit. */
  | "huge"
  /** A valid request under a name that looks like a path (`..`, separators). */
  | "path-like-name"
  /** A valid request under a name far longer than any task id. */
  | "oversized-name"
  /** A valid request for another node, lying in this node's inbox. */
  | "misplaced"
  /** Something that is not a file at all where a task should be. */
  | "not-a-file";

export const BAD_RECORD_KINDS: readonly BadRecordKind[] = [
  "wrong-schema",
  "invalid-json-old",
  "invalid-json-young",
  "huge",
  "path-like-name",
  "oversized-name",
  "misplaced",
  "not-a-file",
];

export interface BadRecord {
  kind: BadRecordKind;
  /** A substring by which the driver's problem and quarantine reports name this record. */
  mentionedAs: string;
  /** Driver-private locator (a path for the directory driver). */
  where: string;
}

/** Leftovers of crashes, sync tools and foreign writers, written the way the driver's own code would. */
export interface StoreFaults {
  /** A worker published `result` for its claim, then died before committing it. */
  crashAfterResult(claim: Claim, result: TaskResult): Promise<void>;
  /** A requeue of `claim` (by its holder or the reaper) died right after the step that decides it, before republishing. */
  crashDuringRequeue(claim: Claim): Promise<void>;
  /** `reroutePending(id, from, to)` died right after the step that decides it, before republishing. */
  crashDuringReroute(id: string, from: string, to: RouteDecision): Promise<void>;
  /** A dispatcher reserved the id of `request` (the dedupe record), then died before publishing the task. */
  crashDuringDispatch(request: TaskRequest): Promise<void>;
  /**
   * Copies of `request` (not itself enqueued) and of a status record of `node` under the names sync
   * tools, editors and temp writers use (`*.tmp`, `*sync-conflict*`, `.icloud` stubs, dotfiles),
   * everywhere a reader looks. Returns locators for `stillThere`.
   */
  leaveSyncArtifacts(node: string, request: TaskRequest): Promise<string[]>;
  /** One bad record of `kind` among `node`'s pending tasks, built from `sample` (not itself enqueued). */
  leaveBadRecord(node: string, kind: BadRecordKind, sample: TaskRequest): Promise<BadRecord>;
  /**
   * Beside `owner`'s registry records: one that is not JSON, one failing the schema, one of
   * another node filed under `node`, one claiming another owner, and sync-tool copies of a valid
   * record `sample`. Each bad one holds `secret`, which must never be echoed.
   */
  leaveBadNodeDefinitions(owner: string, sample: NodeDefinition, secret: string): Promise<void>;
  /** Whether what was left at `where` is still there untouched (not quarantined, not consumed). */
  stillThere(where: string): Promise<boolean>;
  /** Records set aside so far, each with the reason given. */
  quarantined(): Promise<{ name: string; reason: string }[]>;
}

/** Claimers in separate processes, each on its own handle: ready, waiting for `go()`. */
export interface ClaimerProcesses {
  /** Start them all at once. Each claims and completes tasks of its node until none are left. */
  go(): void;
  /** The ids each process claimed and completed. Rejects if a process fails. */
  finished: Promise<string[][]>;
}

export interface DriverFixture {
  bb: Blackboard;
  /** Closes every handle and removes the store. */
  cleanup(): Promise<void>;
  /** Another handle on the same store, as another worker or machine would open it. */
  connect(options?: ConnectOptions): Promise<Blackboard>;
  spawnClaimers(node: string, processes: number): Promise<ClaimerProcesses>;
  faults: StoreFaults;
  /**
   * Records are written whole (a NATS KV value), so no reader ever sees half of one: a record
   * that does not parse is broken at once, whatever its age. There is then no "young, maybe
   * half-written" grace, and `invalid-json-young` is expected to be set aside like the old one.
   */
  recordsAreAtomic?: boolean;
  /** Kinds the driver reports but never moves, even to quarantine (the directory driver: what is not a regular file). */
  leftAlone?: readonly BadRecordKind[];
}

export type MakeDriver = (options: { clock?: () => number }) => Promise<DriverFixture>;

// ── helpers ─────────────────────────────────────────────────────────────────

/** A clock the test moves by hand. Starts at the real time so file timestamps look plausible. */
export class FakeClock {
  private t: number;
  constructor(start = Date.now()) {
    this.t = start;
  }
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

const LEASE_MS = 30_000;
const FIVE_MINUTES = 5 * 60_000;
/** Comfortably past any grace period a driver keeps before treating a leftover as abandoned. */
const LONG_AFTER = 10 * 60_000;

let counter = 0;
export function newId(): string {
  counter++;
  return `req_20260301_120000_${counter.toString(16).padStart(4, "0")}${randomBytes(2).toString("hex")}`;
}

export function route(node: string, reason = "test"): RouteDecision {
  return { node, transport: "blackboard", reason, decidedAt: "2026-03-01T12:00:00.000Z" };
}

export function makeRequest(
  options: {
    node?: string;
    id?: string;
    priority?: Priority;
    maxAttempts?: number;
    target?: string;
    text?: string;
    createdAt?: string;
  } = {},
): TaskRequest {
  const node = options.node ?? "alpha";
  return {
    schema: "clawos.task/1",
    id: options.id ?? newId(),
    target: options.target ?? node,
    priority: options.priority ?? "P2",
    text: options.text ?? "总结今天的日志 and say hello",
    tags: [],
    createdAt: options.createdAt ?? new Date().toISOString(),
    createdBy: "contract-test",
    attempt: 1,
    maxAttempts: options.maxAttempts ?? 3,
    route: route(node),
    history: [],
  };
}

export function resultFor(
  claim: Claim,
  status: TaskResult["status"] = "completed",
  text = `answer of attempt ${claim.request.attempt}`,
): TaskResult {
  return {
    schema: "clawos.result/1",
    id: claim.request.id,
    attempt: claim.request.attempt,
    node: claim.node,
    status,
    text,
    ...(status === "completed" ? {} : { error: { kind: status, message: `${status} by the test` } }),
    startedAt: "2026-03-01T12:00:01.000Z",
    finishedAt: "2026-03-01T12:00:02.000Z",
  };
}

async function mustGet(bb: Blackboard, id: string): Promise<StoredTask> {
  const task = await bb.get(id);
  assert.ok(task, `task ${id} should be on the blackboard`);
  return task;
}

async function mustClaim(bb: Blackboard, node: string, id?: string): Promise<Claim> {
  const claim = await bb.claim(node, id);
  assert.ok(claim, `node ${node} should be able to claim ${id ?? "a task"}`);
  return claim;
}

/** Claim until nothing is left; `complete` each claim if asked. */
async function drain(bb: Blackboard, node: string, complete = false): Promise<string[]> {
  const won: string[] = [];
  for (;;) {
    const claim = await bb.claim(node);
    if (!claim) {
      if ((await bb.pendingIds(node)).length === 0) return won;
      continue; // a peer took the candidates this pass saw; look again
    }
    won.push(claim.request.id);
    if (complete) assert.equal(await bb.complete(claim, resultFor(claim)), true);
  }
}

/** Each id appears in exactly one of the lists, and the lists together cover `ids`. */
function assertPartition(wins: string[][], ids: string[]): void {
  const all = wins.flat();
  const dupes = all.filter((id, i) => all.indexOf(id) !== i);
  assert.deepEqual(dupes, [], "no task is won twice");
  assert.deepEqual([...all].sort(), [...ids].sort(), "every task is won once");
}

/** Let the coordinator watch the lease, then let `ms` pass on its clock and reap. */
async function reapAfter(bb: Blackboard, clock: FakeClock, ms: number) {
  const first = await bb.coordinator().reapExpired(LEASE_MS);
  clock.advance(ms);
  return [...first, ...(await bb.coordinator().reapExpired(LEASE_MS))];
}

// ── the suite ───────────────────────────────────────────────────────────────

export function runBlackboardContract(name: string, makeDriver: MakeDriver): void {
  const withDriver = async (
    options: { clock?: () => number },
    body: (fx: DriverFixture) => Promise<void>,
  ): Promise<void> => {
    const fx = await makeDriver(options);
    try {
      await body(fx);
    } finally {
      await fx.cleanup();
    }
  };

  describe(`blackboard contract: ${name}`, () => {
    // ── the node registry ─────────────────────────────────────────────────
    test("registry: each machine writes only its own records, and every handle reads them all", async () => {
      await withDriver({}, async (fx) => {
        const hub = await fx.connect({ machine: "mac-mini" });
        const laptop = await fx.connect({ machine: "macbook-air" });
        await hub.writeNodeDefinition(definitionOf("mac-mini", "mac-mini"));
        await hub.writeNodeDefinition(definitionOf("mac-mini", "cloud-node", 1, { machine: "cloud" }));
        await laptop.writeNodeDefinition(definitionOf("macbook-air", "macbook-air"));
        await laptop.writeNodeDefinition(
          definitionOf("macbook-air", "cloud-node", 2, { machine: "macbook-air" }),
        );
        await assert.rejects(
          hub.writeNodeDefinition(definitionOf("macbook-air", "mac-mini")),
          (e: Error & { code?: string }) =>
            e.code === "not_owner" && /run it on macbook-air/.test(String((e as { hint?: string }).hint)),
        );
        // A machine's record of an id is one record: a newer generation replaces it.
        await hub.writeNodeDefinition(definitionOf("mac-mini", "cloud-node", 3, { state: "removed" }));
        for (const reader of [hub, laptop, fx.bb]) {
          const { records, problems } = await reader.readNodeDefinitions();
          assert.deepEqual(problems, []);
          assert.deepEqual(
            records
              .map((r) => `${r.owner}/${r.id}@${r.generation}:${r.state}:${r.node?.machine ?? "-"}`)
              .sort(),
            [
              "mac-mini/cloud-node@3:removed:-",
              "mac-mini/mac-mini@1:active:mac-mini",
              "macbook-air/cloud-node@2:active:macbook-air",
              "macbook-air/macbook-air@1:active:macbook-air",
            ],
          );
        }
      });
    });

    test("registry: bad or misfiled records and sync copies are never read as nodes, nor echoed", async () => {
      await withDriver({}, async (fx) => {
        const hub = await fx.connect({ machine: "mac-mini" });
        const good = definitionOf("mac-mini", "mac-mini");
        await hub.writeNodeDefinition(good);
        const secret = "sk-SECRET-do-not-echo";
        await fx.faults.leaveBadNodeDefinitions("mac-mini", good, secret);
        const { records, problems } = await fx.bb.readNodeDefinitions();
        assert.deepEqual(records, [good]);
        assert.equal(problems.length, 4, problems.join("\n"));
        assert.ok(
          problems.every((p) => !p.includes(secret) && !p.includes("\x1b")),
          problems.join("\n"),
        );
        assert.ok(problems.some((p) => /not valid JSON/.test(p)));
        assert.ok(problems.some((p) => /holds node/.test(p)));
        assert.ok(problems.some((p) => /another owner/.test(p)));
      });
    });

    // ── enqueue and claim ──────────────────────────────────────────────────
    test("a claim delivers the request as enqueued, on the node it was routed to", async () => {
      await withDriver({}, async ({ bb }) => {
        const request = makeRequest({ priority: "P1" });
        assert.deepEqual(await bb.enqueue(request), { created: true });
        assert.deepEqual(await bb.pendingIds("alpha"), [request.id]);
        const pending = await mustGet(bb, request.id);
        assert.equal(pending.state, "pending");
        assert.equal(pending.node, "alpha");
        assert.equal(pending.cancelRequested, false);

        const claim = await mustClaim(bb, "alpha");
        assert.equal(claim.node, "alpha");
        assert.deepEqual(claim.request, request);
        assert.equal((await mustGet(bb, request.id)).state, "claimed");
        assert.deepEqual(await bb.pendingIds("alpha"), []);
        assert.equal(await bb.claim("alpha"), undefined);

        assert.equal(await bb.complete(claim, resultFor(claim, "completed", "你好")), true);
        const done = await mustGet(bb, request.id);
        assert.equal(done.state, "completed");
        assert.equal(done.result?.text, "你好");
        assert.equal(done.result?.attempt, 1);
      });
    });

    test("list() counts tasks by state", async () => {
      await withDriver({}, async ({ bb }) => {
        const ids = [makeRequest(), makeRequest(), makeRequest(), makeRequest()];
        for (const r of ids) await bb.enqueue(r);
        const a = await mustClaim(bb, "alpha");
        const b = await mustClaim(bb, "alpha");
        const c = await mustClaim(bb, "alpha");
        assert.equal(await bb.complete(a, resultFor(a)), true);
        assert.equal(await bb.complete(b, resultFor(b, "failed")), true);
        const listing = await bb.list();
        assert.deepEqual(listing.problems, []);
        assert.equal(listing.tasks.length, 4);
        assert.deepEqual(listing.counts, {
          pending: 1,
          claimed: 1,
          running: 0,
          completed: 1,
          failed: 1,
          cancelled: 0,
        });
        assert.equal(listing.tasks.find((t) => t.request.id === c.request.id)?.state, "claimed");
      });
    });

    test("duplicate enqueue is delivered once: sequential, concurrent, and after the task finished", async () => {
      await withDriver({}, async (fx) => {
        const { bb } = fx;
        const request = makeRequest();
        assert.deepEqual(await bb.enqueue(request), { created: true });
        assert.deepEqual(await bb.enqueue(request), { created: false });
        assert.deepEqual(await bb.enqueue({ ...request, text: "a different text, same id" }), {
          created: false,
        });
        assert.equal(await bb.enqueueClaimed(request), undefined);

        const racing = makeRequest();
        const peers = [bb, await fx.connect(), await fx.connect(), await fx.connect()];
        const outcomes = await Promise.all(peers.map((p) => p.enqueue(racing)));
        assert.equal(outcomes.filter((o) => o.created).length, 1, "exactly one concurrent enqueue creates");

        const first = await mustClaim(bb, "alpha");
        const second = await mustClaim(bb, "alpha");
        assert.deepEqual([first.request.id, second.request.id].sort(), [request.id, racing.id].sort());
        assert.equal(first.request.text, request.id === first.request.id ? request.text : racing.text);
        assert.equal(await bb.claim("alpha"), undefined, "each id is delivered once");

        assert.equal(await bb.complete(first, resultFor(first)), true);
        assert.deepEqual(await bb.enqueue(first.request), { created: false }, "finished ids stay reserved");
        assert.deepEqual(await bb.pendingIds("alpha"), []);
        assert.equal((await bb.list()).tasks.filter((t) => t.request.id === first.request.id).length, 1);
      });
    });

    test("enqueueClaimed claims in one step, shares enqueue's dedupe, and its lease is reaped like any other", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb }) => {
        const request = makeRequest();
        const claim = await bb.enqueueClaimed(request);
        assert.ok(claim);
        assert.equal(claim.request.id, request.id);
        assert.equal(claim.node, "alpha");
        assert.equal((await mustGet(bb, request.id)).state, "claimed");
        assert.equal(await bb.enqueueClaimed(request), undefined);
        assert.deepEqual(await bb.enqueue(request), { created: false });
        assert.equal(await bb.claim("alpha"), undefined);

        const expired = await reapAfter(bb, clock, LEASE_MS + 1);
        assert.deepEqual(expired, [{ id: request.id, node: "alpha", outcome: "requeued" }]);
        assert.equal(await bb.complete(claim, resultFor(claim)), false);
        assert.equal((await mustClaim(bb, "alpha")).request.attempt, 2);
      });
    });

    // ── one winner ─────────────────────────────────────────────────────────
    test("one winner per task when several handles race to claim", async () => {
      await withDriver({}, async (fx) => {
        const ids: string[] = [];
        for (let i = 0; i < 60; i++) {
          const r = makeRequest({ priority: (["P0", "P1", "P2", "P3"] as const)[i % 4] });
          ids.push(r.id);
          await fx.bb.enqueue(r);
        }
        const handles = [
          fx.bb,
          await fx.connect(),
          await fx.connect(),
          await fx.connect(),
          await fx.connect(),
        ];
        const wins = await Promise.all(handles.map((h) => drain(h, "alpha")));
        assertPartition(wins, ids);
        assert.equal((await fx.bb.list()).counts.claimed, 60);
      });
    });

    test("one winner when several handles race to claim the same id", async () => {
      await withDriver({}, async (fx) => {
        const handles = [fx.bb, await fx.connect(), await fx.connect(), await fx.connect()];
        for (let round = 0; round < 10; round++) {
          const request = makeRequest();
          await fx.bb.enqueue(request);
          const claims = await Promise.all(handles.map((h) => h.claim("alpha", request.id)));
          assert.equal(claims.filter(Boolean).length, 1, `round ${round}: exactly one claim wins`);
        }
      });
    });

    test("one winner per task when claimers in separate processes race (with in-process claimers too)", async () => {
      await withDriver({}, async (fx) => {
        const ids: string[] = [];
        for (let i = 0; i < 150; i++) {
          const r = makeRequest();
          ids.push(r.id);
          await fx.bb.enqueue(r);
        }
        const processes = await fx.spawnClaimers("alpha", 3);
        const local = [await fx.connect(), await fx.connect()];
        processes.go();
        const [remote, ...mine] = await Promise.all([
          processes.finished,
          ...local.map((h) => drain(h, "alpha", true)),
        ]);
        assertPartition([...(remote as string[][]), ...(mine as string[][])], ids);
        const listing = await fx.bb.list();
        assert.equal(listing.counts.completed, 150, "every task completed, none twice");
        assert.equal(listing.tasks.length, 150);
        for (const task of listing.tasks) assert.equal(task.result?.attempt, 1);
      });
    });

    // ── routing and order ──────────────────────────────────────────────────
    test("per-node routing: a node claims only from its own inbox", async () => {
      await withDriver({}, async ({ bb }) => {
        const forAlpha = makeRequest({ node: "alpha" });
        const forBeta = makeRequest({ node: "beta", target: "any" });
        await bb.enqueue(forAlpha);
        await bb.enqueue(forBeta);
        assert.deepEqual(await bb.pendingIds("alpha"), [forAlpha.id]);
        assert.deepEqual(await bb.pendingIds("beta"), [forBeta.id]);
        assert.deepEqual(await bb.pendingIds("gamma"), []);
        assert.equal(await bb.claim("gamma"), undefined);
        assert.equal(await bb.claim("beta", forAlpha.id), undefined, "not even by id");

        const beta = await mustClaim(bb, "beta");
        assert.equal(beta.request.id, forBeta.id);
        assert.equal(beta.node, "beta");
        assert.equal(await bb.claim("beta"), undefined);
        assert.equal((await mustClaim(bb, "alpha")).request.id, forAlpha.id);
        assert.equal((await mustGet(bb, forBeta.id)).node, "beta");
      });
    });

    test("no FIFO assumption: every pending task is delivered exactly once, in whatever order", async () => {
      await withDriver({}, async ({ bb }) => {
        const ids: string[] = [];
        for (const priority of ["P3", "P1", "P0", "P2", "P3", "P0"] as const) {
          const r = makeRequest({ priority });
          ids.push(r.id);
          await bb.enqueue(r);
        }
        assert.deepEqual([...(await bb.pendingIds("alpha"))].sort(), [...ids].sort());
        assertPartition([await drain(bb, "alpha")], ids);
      });
    });

    test("the most urgent pending task is claimed first (P0 before P3), whatever order it arrived in", async () => {
      await withDriver({}, async (fx) => {
        const worker = await fx.connect();
        for (const priority of ["P3", "P2", "P3", "P1", "P2"] as const)
          await fx.bb.enqueue(makeRequest({ priority }));
        assert.equal((await mustClaim(worker, "alpha")).request.priority, "P1");
        // An urgent task dispatched while the others wait goes ahead of them (for a claimer that
        // looks afresh: a driver may reuse a listing for a moment).
        const urgent = makeRequest({ priority: "P0" });
        await fx.bb.enqueue(urgent);
        const next = await fx.connect();
        assert.equal((await mustClaim(next, "alpha")).request.id, urgent.id);
        const rest: string[] = [];
        for (let i = 0; i < 4; i++) rest.push((await mustClaim(next, "alpha")).request.priority);
        assert.deepEqual(rest, ["P2", "P2", "P3", "P3"]);
        assert.equal(await next.claim("alpha"), undefined);
      });
    });

    test("a dropped wake-up is covered by a rescan: claim finds work without any watch event", async () => {
      await withDriver({}, async (fx) => {
        const worker = await fx.connect();
        let events = 0;
        const stop = worker.watch({ inboxOf: "alpha" }, () => events++);
        stop(); // every later event is dropped
        assert.equal(await worker.claim("alpha"), undefined, "an empty inbox at first");
        const request = makeRequest();
        await fx.bb.enqueue(request);
        assert.deepEqual(await worker.pendingIds("alpha"), [request.id]);
        assert.equal((await mustClaim(worker, "alpha")).request.id, request.id);
        // A second dispatch the worker was never told about either.
        const later = makeRequest();
        await fx.bb.enqueue(later);
        assert.equal((await mustClaim(worker, "alpha")).request.id, later.id);
        assert.equal(events, 0);
      });
    });

    // ── leases ─────────────────────────────────────────────────────────────
    test("a coordinator that runs once at a time (cron) still reaps: each run remembers what the last one saw", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb, connect }) => {
        const request = makeRequest();
        await bb.enqueue(request);
        await mustClaim(bb, "alpha"); // its worker dies now and never renews
        const firstRun = await connect({ clock: clock.now });
        assert.deepEqual(
          await firstRun.coordinator().reapExpired(LEASE_MS),
          [],
          "first sight: not judged yet",
        );
        await firstRun.close();
        clock.advance(LEASE_MS + 1);
        const secondRun = await connect({ clock: clock.now });
        assert.deepEqual(await secondRun.coordinator().reapExpired(LEASE_MS), [
          { id: request.id, node: "alpha", outcome: "requeued" },
        ]);
        await secondRun.close();
      });
    });

    test("lease expiry redelivers the task with attempt + 1 and fences the old holder", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb }) => {
        const request = makeRequest();
        await bb.enqueue(request);
        const claim = await mustClaim(bb, "alpha");
        assert.deepEqual(await bb.coordinator().reapExpired(LEASE_MS), []);
        clock.advance(LEASE_MS / 2);
        assert.deepEqual(await bb.coordinator().reapExpired(LEASE_MS), [], "not expired yet");
        clock.advance(LEASE_MS / 2 + 1);
        assert.deepEqual(await bb.coordinator().reapExpired(LEASE_MS), [
          { id: request.id, node: "alpha", outcome: "requeued" },
        ]);

        const pending = await mustGet(bb, request.id);
        assert.equal(pending.state, "pending");
        assert.equal(pending.node, "alpha");
        assert.equal(pending.request.attempt, 2);
        assert.equal(pending.result, undefined);
        assert.equal(await bb.renew(claim), false, "the old holder learns it lost the lease");
        assert.equal(await bb.requeue(claim, { event: { event: "x", detail: "zombie requeue" } }), "lost");

        const again = await mustClaim(bb, "alpha");
        assert.equal(again.request.attempt, 2);
        assert.equal(again.request.text, request.text);
        assert.equal(await bb.complete(again, resultFor(again)), true);
        assert.equal((await mustGet(bb, request.id)).result?.attempt, 2);
      });
    });

    test("renewing the lease prevents expiry; it expires once renewals stop", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb }) => {
        const request = makeRequest();
        await bb.enqueue(request);
        const claim = await mustClaim(bb, "alpha");
        const co = bb.coordinator();
        assert.deepEqual(await co.reapExpired(LEASE_MS), []);
        for (let i = 0; i < 5; i++) {
          clock.advance(LEASE_MS * 0.6);
          assert.equal(await bb.renew(claim), true);
          assert.deepEqual(await co.reapExpired(LEASE_MS), [], `renewal ${i + 1} keeps the lease`);
        }
        clock.advance(LEASE_MS * 0.6);
        assert.deepEqual(await co.reapExpired(LEASE_MS), [], "less than a lease since the last renewal");
        clock.advance(LEASE_MS * 0.6);
        assert.deepEqual(await co.reapExpired(LEASE_MS), [
          { id: request.id, node: "alpha", outcome: "requeued" },
        ]);
        assert.equal(await bb.renew(claim), false);
      });
    });

    for (const skew of [FIVE_MINUTES, -FIVE_MINUTES]) {
      const label = skew > 0 ? "+5 min" : "-5 min";
      test(`a worker clock skewed ${label} never expires its lease early; the coordinator judges by when it saw the lease change`, async () => {
        const clock = new FakeClock();
        await withDriver({ clock: clock.now }, async (fx) => {
          const coordinator = fx.bb;
          const worker = await fx.connect({ clock: () => clock.now() + skew });
          const request = makeRequest();
          await coordinator.enqueue(request);
          const claim = await mustClaim(worker, "alpha");
          const co = coordinator.coordinator();
          assert.deepEqual(await co.reapExpired(LEASE_MS), [], "a lease just taken is never expired");
          for (let i = 0; i < 4; i++) {
            clock.advance(LEASE_MS * 0.5);
            assert.equal(await worker.renew(claim), true);
            assert.deepEqual(await co.reapExpired(LEASE_MS), [], `renewal ${i + 1} keeps the lease`);
          }
          clock.advance(LEASE_MS * 0.9);
          assert.deepEqual(await co.reapExpired(LEASE_MS), []);
          assert.equal((await mustGet(coordinator, request.id)).state, "claimed");
          // Renewals stop: the lease does expire, a lease after the last change the coordinator saw.
          clock.advance(LEASE_MS * 0.2);
          assert.deepEqual(await co.reapExpired(LEASE_MS), [
            { id: request.id, node: "alpha", outcome: "requeued" },
          ]);
        });
      });

      test(`a coordinator clock skewed ${label} against the worker's never expires a lease early`, async () => {
        const clock = new FakeClock();
        await withDriver({ clock: () => clock.now() + skew }, async (fx) => {
          const worker = await fx.connect({ clock: clock.now });
          const request = makeRequest();
          await worker.enqueue(request);
          const claim = await mustClaim(worker, "alpha");
          const co = fx.bb.coordinator();
          assert.deepEqual(await co.reapExpired(LEASE_MS), []);
          clock.advance(LEASE_MS * 0.9);
          assert.equal(await worker.renew(claim), true);
          assert.deepEqual(await co.reapExpired(LEASE_MS), []);
          clock.advance(LEASE_MS * 0.9);
          assert.deepEqual(await co.reapExpired(LEASE_MS), []);
          clock.advance(LEASE_MS * 0.2);
          assert.equal((await co.reapExpired(LEASE_MS)).length, 1);
        });
      });
    }

    test("two coordinators of one machine whose wall clocks disagree (one 5 min ahead) share their lease notes and never expire a lease early", async () => {
      const wall = new FakeClock();
      const machine = new FakeClock(1_000_000); // the machine's monotonic clock, one for all its processes
      await withDriver({ clock: wall.now }, async (fx) => {
        const request = makeRequest();
        await fx.bb.enqueue(request);
        await mustClaim(fx.bb, "alpha");
        const tick = (ms: number) => {
          wall.advance(ms);
          machine.advance(ms);
        };
        // The worker `clawos init` started sees the claim first and saves its notes…
        const onTime = await fx.connect({ clock: wall.now, leaseClock: machine.now, machine: "hub" });
        assert.deepEqual(await onTime.coordinator().reapExpired(LEASE_MS), []);
        tick(2_000);
        // …then one started under `faketime +5m` on the same machine recalls them.
        const ahead = await fx.connect({
          clock: () => wall.now() + FIVE_MINUTES,
          leaseClock: machine.now,
          machine: "hub",
        });
        assert.deepEqual(
          await ahead.coordinator().reapExpired(LEASE_MS),
          [],
          "seen 2 s ago by this machine: not 5 minutes unrenewed",
        );
        tick(LEASE_MS - 3_000);
        assert.deepEqual(await ahead.coordinator().reapExpired(LEASE_MS), [], "still under a lease");
        // The wall clock is stepped forward 5 minutes (NTP after a wake): the lease does not age by it.
        wall.advance(FIVE_MINUTES);
        assert.deepEqual(
          await onTime.coordinator().reapExpired(LEASE_MS),
          [],
          "a wall-clock step ages nothing",
        );
        assert.equal((await mustGet(fx.bb, request.id)).state, "claimed");
        // Unrenewed for a whole lease since the machine first saw it: it expires, once.
        tick(1_001);
        assert.deepEqual(await ahead.coordinator().reapExpired(LEASE_MS), [
          { id: request.id, node: "alpha", outcome: "requeued" },
        ]);
      });
    });

    // ── fencing ────────────────────────────────────────────────────────────
    test("a zombie completion after reaping is refused, even once the task is claimed again on the same node", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb }) => {
        const request = makeRequest();
        await bb.enqueue(request);
        const zombie = await mustClaim(bb, "alpha");
        assert.equal((await reapAfter(bb, clock, LEASE_MS + 1))[0]?.outcome, "requeued");

        // While the task waits for its next attempt.
        assert.equal(await bb.complete(zombie, resultFor(zombie, "completed", "zombie")), false);
        assert.equal((await mustGet(bb, request.id)).state, "pending");

        // And once the same node holds the task again.
        const live = await mustClaim(bb, "alpha");
        assert.equal(live.request.attempt, 2);
        assert.equal(await bb.renew(zombie), false, "the zombie cannot renew the new holder's lease");
        await bb.progress(zombie, "zombie progress", "2026-03-01T12:00:00.000Z");
        assert.notEqual((await mustGet(bb, request.id)).progress?.text, "zombie progress");
        assert.equal(await bb.complete(zombie, resultFor(zombie, "completed", "zombie")), false);
        assert.equal(await bb.requeue(zombie, { event: { event: "x", detail: "zombie" } }), "lost");
        assert.equal((await mustGet(bb, request.id)).state, "claimed", "the new holder keeps its claim");

        assert.equal(await bb.renew(live), true);
        assert.equal(await bb.complete(live, resultFor(live, "completed", "live")), true);
        const done = await mustGet(bb, request.id);
        assert.equal(done.state, "completed");
        assert.equal(done.result?.text, "live");
        assert.equal(done.result?.attempt, 2);
      });
    });

    test("a zombie completion after the last attempt was reaped is refused; the reaper's failure stands", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb }) => {
        const request = makeRequest({ maxAttempts: 1 });
        await bb.enqueue(request);
        const zombie = await mustClaim(bb, "alpha");
        assert.deepEqual(await reapAfter(bb, clock, LEASE_MS + 1), [
          { id: request.id, node: "alpha", outcome: "dead" },
        ]);
        assert.equal(await bb.complete(zombie, resultFor(zombie, "completed", "zombie")), false);
        const dead = await mustGet(bb, request.id);
        assert.equal(dead.state, "failed");
        assert.equal(dead.result?.status, "failed");
        assert.notEqual(dead.result?.text, "zombie");
        assert.ok(dead.result?.error?.message, "the failure says why");
      });
    });

    test("double complete keeps the first result (one after the other, and concurrently)", async () => {
      await withDriver({}, async ({ bb }) => {
        const one = makeRequest();
        await bb.enqueue(one);
        const claim = await mustClaim(bb, "alpha");
        assert.equal(await bb.complete(claim, resultFor(claim, "completed", "first")), true);
        assert.equal(await bb.complete(claim, resultFor(claim, "completed", "second")), false);
        assert.equal(await bb.complete(claim, resultFor(claim, "failed", "third")), false);
        const done = await mustGet(bb, one.id);
        assert.equal(done.state, "completed");
        assert.equal(done.result?.text, "first");

        for (let round = 0; round < 5; round++) {
          const r = makeRequest();
          await bb.enqueue(r);
          const c = await mustClaim(bb, "alpha");
          const attempts = [
            resultFor(c, "completed", "racing completed"),
            resultFor(c, "failed", "racing failed"),
            resultFor(c, "cancelled", "racing cancelled"),
          ];
          const won = await Promise.all(attempts.map((a) => bb.complete(c, a)));
          assert.equal(won.filter(Boolean).length, 1, `round ${round}: exactly one completion counts`);
          const winner = attempts[won.indexOf(true)];
          const task = await mustGet(bb, r.id);
          assert.equal(task.state, winner?.status);
          assert.equal(task.result?.text, winner?.text);
        }
        const listing = await bb.list();
        assert.equal(listing.tasks.length, 6);
        assert.equal(listing.counts.pending + listing.counts.claimed + listing.counts.running, 0);
      });
    });

    test("crash between publishing a result and committing it: the task is redelivered and has one outcome", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb, faults }) => {
        const request = makeRequest({ maxAttempts: 3 });
        await bb.enqueue(request);
        const crashed = await mustClaim(bb, "alpha");
        await faults.crashAfterResult(crashed, resultFor(crashed, "completed", "never committed"));
        assert.equal((await mustGet(bb, request.id)).state, "claimed", "an uncommitted result is no outcome");

        assert.deepEqual(await reapAfter(bb, clock, LEASE_MS + 1), [
          { id: request.id, node: "alpha", outcome: "requeued" },
        ]);
        const pending = await mustGet(bb, request.id);
        assert.equal(pending.state, "pending");
        assert.equal(pending.request.attempt, 2);
        assert.equal(pending.result, undefined);

        const retry = await mustClaim(bb, "alpha");
        assert.equal(await bb.complete(retry, resultFor(retry, "completed", "committed")), true);
        assert.equal(await bb.complete(crashed, resultFor(crashed, "completed", "late")), false);
        const done = await mustGet(bb, request.id);
        assert.equal(done.state, "completed");
        assert.equal(done.result?.text, "committed");
        assert.equal(done.result?.attempt, 2);
        const listing = await bb.list();
        assert.equal(listing.tasks.filter((t) => t.request.id === request.id).length, 1);
        assert.equal(listing.counts.completed, 1);
        assert.equal(listing.counts.failed, 0);
      });
    });

    test("crash between result and commit on the last attempt: the task is dead, the uncommitted result does not count", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb, faults }) => {
        const request = makeRequest({ maxAttempts: 1 });
        await bb.enqueue(request);
        const crashed = await mustClaim(bb, "alpha");
        await faults.crashAfterResult(crashed, resultFor(crashed, "completed", "never committed"));
        assert.deepEqual(await reapAfter(bb, clock, LEASE_MS + 1), [
          { id: request.id, node: "alpha", outcome: "dead" },
        ]);
        const dead = await mustGet(bb, request.id);
        assert.equal(dead.state, "failed");
        assert.equal(dead.result?.status, "failed");
        assert.notEqual(dead.result?.text, "never committed");
        const listing = await bb.list();
        assert.deepEqual(
          [listing.counts.completed, listing.counts.failed],
          [0, 1],
          "exactly one outcome, the reaper's",
        );
      });
    });

    // ── attempts ───────────────────────────────────────────────────────────
    test("max attempts: a task whose lease keeps expiring ends failed with a reason", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb }) => {
        const request = makeRequest({ maxAttempts: 2 });
        await bb.enqueue(request);
        await mustClaim(bb, "alpha");
        assert.equal((await reapAfter(bb, clock, LEASE_MS + 1))[0]?.outcome, "requeued");
        const second = await mustClaim(bb, "alpha");
        assert.equal(second.request.attempt, 2);
        assert.deepEqual(await reapAfter(bb, clock, LEASE_MS + 1), [
          { id: request.id, node: "alpha", outcome: "dead" },
        ]);
        const dead = await mustGet(bb, request.id);
        assert.equal(dead.state, "failed");
        assert.equal(dead.request.attempt, 2);
        assert.equal(dead.result?.status, "failed");
        assert.equal(dead.result?.attempt, 2);
        assert.ok((dead.result?.error?.message ?? "").length > 0, "the failure says why");
        assert.equal(await bb.claim("alpha"), undefined, "a dead task is never delivered again");
        assert.deepEqual(await reapAfter(bb, clock, LEASE_MS + 1), []);
      });
    });

    test("max attempts: a requeue of the last attempt ends the task failed with the error given", async () => {
      await withDriver({}, async ({ bb }) => {
        const request = makeRequest({ maxAttempts: 1 });
        await bb.enqueue(request);
        const claim = await mustClaim(bb, "alpha");
        const outcome = await bb.requeue(claim, {
          event: { event: "attempt-failed", detail: "gateway down" },
          error: { kind: "gateway_down", message: "the gateway of alpha is down" },
        });
        assert.equal(outcome, "dead");
        const dead = await mustGet(bb, request.id);
        assert.equal(dead.state, "failed");
        assert.equal(dead.result?.error?.kind, "gateway_down");
        assert.match(dead.result?.error?.message ?? "", /gateway of alpha is down/);
        assert.equal(await bb.claim("alpha"), undefined);
      });
    });

    test("requeue gives a task back with attempt + 1, optionally to another node", async () => {
      await withDriver({}, async ({ bb }) => {
        const request = makeRequest({ maxAttempts: 5 });
        await bb.enqueue(request);
        const first = await mustClaim(bb, "alpha");
        assert.equal(
          await bb.requeue(first, { event: { event: "attempt-failed", detail: "try again" } }),
          "requeued",
        );
        assert.equal(await bb.complete(first, resultFor(first)), false, "a requeued claim is given up");
        const second = await mustClaim(bb, "alpha");
        assert.equal(second.request.attempt, 2);
        assert.equal(
          await bb.requeue(second, {
            reroute: route("beta", "alpha is down"),
            event: { event: "attempt-failed", detail: "moving on" },
          }),
          "requeued",
        );
        assert.equal(await bb.claim("alpha"), undefined);
        const moved = await mustGet(bb, request.id);
        assert.equal(moved.node, "beta");
        assert.equal(moved.request.route.node, "beta");
        const third = await mustClaim(bb, "beta");
        assert.equal(third.request.attempt, 3);
        assert.equal(await bb.complete(third, resultFor(third)), true);
      });
    });

    test("progress marks a claimed task running with the reply so far", async () => {
      await withDriver({}, async ({ bb }) => {
        const request = makeRequest();
        await bb.enqueue(request);
        const claim = await mustClaim(bb, "alpha");
        await bb.progress(claim, "半个回答", "2026-03-01T12:00:00.000Z");
        const running = await mustGet(bb, request.id);
        assert.equal(running.state, "running");
        assert.equal(running.progress?.text, "半个回答");
        assert.equal((await bb.list()).counts.running, 1);
        assert.equal(await bb.complete(claim, resultFor(claim)), true);
        assert.equal((await mustGet(bb, request.id)).state, "completed");
      });
    });

    // ── cancel and retry ───────────────────────────────────────────────────
    test("cancel of a pending task finishes it cancelled; it is never claimed", async () => {
      await withDriver({}, async (fx) => {
        const request = makeRequest();
        await fx.bb.enqueue(request);
        const task = await fx.bb.requestCancel(request.id);
        assert.equal(task.state, "cancelled");
        assert.equal(await fx.bb.isCancelRequested(request.id), true);
        const worker = await fx.connect();
        assert.equal(await worker.claim("alpha"), undefined);
        assert.equal(await worker.claim("alpha", request.id), undefined);
        assert.deepEqual(await worker.pendingIds("alpha"), []);
        const stored = await mustGet(worker, request.id);
        assert.equal(stored.state, "cancelled");
        assert.equal(stored.result?.status, "cancelled");
        assert.equal((await fx.bb.list()).counts.cancelled, 1);
      });
    });

    test("cancel of a claimed task is seen by its holder via isCancelRequested", async () => {
      await withDriver({}, async (fx) => {
        const worker = await fx.connect();
        const request = makeRequest();
        await fx.bb.enqueue(request);
        const claim = await mustClaim(worker, "alpha");
        assert.equal(await worker.isCancelRequested(request.id), false);
        const asked = await fx.bb.requestCancel(request.id);
        assert.equal(asked.cancelRequested, true);
        assert.ok(asked.state === "claimed" || asked.state === "running", `still ${asked.state}`);
        assert.equal(await worker.isCancelRequested(request.id), true);
        assert.equal((await mustGet(worker, request.id)).cancelRequested, true);
        assert.equal(await worker.complete(claim, resultFor(claim, "cancelled", "stopped early")), true);
        const done = await mustGet(fx.bb, request.id);
        assert.equal(done.state, "cancelled");
        assert.equal(done.result?.text, "stopped early");
      });
    });

    test("a claimed task with a cancel request whose lease expires ends cancelled, not requeued", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb }) => {
        const request = makeRequest();
        await bb.enqueue(request);
        const claim = await mustClaim(bb, "alpha");
        await bb.requestCancel(request.id);
        assert.deepEqual(await reapAfter(bb, clock, LEASE_MS + 1), [
          { id: request.id, node: "alpha", outcome: "cancelled" },
        ]);
        assert.equal((await mustGet(bb, request.id)).state, "cancelled");
        assert.equal(await bb.complete(claim, resultFor(claim)), false);
        assert.equal(await bb.claim("alpha"), undefined);
      });
    });

    test("cancel is refused for finished and unknown tasks", async () => {
      await withDriver({}, async ({ bb }) => {
        const request = makeRequest();
        await bb.enqueue(request);
        const claim = await mustClaim(bb, "alpha");
        await bb.complete(claim, resultFor(claim));
        await assert.rejects(bb.requestCancel(request.id));
        assert.equal((await mustGet(bb, request.id)).state, "completed");
        await assert.rejects(bb.requestCancel(newId()));
      });
    });

    test("retry publishes a failed or cancelled task again with attempt + 1; others are refused", async () => {
      await withDriver({}, async ({ bb }) => {
        // A task that failed on its worker.
        const failed = makeRequest({ maxAttempts: 3 });
        await bb.enqueue(failed);
        const c1 = await mustClaim(bb, "alpha");
        assert.equal(await bb.complete(c1, resultFor(c1, "failed")), true);
        const retried = await bb.retry(failed.id);
        assert.equal(retried.state, "pending");
        assert.equal(retried.request.attempt, 2);
        const c2 = await mustClaim(bb, "alpha");
        assert.equal(c2.request.attempt, 2);
        assert.equal(await bb.complete(c2, resultFor(c2, "completed", "second time lucky")), true);
        const done = await mustGet(bb, failed.id);
        assert.equal(done.state, "completed");
        assert.equal(done.result?.text, "second time lucky");
        await assert.rejects(bb.retry(failed.id), "a completed task is not retried");

        // A dead task (out of attempts) gets one more, and can move to another node.
        const dead = makeRequest({ maxAttempts: 1 });
        await bb.enqueue(dead);
        const d1 = await mustClaim(bb, "alpha");
        assert.equal(await bb.requeue(d1, { event: { event: "attempt-failed", detail: "no" } }), "dead");
        const moved = await bb.retry(dead.id, route("beta", "retry elsewhere"));
        assert.equal(moved.state, "pending");
        assert.equal(moved.node, "beta");
        const d2 = await mustClaim(bb, "beta");
        assert.equal(d2.request.attempt, 2);
        assert.ok(d2.request.maxAttempts >= 2);
        assert.equal(await bb.complete(d2, resultFor(d2)), true);

        // A cancelled task loses its cancel request when retried.
        const cancelled = makeRequest();
        await bb.enqueue(cancelled);
        await bb.requestCancel(cancelled.id);
        const back = await bb.retry(cancelled.id);
        assert.equal(back.state, "pending");
        assert.equal(await bb.isCancelRequested(cancelled.id), false);
        const c3 = await mustClaim(bb, "alpha", cancelled.id);
        await assert.rejects(bb.retry(cancelled.id), "a claimed task is not retried");
        assert.equal(await bb.complete(c3, resultFor(c3)), true);

        const pending = makeRequest();
        await bb.enqueue(pending);
        await assert.rejects(bb.retry(pending.id), "a pending task is not retried");
        await assert.rejects(bb.retry(newId()), "an unknown task is not retried");
      });
    });

    test("history keeps every attempt, in order, across a cancel, a retry, a hand-back and a failure", async () => {
      await withDriver({}, async ({ bb }) => {
        const request = makeRequest({ maxAttempts: 3 });
        const routed = { at: new Date(Date.now() - 1000).toISOString(), event: "routed", detail: "test" };
        await bb.enqueue({ ...request, history: [routed] });
        await bb.requestCancel(request.id);
        await bb.retry(request.id);
        const c2 = await mustClaim(bb, "alpha");
        const started = new Date().toISOString();
        const handedBack = await bb.requeue(c2, {
          event: { event: "handed-back", detail: "attempt 2: stopped" },
          earlier: [{ at: started, event: "started", detail: "attempt 2 on alpha" }],
          consumesAttempt: false,
        });
        assert.equal(handedBack, "requeued");
        const c3 = await mustClaim(bb, "alpha");
        assert.equal(c3.request.attempt, 2, "a hand-back keeps the attempt");
        const now = new Date().toISOString();
        const failedResult = { ...resultFor(c3, "failed"), startedAt: now, finishedAt: now };
        assert.equal(await bb.complete(c3, failedResult), true);
        await bb.retry(request.id);
        const task = await mustGet(bb, request.id);
        const events = completeHistory(task.request, task.node, task.result).map((h) => h.event);
        assert.deepEqual(events, [
          "routed",
          "cancelled",
          "retried",
          "started",
          "handed-back",
          "started",
          "failed",
          "retried",
        ]);
        const details = task.request.history.map((h) => h.detail).join(" | ");
        assert.match(
          details,
          /attempt 1.*attempt 2 next.*attempt 2 on alpha.*attempt 2: stopped.*attempt 2 on alpha.*attempt 2.*failed by the test.*attempt 3 next/,
        );
      });
    });

    test("a task is found by a unique prefix or its last hex digits; an ambiguous start lists the matches", async () => {
      await withDriver({}, async ({ bb }) => {
        const a = makeRequest();
        const b = makeRequest();
        await bb.enqueue(a);
        await bb.enqueue(b);
        const c = await mustClaim(bb, "alpha", b.id);
        assert.equal(await bb.complete(c, resultFor(c)), true);
        assert.equal(await resolveTaskId(bb, a.id), a.id, "a whole id");
        assert.equal(await resolveTaskId(bb, a.id.slice(-8)), a.id, "the last 8 hex");
        assert.equal(await resolveTaskId(bb, b.id.slice(0, -2)), b.id, "a unique prefix, finished task too");
        assert.equal(await resolveTaskId(bb, b.id.slice(4, -2)), b.id, "a prefix without req_");
        await assert.rejects(resolveTaskId(bb, "req_20260301"), (e: Error) => {
          assert.match(e.message, /matches 2 tasks/);
          assert.ok(e.message.includes(a.id) && e.message.includes(b.id), e.message);
          return true;
        });
        await assert.rejects(resolveTaskId(bb, "ffffeeee"), /No task matches "ffffeeee"/);
        await assert.rejects(resolveTaskId(bb, "../etc"), /is not a task id/);
      });
    });

    // ── coordinator ────────────────────────────────────────────────────────
    test("reroutePending moves a pending task exactly once, keeping its attempt", async () => {
      await withDriver({}, async (fx) => {
        const { bb } = fx;
        const request = makeRequest();
        await bb.enqueue(request);
        assert.equal(await bb.coordinator().reroutePending(request.id, "beta", route("gamma")), false);
        assert.equal(
          await bb.coordinator().reroutePending(request.id, "alpha", route("beta", "alpha asleep")),
          true,
        );
        assert.equal(await bb.coordinator().reroutePending(request.id, "alpha", route("beta")), false);
        const moved = await mustGet(bb, request.id);
        assert.equal(moved.state, "pending");
        assert.equal(moved.node, "beta");
        assert.equal(moved.request.route.node, "beta");
        assert.equal(moved.request.attempt, 1);
        assert.equal(await bb.claim("alpha"), undefined);
        assert.equal((await mustClaim(bb, "beta")).request.id, request.id);
        assert.equal(
          await bb.coordinator().reroutePending(request.id, "beta", route("alpha")),
          false,
          "claimed",
        );

        // Two coordinators racing to move the same task: one move wins.
        const racing = makeRequest();
        await bb.enqueue(racing);
        const other = await fx.connect();
        const moves = await Promise.all([
          bb.coordinator().reroutePending(racing.id, "alpha", route("beta")),
          other.coordinator().reroutePending(racing.id, "alpha", route("gamma")),
        ]);
        assert.equal(moves.filter(Boolean).length, 1);
        const inboxes = [
          ...(await bb.pendingIds("alpha")),
          ...(await bb.pendingIds("beta")),
          ...(await bb.pendingIds("gamma")),
        ];
        assert.deepEqual(inboxes, [racing.id], "in exactly one inbox");
      });
    });

    test("recover() finishes a requeue interrupted after its deciding step", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb, faults }) => {
        const request = makeRequest({ maxAttempts: 3 });
        await bb.enqueue(request);
        const claim = await mustClaim(bb, "alpha");
        await faults.crashDuringRequeue(claim);
        assert.equal(await bb.renew(claim), false, "the requeue's deciding step fenced the holder");
        assert.equal(await bb.complete(claim, resultFor(claim)), false);

        clock.advance(LONG_AFTER);
        const notes = await bb.coordinator().recover();
        assert.equal(notes.length, 1, notes.join("\n"));
        const pending = await mustGet(bb, request.id);
        assert.equal(pending.state, "pending");
        assert.equal(pending.request.attempt, 2);
        const next = await mustClaim(bb, "alpha");
        assert.equal(next.request.attempt, 2);
        assert.deepEqual(await bb.coordinator().recover(), [], "nothing left to recover");
        assert.equal(await bb.complete(next, resultFor(next)), true);
        assert.deepEqual(await bb.coordinator().recover(), []);
        assert.equal((await bb.list()).tasks.length, 1);
      });
    });

    test("recover() finishes an interrupted reroute: the task lands in the new inbox once", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb, faults }) => {
        const request = makeRequest();
        await bb.enqueue(request);
        await faults.crashDuringReroute(request.id, "alpha", route("beta", "alpha asleep"));
        clock.advance(LONG_AFTER);
        assert.equal((await bb.coordinator().recover()).length, 1);
        const moved = await mustGet(bb, request.id);
        assert.equal(moved.state, "pending");
        assert.equal(moved.node, "beta");
        assert.equal(moved.request.attempt, 1, "a reroute does not consume an attempt");
        assert.equal(await bb.claim("alpha"), undefined);
        assert.equal((await mustClaim(bb, "beta")).request.id, request.id);
        assert.deepEqual(await bb.coordinator().recover(), []);
      });
    });

    test("recover() republishes a task whose dispatch crashed after reserving its id, once", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb, faults }) => {
        const request = makeRequest({ node: "beta" });
        await faults.crashDuringDispatch(request);
        assert.deepEqual(await bb.enqueue(request), { created: false }, "the id is reserved");
        assert.deepEqual(await bb.pendingIds("beta"), []);

        clock.advance(LONG_AFTER);
        assert.equal((await bb.coordinator().recover()).length, 1);
        assert.deepEqual(await bb.pendingIds("beta"), [request.id]);
        assert.equal((await mustGet(bb, request.id)).state, "pending");
        assert.deepEqual(await bb.coordinator().recover(), [], "republished once");

        const claim = await mustClaim(bb, "beta");
        assert.deepEqual(claim.request, request);
        assert.deepEqual(await bb.coordinator().recover(), [], "a claimed task is not republished");
        assert.equal(await bb.complete(claim, resultFor(claim)), true);
        assert.deepEqual(await bb.coordinator().recover(), [], "a finished task is not republished");
        assert.deepEqual(await bb.pendingIds("beta"), []);
      });
    });

    // ── foreign files ──────────────────────────────────────────────────────
    test("sync artifacts (*.tmp, *sync-conflict*, .icloud stubs, dotfiles) are never parsed", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async (fx) => {
        const { bb, faults } = fx;
        const ghost = makeRequest();
        const left = await faults.leaveSyncArtifacts("alpha", ghost);
        assert.ok(left.length > 0);

        assert.deepEqual(await bb.pendingIds("alpha"), []);
        assert.equal(await bb.claim("alpha"), undefined);
        assert.equal(await bb.claim("alpha", ghost.id), undefined);
        assert.equal(await bb.get(ghost.id), undefined);
        assert.deepEqual(await bb.list(), {
          tasks: [],
          counts: { pending: 0, claimed: 0, running: 0, completed: 0, failed: 0, cancelled: 0 },
          problems: [],
        });
        assert.deepEqual(await bb.readNodeStatuses(), { records: [], problems: [] });
        assert.deepEqual(await reapAfter(bb, clock, LONG_AFTER), []);
        assert.deepEqual(await bb.coordinator().recover(), []);
        const quarantiner = await fx.connect({ quarantine: true, clock: clock.now });
        assert.deepEqual(await quarantiner.coordinator().quarantineMalformed(), []);
        for (const where of left) assert.equal(await faults.stillThere(where), true, `${where} untouched`);

        assert.deepEqual(await bb.enqueue(ghost), { created: true }, "look-alikes reserve nothing");
        assert.equal((await mustClaim(bb, "alpha")).request.id, ghost.id);
      });
    });

    test("malformed, half-written, huge and oddly named records are reported, never break a reader, and leave other tasks alone", async () => {
      const clock = new FakeClock();
      await withDriver({ clock: clock.now }, async ({ bb, faults }) => {
        const good = makeRequest();
        await bb.enqueue(good);
        const bad: BadRecord[] = [];
        for (const kind of BAD_RECORD_KINDS)
          bad.push(await faults.leaveBadRecord("alpha", kind, makeRequest()));

        const listing = await bb.list();
        assert.deepEqual(
          listing.tasks.map((t) => t.request.id),
          [good.id],
        );
        assert.equal(listing.counts.pending, 1);
        for (const record of bad) {
          if (record.kind === "invalid-json-young") continue; // may still be being written
          assert.ok(
            listing.problems.some((p) => p.includes(record.mentionedAs)),
            `${record.kind} is reported; problems: ${listing.problems.join(" | ")}`,
          );
        }
        for (const record of bad) {
          assert.equal(await bb.get(record.mentionedAs).catch(() => undefined), undefined, record.kind);
        }

        assert.equal((await mustGet(bb, good.id)).state, "pending");
        const claim = await mustClaim(bb, "alpha");
        assert.equal(claim.request.id, good.id);
        assert.equal(await bb.claim("alpha"), undefined, "no bad record is ever delivered");
        assert.deepEqual(await reapAfter(bb, clock, LEASE_MS / 2), []);
        assert.deepEqual(await bb.coordinator().recover(), []);
        await bb.coordinator().quarantineMalformed(); // this handle does not set things aside
        for (const record of bad) assert.equal(await faults.stillThere(record.where), true, record.kind);
        assert.equal(await bb.complete(claim, resultFor(claim)), true);
        assert.equal((await bb.list()).counts.completed, 1);
      });
    });

    test("a quarantining coordinator sets old malformed records aside with a reason, never a young half-written one", async () => {
      const frozen = new FakeClock();
      await withDriver({ clock: frozen.now }, async (fx) => {
        const { bb, faults } = fx;
        const good = makeRequest();
        await bb.enqueue(good);
        const bad: BadRecord[] = [];
        for (const kind of BAD_RECORD_KINDS)
          bad.push(await faults.leaveBadRecord("alpha", kind, makeRequest()));
        const quarantiner = await fx.connect({ quarantine: true, clock: frozen.now });

        const moved = await quarantiner.coordinator().quarantineMalformed();
        const young = bad.filter((r) => r.kind === "invalid-json-young" && !fx.recordsAreAtomic);
        const leftAlone = bad.filter((r) => fx.leftAlone?.includes(r.kind));
        const old = bad.filter((r) => !young.includes(r) && !leftAlone.includes(r));
        for (const record of old) {
          assert.ok(
            moved.some((m) => m.includes(record.mentionedAs)),
            `${record.kind} is set aside; moved: ${moved.join(" | ")}`,
          );
          assert.equal(await faults.stillThere(record.where), false, `${record.kind} is gone from the inbox`);
        }
        for (const record of [...young, ...leftAlone]) {
          assert.ok(!moved.some((m) => m.includes(record.mentionedAs)), `${record.kind} is not moved`);
          assert.equal(await faults.stillThere(record.where), true);
        }
        const aside = await faults.quarantined();
        assert.equal(aside.length, old.length);
        for (const entry of aside) assert.ok(entry.reason.trim().length > 0, `${entry.name} has a reason`);
        assert.deepEqual(await quarantiner.coordinator().quarantineMalformed(), [], "nothing more to move");

        assert.equal((await mustClaim(quarantiner, "alpha")).request.id, good.id);
        assert.equal(await quarantiner.claim("alpha"), undefined);
        if (young[0])
          assert.equal(await faults.stillThere(young[0].where), true, "claim does not quarantine it either");
      });
    });

    test("path-like task ids and node names are refused, never followed", async () => {
      await withDriver({}, async ({ bb }) => {
        const request = makeRequest();
        await bb.enqueue(request);
        const refused = async (p: Promise<unknown>) =>
          p.then(
            (v) => v,
            () => undefined,
          );
        for (const node of ["../requests/alpha", "alpha/../alpha", "..", "ALPHA", "a".repeat(300)]) {
          assert.equal(await refused(bb.claim(node)), undefined, `claim(${JSON.stringify(node)})`);
          assert.deepEqual((await refused(bb.pendingIds(node))) ?? [], [], `pendingIds(${node})`);
        }
        for (const id of [
          `../alpha/${request.id}`,
          `${request.id}/..`,
          "req_../../etc",
          `req_${"x".repeat(300)}`,
        ]) {
          assert.equal(await refused(bb.claim("alpha", id)), undefined, `claim by id ${id}`);
          assert.equal(await refused(bb.get(id)), undefined, `get(${id})`);
          await assert.rejects(bb.requestCancel(id));
          await assert.rejects(bb.retry(id));
          await assert.rejects(bb.enqueue({ ...request, id }));
        }
        await assert.rejects(bb.enqueue({ ...request, id: newId(), route: route("../beta") }));
        assert.equal(
          await refused(bb.coordinator().reroutePending(request.id, "../requests/alpha", route("beta"))),
          false,
        );
        assert.equal((await mustClaim(bb, "alpha")).request.id, request.id, "the task itself is untouched");
        assert.equal(await bb.claim("alpha"), undefined);
      });
    });

    test("node status records round-trip, one per node", async () => {
      await withDriver({}, async ({ bb }) => {
        const status = (node: string, completed: number) => ({
          schema: "clawos.node-status/1" as const,
          node,
          machine: "mac-mini",
          pid: 4242,
          version: "0.1.0",
          startedAt: "2026-03-01T12:00:00.000Z",
          heartbeatAt: "2026-03-01T12:00:05.000Z",
          state: "running" as const,
          inFlight: [],
          completed,
          failed: 0,
          gateway: { reachable: true, latencyMs: 3, checkedAt: "2026-03-01T12:00:05.000Z" },
        });
        await bb.writeNodeStatus(status("alpha", 1));
        await bb.writeNodeStatus(status("beta", 2));
        await bb.writeNodeStatus(status("alpha", 3));
        const { records, problems } = await bb.readNodeStatuses();
        assert.deepEqual(problems, []);
        assert.deepEqual(records.map((r) => [r.node, r.completed]).sort(), [
          ["alpha", 3],
          ["beta", 2],
        ]);
      });
    });
  });
}

/** A registry record of `id` by `owner`, for a node on `machine` (default: the owner). */
export function definitionOf(
  owner: string,
  id: string,
  generation = 1,
  options: { machine?: string; state?: "active" | "removed"; port?: number } = {},
): NodeDefinition {
  const state = options.state ?? "active";
  return {
    schema: "clawos.node/1",
    id,
    owner,
    generation,
    updatedAt: "2026-03-01T12:00:00.000Z",
    state,
    ...(state === "active"
      ? {
          node: {
            id,
            machine: options.machine ?? owner,
            transport: "auto",
            host: "127.0.0.1",
            port: options.port ?? 18789,
            profile: null,
            agent: "main",
            tags: [],
          },
        }
      : {}),
  };
}

/** A healthy node-status record for `node`, as a worker elsewhere would write it. */
export function statusOf(node: string): NodeStatusRecord {
  return {
    schema: "clawos.node-status/1",
    node,
    machine: "elsewhere",
    pid: 1,
    version: "0.0.0",
    startedAt: "2026-03-01T12:00:00.000Z",
    heartbeatAt: "2026-03-01T12:00:00.000Z",
    state: "running",
    inFlight: [],
    completed: 0,
    failed: 0,
    gateway: { reachable: true, checkedAt: "2026-03-01T12:00:00.000Z" },
  };
}
