import assert from "node:assert/strict";
import { constants } from "node:os";
import path from "node:path";
import { afterEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { KEYS, type PtySession, spawnNodeScript } from "../testkit/pty-harness.js";

// dist/test/e2e/tui-pty.test.js → dist/test/testkit/tui-fake-main.js
const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "testkit", "tui-fake-main.js");

let session: PtySession | undefined;
afterEach(() => {
  session?.dispose();
  session = undefined;
});

/** CI=true on purpose: the TUI must decide interactivity from the TTY, not from CI (ARCHITECTURE.md §6.3). */
function start(cols: number, rows: number, env: Record<string, string> = {}): PtySession {
  session = spawnNodeScript(MAIN, [], { cols, rows, env: { CI: "true", NO_COLOR: "", ...env } });
  return session;
}

/**
 * The terminal's own title is pushed on xterm's title stack before the control center sets
 * its title (node counts), and popped after the last title it set: the tab's name comes back.
 */
function assertTitleRestored(raw: string): void {
  const saved = raw.indexOf("\u001b[22;0t");
  const firstTitle = raw.indexOf("\u001b]0;clawos");
  assert.ok(saved >= 0 && firstTitle > saved, "the title is saved before the control center sets one");
  assert.ok(raw.lastIndexOf("\u001b[23;0t") > raw.lastIndexOf("\u001b]0;"), "and restored at the exit");
}

describe("control center in a real pseudo-terminal", () => {
  it("opens full screen, navigates, filters, dispatches with a streamed reply, survives a resize and restores on quit", async () => {
    const pty = start(120, 40);
    await pty.waitForText("macbook-air");
    assert.equal(pty.isAlternateBuffer(), true, "alternate screen");
    assert.equal(pty.isCursorVisible(), false, "cursor hidden while running");
    assert.match(pty.screenLines()[0] ?? "", /ClawOS Federation \(fake\)/);

    // navigate (a batch of keys in one write)
    pty.write("jjj");
    await pty.waitForText(/› macbook-air/);

    // filter the tasks table
    pty.write(KEYS.tab);
    await pty.waitForText("DESCRIPTION");
    pty.write(`/state:failed${KEYS.enter}`);
    await pty.waitFor(
      () =>
        pty.screenText().includes("req_20260227_203300_0badc0de") &&
        !pty.screenText().includes("req_20260227_195930"),
      "filtered rows",
    );
    pty.write(KEYS.escape);
    await pty.waitForText("req_20260227_195930");

    // dispatch and watch the reply stream into the detail view
    pty.write("d");
    await pty.waitForText("Dispatch a task");
    pty.write(`hello from the pty test${KEYS.enter}`);
    await pty.waitForText(/Reply \(streaming…\)|Reply\s*$/m);
    await pty.waitForText("STREAMED-REPLY-END");
    assert.match(pty.screenText(), /Request\s+hello from the pty test/);

    // shrink to 80×24: still a whole, readable frame
    pty.resize(80, 24);
    await pty.waitFor(() => {
      const lines = pty.screenLines();
      return /ClawOS Federation/.test(lines[0] ?? "") && lines.some((l) => l.includes("STREAMED-REPLY-END"));
    }, "a full frame at 80×24");
    pty.write(KEYS.escape);
    await pty.waitFor(() => {
      const lines = pty.screenLines();
      // The home screen: the tasks table under the nodes.
      return (
        lines.some((l) => /^\s+TASK\s+.*STATE.*DESCRIPTION/.test(l)) && /pending/.test(lines.at(-2) ?? "")
      );
    }, "the tasks table laid out for 80 columns");
    // Live data is drawn within a frame budget: the last update may land a moment later.
    await pty.waitForText(/any→alpha\s+completed\s+P2\s+\d+s(?: 1\/3)? hello from the p/);
    assert.match(pty.screenLines().at(-1) ?? "", /help/);

    // quit: main screen back, cursor visible
    pty.write("q");
    const exit = await pty.waitForExit();
    assert.equal(exit.exitCode, 0);
    assert.equal(pty.isAlternateBuffer(), false, "back on the main screen");
    assert.equal(pty.isCursorVisible(), true, "cursor shown again");
    assert.match(pty.screenText(), /TUI-EXITED-CLEANLY/);
    assertTitleRestored(pty.output());
  });

  for (const signal of ["SIGTERM", "SIGHUP", "SIGINT"] as const) {
    it(`restores the terminal on ${signal}`, async () => {
      const pty = start(100, 30);
      await pty.waitForText("macbook-air");
      assert.equal(pty.isAlternateBuffer(), true);
      pty.kill(signal);
      const exit = await pty.waitForExit();
      assert.equal(
        exit.signal,
        constants.signals[signal],
        "the process still ends by the signal, after restoring",
      );
      assert.equal(pty.isAlternateBuffer(), false, "back on the main screen");
      assert.equal(pty.isCursorVisible(), true, "cursor shown again");
      assertTitleRestored(pty.output());
      assert.doesNotMatch(pty.screenText(), /TUI-FAILED/);
    });
  }

  it("Ctrl+C quits cleanly from inside a text field", async () => {
    const pty = start(100, 30);
    await pty.waitForText("macbook-air");
    pty.write("d");
    await pty.waitForText("Dispatch a task");
    pty.write(`half-typed${KEYS.ctrlC}`);
    const exit = await pty.waitForExit();
    assert.equal(exit.exitCode, 0);
    assert.equal(pty.isAlternateBuffer(), false);
    assert.equal(pty.isCursorVisible(), true);
  });

  it("a terminal shrunk under 40×10 shows a note that fits it, and the full frame comes back", async () => {
    const pty = start(100, 30);
    await pty.waitForText("macbook-air");
    pty.resize(30, 8);
    await pty.waitForText("Terminal too small (30×8)");
    // Nothing wrapped past the right edge: the last row is not a wrapped frame line.
    assert.doesNotMatch(pty.screenText(), /ClawOS Federation|macbook-air/);
    pty.resize(80, 24);
    await pty.waitFor(() => /ClawOS Federation/.test(pty.screenLines()[0] ?? ""), "the full frame again");
    await pty.waitForText(/› alpha/);
    assert.doesNotMatch(pty.screenText(), /too small/);
    pty.write("q");
    assert.equal((await pty.waitForExit()).exitCode, 0);
  });

  it("the hint line follows the screen: the dispatch form offers its own keys", async () => {
    const pty = start(100, 30);
    await pty.waitForText("macbook-air");
    assert.match(pty.screenLines().at(-1) ?? "", /\? help\s+Enter its tasks/);
    pty.write("d");
    await pty.waitForText("Dispatch a task");
    await pty.waitFor(() => /Enter send\s+Tab next field/.test(pty.screenLines().at(-1) ?? ""), "form hints");
    assert.doesNotMatch(pty.screenLines().at(-1) ?? "", /\? help|q quit/);
    pty.write(KEYS.escape);
    await pty.waitFor(() => /Enter its tasks/.test(pty.screenLines().at(-1) ?? ""), "nodes hints again");
    pty.write("q");
    assert.equal((await pty.waitForExit()).exitCode, 0);
  });

  it("first run in the terminal: discovery on a key adds the nodes it found", async () => {
    const pty = start(100, 30, { FAKE_EMPTY: "1" });
    await pty.waitForText("no nodes yet");
    pty.write("i");
    await pty.waitForText("Discovered and added: main, alpha");
    await pty.waitForText(/› alpha/);
    pty.write("q");
    assert.equal((await pty.waitForExit()).exitCode, 0);
  });
});
