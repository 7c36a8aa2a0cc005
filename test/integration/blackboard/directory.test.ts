/** Directory-driver behaviour beyond the shared contract (contract.ts): its ordering, layout and files. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, rename, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { resolveTaskId } from "../../../source/core/blackboard/resolve-id.js";
import { newTaskId } from "../../../source/core/domain/ids.js";
import { FakeClock, makeRequest, resultFor } from "./contract.js";
import { makeDirectoryDriver } from "./directory-fixture.js";

type Fixture = Awaited<ReturnType<typeof makeDirectoryDriver>>;

async function withDirectory(
  options: { clock?: () => number },
  body: (fx: Fixture) => Promise<void>,
): Promise<void> {
  const fx = await makeDirectoryDriver(options);
  try {
    await body(fx);
  } finally {
    await fx.cleanup();
  }
}

test("directory driver: claims the most urgent task first (P0 before P3), then the oldest", async () => {
  await withDirectory({}, async ({ bb }) => {
    const order = [
      makeRequest({ priority: "P3", createdAt: "2026-03-01T10:00:00.000Z" }),
      makeRequest({ priority: "P1", createdAt: "2026-03-01T11:00:00.000Z" }),
      makeRequest({ priority: "P0", createdAt: "2026-03-01T12:00:00.000Z" }),
      makeRequest({ priority: "P1", createdAt: "2026-03-01T09:00:00.000Z" }),
    ];
    for (const r of order) await bb.enqueue(r);
    const claimed: string[] = [];
    for (let c = await bb.claim("alpha"); c; c = await bb.claim("alpha")) claimed.push(c.request.id);
    assert.deepEqual(claimed, [order[2]!.id, order[3]!.id, order[1]!.id, order[0]!.id]);
  });
});

test("directory driver: a FIFO where a task should be is reported, never waited on", async () => {
  await withDirectory({}, async ({ bb, root }) => {
    const good = makeRequest();
    await bb.enqueue(good);
    const fifoId = makeRequest().id;
    await promisify(execFile)("mkfifo", [join(root, "requests", "alpha", `${fifoId}.json`)]);
    const listing = await bb.list();
    assert.ok(
      listing.problems.some((p) => p.includes(fifoId) && /not a regular file/.test(p)),
      listing.problems.join("\n"),
    );
    assert.equal((await bb.claim("alpha"))?.request.id, good.id);
    assert.equal(await bb.claim("alpha"), undefined);
  });
});

test("directory driver: each claim gets its own claimed file, so a reaped holder's handle never comes back", async () => {
  const clock = new FakeClock();
  await withDirectory({ clock: clock.now }, async ({ bb, root }) => {
    const request = makeRequest();
    await bb.enqueue(request);
    const first = await bb.claim("alpha");
    assert.ok(first);
    await bb.coordinator().reapExpired(30_000);
    clock.advance(30_001);
    assert.equal((await bb.coordinator().reapExpired(30_000)).length, 1);
    const second = await bb.claim("alpha");
    assert.ok(second);
    assert.notEqual(second.handle, first.handle);
    assert.deepEqual(await readdir(join(root, "claimed", "alpha")), [second.handle.split("/").at(-1)]);
    assert.deepEqual((await readdir(join(root, "results"))).sort(), []);
    assert.equal(await bb.complete(second, resultFor(second)), true);
    assert.deepEqual(
      await readdir(join(root, "results")),
      [`${request.id}.a2.completed.json`],
      "one outcome",
    );
  });
});

test("directory driver: a claimed file in the older <id>.json layout is still listed, fenced and reaped", async () => {
  const clock = new FakeClock();
  await withDirectory({ clock: clock.now }, async ({ bb, root }) => {
    const request = makeRequest();
    await bb.enqueue(request);
    await mkdir(join(root, "claimed", "alpha"), { recursive: true });
    await rename(
      join(root, "requests", "alpha", `${request.id}.json`),
      join(root, "claimed", "alpha", `${request.id}.json`),
    );
    assert.equal((await bb.get(request.id))?.state, "claimed");
    assert.equal((await bb.list()).counts.claimed, 1);
    await bb.coordinator().reapExpired(30_000);
    clock.advance(30_001);
    assert.deepEqual(await bb.coordinator().reapExpired(30_000), [
      { id: request.id, node: "alpha", outcome: "requeued" },
    ]);
    assert.equal((await bb.claim("alpha"))?.request.attempt, 2);
  });
});

test("directory driver: recover() leaves a move that may still be in flight alone, and finishes it later", async () => {
  const clock = new FakeClock();
  await withDirectory({ clock: clock.now }, async ({ bb, faults }) => {
    const request = makeRequest();
    await bb.enqueue(request);
    const claim = await bb.claim("alpha");
    assert.ok(claim);
    await faults.crashDuringRequeue(claim); // just now: as far as recover() can tell, its mover is still busy
    assert.deepEqual(await bb.coordinator().recover(), []);
    assert.equal((await bb.get(request.id))?.state, "pending", "a task being moved is shown as pending");
    const dispatched = makeRequest();
    await faults.crashDuringDispatch(dispatched);
    assert.deepEqual(await bb.coordinator().recover(), [], "a dispatch seconds old may still be publishing");
    clock.advance(60_000);
    assert.equal((await bb.coordinator().recover()).length, 2);
    assert.equal((await bb.claim("alpha", request.id))?.request.attempt, 2);
    assert.equal((await bb.claim("alpha", dispatched.id))?.request.attempt, 1);
  });
});

test("directory driver: bad node-status files are reported or set aside; good ones still read", async () => {
  await withDirectory({}, async (fx) => {
    const { bb, root } = fx;
    const status = {
      schema: "clawos.node-status/1" as const,
      node: "alpha",
      machine: "mac-mini",
      pid: 1,
      version: "0.1.0",
      startedAt: "2026-03-01T12:00:00.000Z",
      heartbeatAt: "2026-03-01T12:00:00.000Z",
      state: "running" as const,
      inFlight: [],
      completed: 0,
      failed: 0,
      gateway: { reachable: true, checkedAt: "2026-03-01T12:00:00.000Z" },
    };
    await bb.writeNodeStatus(status);
    const dir = join(root, "node-status");
    await writeFile(join(dir, "beta.json"), JSON.stringify({ ...status, node: "beta", pid: "one" }));
    await writeFile(join(dir, "gamma.json"), JSON.stringify(status)); // alpha's status under gamma's name
    await writeFile(join(dir, `${"n".repeat(200)}.json`), "{");
    const { records, problems } = await bb.readNodeStatuses();
    assert.deepEqual(
      records.map((r) => r.node),
      ["alpha"],
    );
    assert.ok(problems.some((p) => p.startsWith("node-status/beta.json") && p.includes("pid")));
    assert.ok(problems.some((p) => p.startsWith("node-status/gamma.json") && p.includes("alpha")));
    assert.ok(
      problems.every((p) => p.length < 400),
      "names are shortened in reports",
    );

    const quarantiner = await fx.connect({ quarantine: true, clock: () => Date.now() + 60_000 });
    const moved = await quarantiner.coordinator().quarantineMalformed();
    assert.equal(moved.length, 2, moved.join("\n")); // beta's bad schema and the invalid JSON
    assert.equal((await bb.readNodeStatuses()).records.length, 1);
  });
});

test("directory driver: stray entries where node directories belong are reported by list()", async () => {
  await withDirectory({}, async ({ bb, root }) => {
    await mkdir(join(root, "requests", "Not A Node"), { recursive: true });
    await writeFile(join(root, "requests", "req_20260301_000000_seedfile.json"), "{}");
    await mkdir(join(root, "claimed", ".stfolder"), { recursive: true });
    const good = makeRequest();
    await bb.enqueue(good);
    const listing = await bb.list();
    assert.equal(listing.tasks.length, 1);
    assert.equal(listing.problems.length, 2, listing.problems.join("\n"));
    assert.ok(listing.problems.some((p) => p.startsWith("requests/Not?A?Node")));
    assert.ok(listing.problems.some((p) => p.startsWith("requests/req_20260301_000000_seedfile.json")));
  });
});

test("directory driver: watch() wakes on a new task in the inbox, and never after unwatch", async () => {
  await withDirectory({}, async (fx) => {
    const worker = await fx.connect();
    let woken = 0;
    const unwatch = worker.watch({ inboxOf: "alpha" }, () => woken++);
    try {
      // The watcher starts asynchronously: dispatch until it has seen one (a rescan would cover the rest).
      for (let i = 0; i < 200 && woken === 0; i++) {
        await fx.bb.enqueue(makeRequest());
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(woken > 0, "a wake-up arrived");
    } finally {
      unwatch();
    }
    const before = woken;
    for (let i = 0; i < 5; i++) await fx.bb.enqueue(makeRequest());
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(woken, before, "no wake-ups after unwatch");
    assert.deepEqual(
      worker.watch({ inboxOf: "../requests/alpha" }, () => woken++)(),
      undefined,
      "a path-like node is not watched",
    );
  });
});

test("directory driver: a pending task rewritten after this worker listed it is claimed as it is now, not as cached", async () => {
  await withDirectory({}, async ({ bb, root }) => {
    const first = makeRequest({ priority: "P0" });
    const second = makeRequest({ priority: "P3" });
    await bb.enqueue(first);
    await bb.enqueue(second);
    // This claim lists the inbox and caches both requests.
    assert.equal((await bb.claim("alpha"))?.request.id, first.id);
    // Meanwhile the coordinator requeues `second` as attempt 2 (a new file, as every write is).
    const path = join(root, "requests", "alpha", `${second.id}.json`);
    await writeFile(`${path}.x.tmp`, JSON.stringify({ ...second, attempt: 2 }));
    await rename(`${path}.x.tmp`, path);
    const claim = await bb.claim("alpha");
    assert.equal(claim?.request.id, second.id);
    assert.equal(claim?.request.attempt, 2);
  });
});

test("directory driver: recover() sweeps temp files a crashed writer left hours ago, and keeps fresh ones", async () => {
  await withDirectory({}, async ({ bb, root }) => {
    const crashed = join(root, "tmp", "p999999");
    await mkdir(crashed, { recursive: true });
    const old = join(crashed, "x.json.999999.abcd.tmp");
    const fresh = join(root, "tmp", "y.json.1.beef.tmp");
    await writeFile(old, "{");
    await writeFile(fresh, "{");
    const hoursAgo = new Date(Date.now() - 3 * 3_600_000);
    await utimes(old, hoursAgo, hoursAgo);
    await utimes(crashed, hoursAgo, hoursAgo);
    await bb.coordinator().recover();
    assert.deepEqual(await readdir(join(root, "tmp")), ["y.json.1.beef.tmp"]);
  });
});

test("directory driver: tasks finished over a day ago move to archive/<day>/, still counted, shown, deduplicated and retryable", async () => {
  const clock = new FakeClock(Date.parse("2026-11-20T12:00:00.000Z"));
  await withDirectory({ clock: clock.now }, async ({ bb, root }) => {
    const finish = async (
      request: ReturnType<typeof makeRequest>,
      status: "completed" | "failed",
      at: string,
    ) => {
      await bb.enqueue(request);
      const claim = await bb.claim("alpha", request.id);
      assert.ok(claim);
      assert.equal(await bb.complete(claim, { ...resultFor(claim, status), finishedAt: at }), true);
    };
    const old = makeRequest({ id: newTaskId(new Date("2026-11-17T08:00:00.000Z")) });
    const oldFailed = makeRequest({ id: newTaskId(new Date("2026-11-17T09:00:00.000Z")) });
    const recent = makeRequest({ id: newTaskId(new Date("2026-11-20T11:00:00.000Z")) });
    // Created days ago, but finished only now: not archived yet.
    const lateFinisher = makeRequest({ id: newTaskId(new Date("2026-11-17T10:00:00.000Z")) });
    await finish(old, "completed", "2026-11-17T08:00:05.000Z");
    await finish(oldFailed, "failed", "2026-11-17T09:00:05.000Z");
    await finish(recent, "completed", "2026-11-20T11:00:05.000Z");
    await finish(lateFinisher, "completed", "2026-11-20T11:59:00.000Z");

    await bb.coordinator().recover();
    assert.deepEqual(
      (await readdir(join(root, "done", "alpha"))).sort(),
      [`${lateFinisher.id}.json`, `${recent.id}.json`].sort(),
    );
    assert.ok(
      (await readdir(join(root, "archive", "2026-11-17", "tasks", "alpha"))).includes(`${old.id}.json`),
    );

    const listing = await bb.list();
    assert.equal(listing.counts.completed, 3);
    assert.equal(listing.counts.failed, 1);
    assert.deepEqual(listing.tasks.map((t) => t.request.id).sort(), [lateFinisher.id, recent.id].sort());

    const shown = await bb.get(old.id);
    assert.equal(shown?.state, "completed");
    assert.equal(shown?.result?.text, "answer of attempt 1");
    assert.equal((await bb.enqueue(old)).created, false, "an archived id stays taken");
    assert.deepEqual((await bb.archivedIds()).sort(), [old.id, oldFailed.id].sort());
    // An archived task is found by its last 8 hex digits too (no live task has them).
    assert.equal(await resolveTaskId(bb, old.id.slice(-8)), old.id);
    // Nothing archived comes back as a new task after a coordinator restart.
    await bb.coordinator().recover();
    assert.deepEqual(await bb.pendingIds("alpha"), []);

    const retried = await bb.retry(oldFailed.id);
    assert.equal(retried.state, "pending");
    assert.equal(retried.request.attempt, 2);
    assert.deepEqual(await bb.pendingIds("alpha"), [oldFailed.id]);
    assert.equal(
      (await bb.list()).counts.failed,
      0,
      "the retried task is no longer counted as archived and failed",
    );
  });
});

test("directory driver: an archiving pass cut short leaves every task readable, and the next one finishes it", async () => {
  const clock = new FakeClock(Date.parse("2026-11-20T12:00:00.000Z"));
  await withDirectory({ clock: clock.now }, async ({ bb, root }) => {
    const request = makeRequest({ id: newTaskId(new Date("2026-11-17T08:00:00.000Z")) });
    await bb.enqueue(request);
    const claim = await bb.claim("alpha", request.id);
    assert.ok(claim);
    await bb.complete(claim, { ...resultFor(claim), finishedAt: "2026-11-17T08:00:05.000Z" });
    // As if the coordinator died after moving the index entry and the result, before the request.
    const day = join(root, "archive", "2026-11-17");
    await mkdir(join(day, "index"), { recursive: true });
    await mkdir(join(day, "results"), { recursive: true });
    await rename(join(root, "index", `${request.id}.json`), join(day, "index", `${request.id}.json`));
    const resultName = `${request.id}.a1.completed.json`;
    await rename(join(root, "results", resultName), join(day, "results", resultName));

    assert.equal((await bb.get(request.id))?.state, "completed");
    const listing = await bb.list();
    assert.equal(listing.counts.completed, 1);
    assert.equal(listing.tasks[0]?.result?.text, "answer of attempt 1");
    await bb.coordinator().recover();
    assert.deepEqual(await readdir(join(root, "done", "alpha")), []);
    assert.equal((await bb.list()).counts.completed, 1);
    assert.deepEqual(await bb.pendingIds("alpha"), []);
  });
});

test("directory driver: each handle writes through its own temp directory, removes it on close, and remakes it if swept", async () => {
  await withDirectory({}, async ({ bb, root, connect }) => {
    const other = await connect();
    await bb.enqueue(makeRequest());
    await other.enqueue(makeRequest());
    assert.equal((await readdir(join(root, "tmp"))).length, 2);
    await other.close();
    assert.equal((await readdir(join(root, "tmp"))).length, 1, "closing one handle leaves the other's");
    await rm(join(root, "tmp"), { recursive: true });
    assert.equal((await bb.enqueue(makeRequest())).created, true);
    assert.equal((await bb.pendingIds("alpha")).length, 3);
  });
});

test("directory driver: node directories removed by hand after they were checked are made again, and the next claim and completion land in the new ones", async () => {
  await withDirectory({}, async ({ bb, root }) => {
    await bb.enqueue(makeRequest());
    const first = await bb.claim("alpha");
    assert.ok(first);
    assert.equal(await bb.complete(first, resultFor(first)), true);
    const next = makeRequest();
    await bb.enqueue(next);
    await rm(join(root, "claimed", "alpha"), { recursive: true });
    await rm(join(root, "done"), { recursive: true });
    const claim = await bb.claim("alpha");
    assert.equal(claim?.request.id, next.id);
    assert.equal(await bb.complete(claim!, resultFor(claim!)), true);
    assert.deepEqual(await readdir(join(root, "done", "alpha")), [`${next.id}.json`]);
    assert.equal((await bb.get(next.id))?.state, "completed");
  });
});

test("directory driver: list({ activeOnly }) gives the pending and claimed tasks without reading finished ones", async () => {
  await withDirectory({}, async ({ bb }) => {
    const done = makeRequest();
    await bb.enqueue(done);
    const claim = await bb.claim("alpha", done.id);
    assert.ok(claim);
    await bb.complete(claim, resultFor(claim));
    const waiting = makeRequest();
    await bb.enqueue(waiting);
    const active = await bb.list({ activeOnly: true });
    assert.deepEqual(
      active.tasks.map((t) => [t.request.id, t.state]),
      [[waiting.id, "pending"]],
    );
    assert.equal(active.counts.completed, 0);
    assert.equal((await bb.list()).counts.completed, 1);
  });
});

test("directory driver: a coordinator that runs once at a time (cron) still reaps, remembering what it saw; another machine's notes are ignored", async () => {
  const clock = new FakeClock();
  await withDirectory({ clock: clock.now }, async ({ bb, root, connect }) => {
    await bb.enqueue(makeRequest());
    const held = await bb.claim("alpha"); // its worker dies now and never renews
    assert.ok(held);
    const firstRun = await connect({ clock: clock.now });
    assert.deepEqual(await firstRun.coordinator().reapExpired(30_000), [], "first sight: not judged yet");
    await firstRun.close();
    clock.advance(30_001);
    const secondRun = await connect({ clock: clock.now });
    const reaped = await secondRun.coordinator().reapExpired(30_000);
    assert.deepEqual(
      reaped.map((r) => r.outcome),
      ["requeued"],
    );
    await secondRun.close();

    // Notes written on another machine (another clock) do not count.
    await bb.enqueue(makeRequest());
    assert.ok(await bb.claim("alpha"));
    const [notesFile] = await readdir(join(root, "coordinator"));
    assert.match(notesFile ?? "", /^lease-seen-.+\.json$/, "one file per machine");
    const memory = join(root, "coordinator", notesFile!);
    const thirdRun = await connect({ clock: clock.now });
    await thirdRun.coordinator().reapExpired(30_000);
    await thirdRun.close();
    const notes = JSON.parse(await readFile(memory, "utf8")) as { host: string };
    await writeFile(memory, JSON.stringify({ ...notes, host: "another-machine" }));
    clock.advance(30_001);
    const fourthRun = await connect({ clock: clock.now });
    assert.deepEqual(await fourthRun.coordinator().reapExpired(30_000), [], "starts its own count");
    await fourthRun.close();
  });
});

test("directory driver: a finished task whose result file is damaged names that file, in the task and in list()'s problems", async () => {
  await withDirectory({}, async ({ bb, root }) => {
    const request = makeRequest();
    await bb.enqueue(request);
    const claim = await bb.claim("alpha");
    assert.ok(claim);
    assert.equal(await bb.complete(claim, resultFor(claim)), true);
    const name = `${request.id}.a1.completed.json`;
    const damaged = join(root, "results", name);
    await writeFile(damaged, '{"schema":"clawos.result/1","id":"'); // cut short…
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(damaged, hourAgo, hourAgo); // …long ago: not a write still in progress
    const task = await bb.get(request.id);
    assert.equal(task?.state, "failed");
    assert.equal(task?.result?.error?.kind, "result_unreadable");
    assert.match(task?.result?.error?.message ?? "", new RegExp(`results/${name} is not valid JSON`));
    const listing = await bb.list();
    assert.ok(
      listing.problems.some((p) => p.includes(`results/${name}`)),
      listing.problems.join("\n"),
    );
  });
});

test("directory driver: a finished task whose result has not arrived yet (a sync tool carries files in any order) is still finishing, then failed once the wait is over", async () => {
  const clock = new FakeClock();
  await withDirectory({ clock: clock.now }, async ({ bb, root }) => {
    const request = makeRequest();
    await bb.enqueue(request);
    const claim = await bb.claim("alpha");
    assert.ok(claim);
    assert.equal(await bb.complete(claim, resultFor(claim)), true);
    // The replica has the finishing rename but not yet the result.
    const name = `${request.id}.a1.completed.json`;
    const result = await readFile(join(root, "results", name), "utf8");
    await rm(join(root, "results", name));
    assert.equal((await bb.get(request.id))?.state, "claimed");
    assert.equal((await bb.list()).tasks.find((t) => t.request.id === request.id)?.state, "claimed");
    await writeFile(join(root, "results", name), result);
    assert.equal((await bb.get(request.id))?.state, "completed", "the result arrives: completed");

    await rm(join(root, "results", name));
    clock.advance(61_000);
    const lost = await bb.get(request.id);
    assert.equal(lost?.state, "failed", "a result that never comes is reported lost");
    assert.equal(lost?.result?.error?.kind, "result_missing");
  });
});
