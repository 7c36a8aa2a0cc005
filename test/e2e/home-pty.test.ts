import assert from "node:assert/strict";
import path from "node:path";
import { afterEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { KEYS, type PtySession, spawnNodeScript } from "../testkit/pty-harness.js";

// dist/test/e2e/home-pty.test.js → dist/test/testkit/tui-fake-main.js
const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "testkit", "tui-fake-main.js");

let session: PtySession | undefined;
afterEach(() => {
  session?.dispose();
  session = undefined;
});

describe("the home screen in a real pseudo-terminal", () => {
  it("80×24: nodes and tasks on one screen, nothing wrapped; the reply pane appears when the terminal grows", async () => {
    const pty = spawnNodeScript(MAIN, [], { cols: 80, rows: 24, env: { NO_COLOR: "" } });
    session = pty;
    await pty.waitForText("── Tasks 4");
    const lines = pty.screenLines();
    // A wrapped line would push the hints off the last row and the title off the first.
    assert.match(lines[0] ?? "", /^ ClawOS Federation \(fake\)\s+Nodes 4\s+Tasks 4 .*\? help$/);
    assert.match(lines[1] ?? "", /^\s+NODE\s+STATUS/);
    assert.match(lines.at(-1) ?? "", /\? help .*q quit$/);
    const tasksTitle = lines.findIndex((l) => l.startsWith("── Tasks 4"));
    assert.match(lines[tasksTitle + 1] ?? "", /^\s+TASK\s+.*STATE.*DESCRIPTION/);
    assert.ok(!lines.some((l) => l.includes("── Reply")), "no reply pane at 80 columns");

    // Tab gives the keys to the tasks; j moves there, the nodes keep their selection.
    pty.write(`j${KEYS.tab}j`);
    await pty.waitForText(/› req_20260227_200645|› 200645|› \S*200645/);
    assert.match(pty.screenText(), /› cloud-node/);

    // Dispatch; back home, the new task is in the tasks pane and its reply streams in
    // the third pane once the terminal is wide enough.
    pty.write("d");
    await pty.waitForText("Dispatch a task");
    pty.write(`from the home test${KEYS.enter}`);
    await pty.waitForText("STREAMED-REPLY-END");
    pty.write(KEYS.escape);
    await pty.waitForText(/from the home test/);
    pty.resize(130, 35);
    await pty.waitFor(
      () => pty.screenLines().some((l) => /── Reply \S+/.test(l)),
      "the reply pane at 130×35",
    );
    // The filter keeps the new task alone in the table: selected, its reply beside it.
    pty.write(`/from the home${KEYS.enter}`);
    await pty.waitFor(
      () => pty.screenLines().some((l) => /── Reply 00000001 +completed ─/.test(l)),
      "the new task in the reply pane",
    );
    await pty.waitForText(/STREAMED-REPLY-END/);
    pty.write("q");
    const exit = await pty.waitForExit();
    assert.equal(exit.exitCode, 0);
  });
});
