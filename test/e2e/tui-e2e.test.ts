import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, afterEach, before, describe, test } from "node:test";
import { BIN, makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { KEYS, type PtySession, spawnInPty } from "../testkit/pty-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

/** The real `clawos` binary in a real pseudo-terminal, over the real core and a stub gateway. */
describe("clawos tui, end to end in a pseudo-terminal", () => {
  let world: World;
  let gateway: StubGateway;
  let pty: PtySession | undefined;

  before(async () => {
    world = await makeWorld();
    gateway = await startStubGateway({
      token: "alpha-secret",
      reply: (p) => `alpha streamed: ${p} STREAM-END`,
      deltas: 12,
      chunkDelayMs: 40,
    });
    await world.writeProfile("alpha", profileConfig(gateway.port, "alpha-secret"));
    assert.equal((await world.run(["init"])).code, 0);
    // The emoji takes the exact width path (string-width), which the bundle must find.
    const seeded = await world.run(["dispatch", "第一个任务 with 中文 👍", "--to", "alpha", "--wait"]);
    assert.equal(seeded.code, 0, seeded.stderr);
  });
  afterEach(() => {
    pty?.dispose();
    pty = undefined;
  });
  after(async () => {
    await gateway.close();
    await world.cleanup();
  });

  // CI=true on purpose: interactivity must come from the TTY (ARCHITECTURE.md §6.3).
  const open = (cols: number, rows: number) => {
    pty = spawnInPty(process.execPath, [BIN, "tui"], {
      cols,
      rows,
      // MALLOC_ARENA_MAX left unset, as most users have it: the restart then sets it.
      env: { ...world.env, CI: "true", NO_COLOR: "1", MALLOC_ARENA_MAX: undefined },
      timeoutMs: 30_000,
    });
    return pty;
  };

  test("open, navigate, filter, dispatch and watch the answer stream, resize, quit", async () => {
    const t = open(120, 40);
    await t.waitForText(/alpha\s+online/);
    assert.equal(t.isAlternateBuffer(), true);
    // The control center replaced itself (same pid) with a compact heap: see source/long-running-heap.ts.
    if (typeof (process as { execve?: unknown }).execve === "function")
      assert.match(
        readFileSync(`/proc/${t.pid}/cmdline`, "utf8"),
        /--max-semi-space-size=4\0--max-old-space-size=512\0/,
      );
    // …and with fewer malloc arenas, the user not having set any.
    if (typeof (process as { execve?: unknown }).execve === "function")
      assert.match(readFileSync(`/proc/${t.pid}/environ`, "utf8"), /(^|\0)MALLOC_ARENA_MAX=2\0/);

    t.write(KEYS.tab);
    await t.waitForText("第一个任务 with 中文");

    t.write("d");
    await t.waitForText("Dispatch a task");
    t.write(`from the terminal${KEYS.enter}`);
    await t.waitForText("STREAM-END");
    assert.match(t.screenText(), /alpha streamed: from the terminal STREAM-END/);

    t.resize(80, 24);
    await t.waitFor(() => /ClawOS Federation/.test(t.screenLines()[0] ?? ""), "a whole frame at 80×24");
    t.write(KEYS.escape);
    // Wait for the table itself: an ESC followed too soon by "/" reads as Alt+/ in any terminal.
    await t.waitForText(/TASK\s.*STATE/);

    t.write(`/state:completed node:alpha${KEYS.enter}`);
    await t.waitFor(
      () => t.screenText().includes("第一个任务") && t.screenText().includes("from the terminal"),
      "filtered",
    );
    t.write(`/zzz-nothing${KEYS.enter}`);
    await t.waitForNoText("第一个任务");

    t.write("q");
    const exit = await t.waitForExit();
    assert.equal(exit.exitCode, 0);
    assert.equal(t.isAlternateBuffer(), false, "normal screen buffer again");
    assert.equal(t.isCursorVisible(), true);
  });

  test("SIGTERM restores the terminal and still closes the federation cleanly", async () => {
    const t = open(100, 30);
    await t.waitForText(/alpha\s+online/);
    t.kill("SIGTERM");
    const exit = await t.waitForExit();
    assert.equal(exit.exitCode, 130);
    assert.equal(t.isAlternateBuffer(), false);
    assert.equal(t.isCursorVisible(), true);
  });
});
