import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { describe, it } from "node:test";
import type { FederationApi } from "../../../source/core/domain/federation-types.js";
import { runTui } from "../../../source/ui/run-tui.js";
import { FakeFederation, FIXED_NOW, seedNodes, seedTasks } from "../../testkit/fake-federation.js";
import { waitUntil } from "./helpers.js";

const ENTER_ALT = "\u001b[?1049h";
const SAVE_TITLE = "\u001b[22;0t";
const RESTORE_TITLE = "\u001b[23;0t";
const LEAVE_ALT = "\u001b[?1049l";
const SHOW_CURSOR = "\u001b[?25h";

/** A terminal's two ends as an SSH session would hand them over: own size, own raw mode. */
function fakeTerminal(columns: number, rows: number, isTTY = true) {
  const rawModes: boolean[] = [];
  const stdin = Object.assign(new PassThrough(), {
    isTTY,
    isRaw: false,
    setRawMode(mode: boolean) {
      rawModes.push(mode);
      stdin.isRaw = mode;
      return stdin;
    },
  });
  let output = "";
  const stdout = Object.assign(
    new Writable({
      write(chunk, _encoding, callback) {
        output += chunk.toString();
        callback();
      },
    }),
    { isTTY, columns, rows },
  );
  return {
    stdin: stdin as unknown as NodeJS.ReadStream,
    stdout: stdout as unknown as NodeJS.WriteStream,
    rawModes,
    output: () => output,
    clear: () => {
      output = "";
    },
    type: (keys: string) => stdin.write(keys),
    resize(c: number, r: number) {
      stdout.columns = c;
      stdout.rows = r;
      stdout.emit("resize");
    },
  };
}

const visible = (output: string) => output.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "");

function fake(): FakeFederation {
  return new FakeFederation({ nodes: seedNodes(), tasks: seedTasks(), now: () => FIXED_NOW });
}

describe("runTui", () => {
  it("opens the alternate screen, quits on q and restores the terminal", async () => {
    const term = fakeTerminal(100, 30);
    const api = fake();
    const done = runTui(api, { stdin: term.stdin, stdout: term.stdout, handleSignals: false });
    await waitUntil(() => visible(term.output()).includes("macbook-air"), term.output);
    assert.ok(
      term.output().startsWith(`${SAVE_TITLE}${ENTER_ALT}`),
      "the terminal's title saved, then the alternate screen, before any frame",
    );
    assert.equal(term.rawModes.at(-1), true, "raw mode on while running");
    term.type("q");
    await done;
    const out = term.output();
    assert.ok(
      out.lastIndexOf(LEAVE_ALT) > out.lastIndexOf("macbook-air"),
      "left the alternate screen after the last frame",
    );
    assert.ok(out.lastIndexOf(SHOW_CURSOR) > out.lastIndexOf(LEAVE_ALT) - 1, "cursor shown");
    assert.ok(out.lastIndexOf(RESTORE_TITLE) > out.lastIndexOf("macbook-air"), "the title given back");
    assert.equal(term.rawModes.at(-1), false, "raw mode off");
    assert.equal(api.listenerCount, 0, "unsubscribed");
  });

  it("reads the size only from the stdout it was given, and follows its resize events", async () => {
    const term = fakeTerminal(130, 30);
    const done = runTui(fake(), { stdin: term.stdin, stdout: term.stdout, handleSignals: false });
    await waitUntil(() => visible(term.output()).includes("NOTES"), term.output);
    term.clear();
    term.resize(60, 20);
    // The last header drawn is the one for 60 columns: low-priority columns are gone.
    const lastHeader = () =>
      visible(term.output())
        .split("\n")
        .filter((l) => /NODE\s+STATUS/.test(l))
        .at(-1) ?? "";
    await waitUntil(() => lastHeader() !== "" && !lastHeader().includes("NOTES"), term.output);
    assert.ok(lastHeader().length <= 60, lastHeader());
    term.type("q");
    await done;
  });

  it("runs several sessions side by side, each at its own size, with rebinding per session", async () => {
    const a = fakeTerminal(130, 30);
    const b = fakeTerminal(70, 20);
    const api = fake();
    const runA = runTui(api, { stdin: a.stdin, stdout: a.stdout, handleSignals: false, keys: { quit: "Q" } });
    const runB = runTui(api, { stdin: b.stdin, stdout: b.stdout, handleSignals: false, readonly: true });
    await waitUntil(
      () => visible(a.output()).includes("NOTES") && visible(b.output()).includes("READ-ONLY"),
      () => b.output(),
    );
    assert.doesNotMatch(visible(b.output()), /NOTES/);
    assert.equal(api.listenerCount, 2);
    a.type("q");
    b.type("q");
    await runB;
    a.type("?");
    await waitUntil(() => visible(a.output()).includes("Show / hide this help"), a.output);
    assert.match(visible(a.output()), /Q\s+Quit/);
    a.type("Q");
    await runA;
    assert.equal(api.listenerCount, 0);
  });

  it("restores the terminal when the output stream closes (lost connection)", async () => {
    const term = fakeTerminal(100, 30);
    const api = fake();
    const done = runTui(api, { stdin: term.stdin, stdout: term.stdout, handleSignals: false });
    await waitUntil(() => visible(term.output()).includes("macbook-air"), term.output);
    (term.stdout as unknown as Writable).destroy();
    await done;
    assert.equal(term.rawModes.at(-1), false);
    assert.equal(api.listenerCount, 0);
  });

  it("restores the terminal and rejects when the federation throws", async () => {
    const term = fakeTerminal(100, 30);
    const broken = fake() as FederationApi;
    const error = new Error("snapshot store corrupted");
    broken.subscribe = () => {
      throw error;
    };
    await assert.rejects(
      runTui(broken, { stdin: term.stdin, stdout: term.stdout, handleSignals: false }),
      /snapshot store corrupted/,
    );
    const out = term.output();
    assert.ok(out.lastIndexOf(LEAVE_ALT) > out.lastIndexOf(ENTER_ALT), "left the alternate screen");
    assert.ok(out.lastIndexOf(SHOW_CURSOR) >= out.lastIndexOf(LEAVE_ALT), "cursor shown");
    assert.notEqual(term.rawModes.at(-1), true, "raw mode not left on");
  });

  it("installs its signal listeners only while running, and none when asked not to", async () => {
    const before = process.listenerCount("SIGTERM");
    const term = fakeTerminal(100, 30);
    const done = runTui(fake(), { stdin: term.stdin, stdout: term.stdout });
    await waitUntil(() => visible(term.output()).includes("macbook-air"), term.output);
    assert.ok(process.listenerCount("SIGTERM") > before);
    term.type("q");
    await done;
    assert.equal(process.listenerCount("SIGTERM"), before);
  });

  it("with a non-TTY stdout it stays non-interactive: no alternate screen", async () => {
    const term = fakeTerminal(100, 30, false);
    const done = runTui(fake(), { stdin: term.stdin, stdout: term.stdout, handleSignals: false });
    await new Promise((r) => setTimeout(r, 100));
    (term.stdout as unknown as Writable).destroy();
    await done;
    assert.ok(!term.output().includes(ENTER_ALT));
  });
});
