import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createContext } from "../../../source/cli/context.js";
import { detectInvocation } from "../../../source/cli/invocation.js";
import { cmd, forInvocation, setInvocation } from "../../../source/present/invocation.js";
import { wrapProse } from "../../../source/present/prose.js";
import { displayWidth } from "../../../source/present/text.js";

const NAMES = ["status", "dispatch", "tasks", "nodes", "node", "init", "doctor"];

/** Every word of `text` is whole in `wrapped`, in order: only spaces became line breaks. */
function sameWords(wrapped: string, text: string): void {
  assert.deepEqual(wrapped.split(/\s+/).filter(Boolean), text.split(/\s+/).filter(Boolean));
}

describe("prose wrapped at the terminal's width", () => {
  const route =
    "req_20261205_234012_a7638c2f → alpha via localhost: least busy online node (0 tasks in flight, health 3 ms)";

  test("lines fit, words stay whole, continuation lines are indented under the first", () => {
    const wrapped = wrapProse(route, 80);
    const lines = wrapped.split("\n");
    assert.ok(lines.length > 1, wrapped);
    for (const line of lines) assert.ok(displayWidth(line) <= 80, line);
    sameWords(wrapped, route);
    for (const line of lines.slice(1)) assert.match(line, /^ {2}\S/);
    // An indented line's continuation goes two further in.
    const sub = wrapProse(`  ${route}`, 60).split("\n");
    assert.match(sub[0] ?? "", /^ {2}\S/);
    for (const line of sub.slice(1)) assert.match(line, /^ {4}\S/);
  });

  test("a short line, and a very narrow terminal, are left as they are", () => {
    assert.equal(wrapProse("Task cancelled.", 80), "Task cancelled.");
    assert.equal(wrapProse(route, 20), route);
  });

  test("a command is not broken over two lines; a word wider than the line stands alone", () => {
    const text =
      "queued for this machine's worker; follow it with: clawos tasks show req_20261205_234012_a7638c2f --follow";
    const lines = wrapProse(text, 70).split("\n");
    assert.ok(
      lines.some((l) => l.trim() === "clawos tasks show req_20261205_234012_a7638c2f --follow"),
      lines.join("\n"),
    );
    const path = `see ${"/very/long/path".repeat(8)} for details`;
    const wrapped = wrapProse(path, 40);
    sameWords(wrapped, path);
    assert.ok(wrapped.split("\n").some((l) => l.trim() === "/very/long/path".repeat(8)));
  });

  test("a hang lines continuations up under a column", () => {
    const doctor = `ok    blackboard ${"a directory that every machine syncs ".repeat(3)}`;
    const lines = wrapProse(doctor, 60, { hang: 17 }).split("\n");
    for (const line of lines.slice(1)) assert.match(line, /^ {17}\S/);
  });
});

describe("hints name the command the way the user runs it", () => {
  test("npx clawos under npm; clawos from PATH; npx clawos for a script in node_modules not on PATH", () => {
    assert.equal(detectInvocation({ npm_command: "exec" }, "/work/clawos/dist/clawos/bin.js"), "npx clawos");
    assert.equal(detectInvocation({ npm_command: "start" }, undefined), "npx clawos");
    assert.equal(detectInvocation({ PATH: "/usr/bin:/usr/local/bin" }, "/usr/local/bin/clawos"), "clawos");
    const bin = "/work/app/node_modules/.bin/clawos";
    assert.equal(detectInvocation({ PATH: "/work/app/node_modules/.bin:/usr/bin" }, bin), "clawos");
    assert.equal(detectInvocation({ PATH: "/usr/bin" }, bin), "npx clawos");
    assert.equal(detectInvocation({ PATH: "/usr/bin" }, "/opt/clawos/dist/clawos/bin.js"), "clawos");
  });

  test("only commands are rewritten, once, and cmd() builds them", () => {
    try {
      setInvocation("npx clawos", NAMES);
      assert.equal(cmd("tasks show ID"), "npx clawos tasks show ID");
      assert.equal(
        forInvocation("follow it with clawos tasks show X; or `clawos status`, clawos --help"),
        "follow it with npx clawos tasks show X; or `npx clawos status`, npx clawos --help",
      );
      for (const unchanged of [
        "clawos: unknown command 'x'",
        "npx clawos status",
        "the clawos home in ~/.openclaw/clawos is gone",
        "~/.openclaw/clawos status.json",
        "clawos-blackboard moved",
      ])
        assert.equal(forInvocation(unchanged), unchanged);
      setInvocation("clawos", NAMES);
      assert.equal(forInvocation("run clawos node run"), "run clawos node run");
      assert.equal(cmd("init"), "clawos init");
    } finally {
      setInvocation("clawos", NAMES);
    }
  });
});

describe("the CLI's prose streams", () => {
  const stream = (tty: boolean) => {
    const s = {
      isTTY: tty,
      columns: 60,
      text: "",
      write: (t: string) => {
        s.text += t;
        return true;
      },
    };
    return s;
  };
  const long =
    'clawos: "a7" matches 3 tasks: req_20261205_234012_a7638c2f, req_20261205_234013_a7000001, req_20261205_234014_a7999999.\n  fix: type more of the id (or its last 8 hex digits) to name one';

  test("a terminal gets messages wrapped at its width; a pipe gets whole lines; out is left alone", () => {
    const tty = stream(true);
    const pipe = stream(true);
    pipe.isTTY = false;
    const ctx = createContext(
      { stdout: tty as never, stderr: tty as never, stdin: process.stdin, env: {} },
      () => "/nowhere",
      () => undefined,
    );
    ctx.err(long);
    for (const line of tty.text.trimEnd().split("\n")) assert.ok(displayWidth(line) <= 60, line);
    sameWords(tty.text, long);
    tty.text = "";
    ctx.out(long);
    assert.equal(tty.text, `${long}\n`, "tables, JSON and replies go out as they are");
    const piped = createContext(
      { stdout: pipe as never, stderr: pipe as never, stdin: process.stdin, env: {} },
      () => "/nowhere",
      () => undefined,
    );
    piped.say(long);
    assert.equal(pipe.text, `${long}\n`);
  });
});
