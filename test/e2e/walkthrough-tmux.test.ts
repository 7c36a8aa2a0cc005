/**
 * A new user's walk through a real terminal (tmux) at 80×24 and 120×35: `clawos status` and the
 * control center speak the same column words in the same order, nothing wraps, and the key
 * hints offer only actions that apply to the selected row.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { NodeView } from "../../source/core/domain/federation-types.js";
import { withUsageColumns } from "../../source/present/usage-text.js";
import { nodeColumns, taskColumns } from "../../source/present/vocabulary.js";
import { homeLayout } from "../../source/ui/layout.js";
import { BIN, makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

const run = promisify(execFile);
// With the TOKENS and BUDGET columns a node that used tokens or has a budget brings.
const NODE_WORDS = withUsageColumns(nodeColumns(0), [
  { usage: { week: { tasks: 1 } }, budget: { percent: 0 } } as NodeView,
]).map((c) => c.header);
// The control center adds the latency trend after LATENCY (the CLI prints one probe, no trend).
const TUI_NODE_WORDS = NODE_WORDS.flatMap((w) => (w === "LATENCY" ? [w, "TREND"] : [w]));
const TASK_WORDS = taskColumns(0, 200).map((c) => c.header);

/** The selected row of the table that has the keys (the last one marked). */
function selectedRow(lines: string[]): string {
  return lines.filter((l) => l.startsWith("›")).at(-1) ?? "";
}

/** The labels of a task's facts ("Task", "State", …), in order. */
function labelsOf(lines: string[]): string[] {
  return lines.flatMap((l) => {
    const label =
      /^\s?(Task|State|Priority|Attempt|Target|Reason|Note|Created|Started|Finished|Took|Tokens)\s{2,}\S/.exec(
        l,
      )?.[1];
    return label ? [label] : [];
  });
}

/** The words of a header line, checked to be canonical column names in the canonical order. */
function assertCanonical(header: string, canonical: string[], where: string): string[] {
  const words = header.trim().split(/\s+/);
  let at = -1;
  for (const word of words) {
    const i = canonical.indexOf(word);
    assert.ok(i > at, `${where}: "${word}" is not a column word, or out of order, in: ${header}`);
    at = i;
  }
  return words;
}

describe("walk-through in tmux", () => {
  let world: World;
  let gateway: StubGateway;
  const socket = `clawos-walk-${randomBytes(4).toString("hex")}`;
  const tmux = (...args: string[]) => run("tmux", ["-L", socket, "-f", "/dev/null", ...args]);
  const screen = async (target: string) =>
    (await tmux("capture-pane", "-p", "-t", target)).stdout.replace(/\n$/, "").split("\n");
  /** Start `args` in a detached tmux session of the given size, in the world's environment. */
  const start = async (name: string, cols: number, rows: number, args: string[]) => {
    const env = Object.entries({ ...world.env, TERM: "xterm-256color" }).flatMap(([k, v]) => [
      "-e",
      `${k}=${v}`,
    ]);
    // A one-shot command's window stays up after it ends, to be read.
    const command = `${[process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ")}; sleep 120`;
    await tmux("new-session", "-d", "-s", name, "-x", String(cols), "-y", String(rows), ...env, command);
  };
  const waitFor = async (target: string, test: (lines: string[]) => boolean, what: string) => {
    let lines: string[] = [];
    for (let i = 0; i < 300; i++) {
      lines = await screen(target);
      if (test(lines)) return lines;
      await sleep(100);
    }
    throw new Error(`never saw ${what} in:\n${lines.join("\n")}`);
  };

  before(async () => {
    world = await makeWorld();
    gateway = await startStubGateway({ token: "walk-secret", reply: (p) => `echo: ${p}` });
    await world.writeProfile(null, profileConfig(gateway.port, "walk-secret"));
    assert.equal((await world.run(["init"])).code, 0);
    assert.equal((await world.run(["dispatch", "a task that completes", "--to", "hub", "--wait"])).code, 0);
    const far = ["nodes", "add", "far", "--machine", "elsewhere", "--port", "18789", "--no-token"];
    assert.equal((await world.run(far)).code, 0);
    const cancelled = await world.run(["dispatch", "a task that is cancelled", "--to", "far", "--json"]);
    const cancelledId = (JSON.parse(cancelled.stdout) as { id: string }).id;
    assert.equal((await world.run(["tasks", "cancel", cancelledId])).code, 0);
    assert.equal((await world.run(["dispatch", "a task that waits", "--to", "far"])).code, 0);
  });
  after(async () => {
    await tmux("kill-server").catch(() => undefined);
    await gateway.close();
    await world.cleanup();
  });

  for (const [cols, rows] of [
    [80, 24],
    [120, 35],
  ] as const) {
    test(`${cols}×${rows}: same column words in status and the control center, no wraps, actions that apply`, async () => {
      // The CLI in a terminal of that width.
      const cli = `cli${cols}`;
      await start(cli, cols, rows, ["status", "--limit", "3"]);
      const status = await waitFor(cli, (l) => l.some((x) => x.startsWith("TASK")), "the tasks table");
      const statusText = (await tmux("capture-pane", "-p", "-J", "-t", cli, "-S", "-100")).stdout;
      for (const line of statusText.split("\n").filter((l) => !/^(note: |! )/.test(l)))
        assert.ok(line.length <= cols, `status wraps at ${cols}: ${line}`);
      const cliNodes = assertCanonical(status.find((l) => l.startsWith("NODE")) ?? "", NODE_WORDS, "status");
      const cliTasks = assertCanonical(status.find((l) => l.startsWith("TASK")) ?? "", TASK_WORDS, "status");

      // The control center in the same terminal size.
      const tui = `tui${cols}`;
      await start(tui, cols, rows, []);
      const nodes = await waitFor(tui, (l) => l.some((x) => /^\s+NODE\s/.test(x)), "the nodes table");
      const tuiNodes = assertCanonical(
        nodes.find((l) => /^\s+NODE\s/.test(l)) ?? "",
        TUI_NODE_WORDS,
        "control center",
      );
      // The tasks sit under the nodes on the home screen; Tab gives them the keys.
      await tmux("send-keys", "-t", tui, "Tab");
      let tasks = await waitFor(tui, (l) => /row \d+\/3/.test(l[0] ?? ""), "the keys on the tasks");
      const tuiTasks = assertCanonical(
        // Wide enough, the selected task's reply pane is beside the header: not a column.
        (tasks.find((l) => /^\s+TASK\s/.test(l)) ?? "").slice(
          0,
          homeLayout({ columns: cols, rows }, 2).tasksWidth,
        ),
        TASK_WORDS,
        "control center",
      );
      // Both faces keep the columns that matter most, under the same names.
      for (const word of ["NODE", "STATUS", "REASON"])
        assert.ok(cliNodes.includes(word) && tuiNodes.includes(word));
      for (const word of ["TASK", "STATE", "DESCRIPTION"])
        assert.ok(cliTasks.includes(word) && tuiTasks.includes(word));

      // No wraps: the title is the first line, the key hints the last, each within the width.
      assert.equal(tasks.length, rows);
      assert.match(tasks[0] ?? "", /ClawOS Federation\s+Nodes 2\s+Tasks 3\s+row 1\/3/);
      for (const line of tasks) assert.ok(line.length <= cols, `control center wraps at ${cols}: ${line}`);

      // Walk the rows: the hints offer retry only on the cancelled task, cancel only on the waiting one.
      const seen = new Set<string>();
      for (let i = 0; i < 3; i++) {
        tasks = await waitFor(tui, (l) => l.some((x) => x.startsWith("›")), "a selected row");
        // The last selected row is the tasks' (the nodes, above, keep theirs).
        const row = tasks.filter((l) => l.startsWith("›")).at(-1) ?? "";
        const state = /\b(pending|completed|cancelled)\b/.exec(row)?.[1] ?? "?";
        const hints = tasks.at(-1) ?? "";
        seen.add(state);
        assert.equal(/\br retry\b/.test(hints), state === "cancelled", `${state}: ${hints}`);
        assert.equal(/\bx cancel\b/.test(hints), state === "pending", `${state}: ${hints}`);
        await tmux("send-keys", "-t", tui, "j");
        await sleep(300);
      }
      assert.deepEqual([...seen].sort(), ["cancelled", "completed", "pending"]);

      // A message fits (two lines at most), leaves the key hints on the last line, and goes by itself.
      for (let i = 0; i < 3 && !/\bpending\b/.test(selectedRow(await screen(tui))); i++) {
        await tmux("send-keys", "-t", tui, "k");
        await sleep(300);
      }
      await tmux("send-keys", "-t", tui, "r");
      const said = await waitFor(
        tui,
        (l) => l.some((x) => /only failed or cancelled/.test(x)),
        "the message",
      );
      assert.equal(said.length, rows);
      for (const line of said) assert.ok(line.length <= cols, `control center wraps at ${cols}: ${line}`);
      assert.match(said.at(-1) ?? "", /\? help .* q quit/, "the key hints stay");
      // Two lines at 80 columns, broken between words.
      assert.match(
        said.join("\n"),
        /is\s+pending:\s+only\s+failed\s+or\s+cancelled\s+tasks\s+can\s+be\s+retried\./,
      );
      await waitFor(tui, (l) => !l.some((x) => /only failed or cancelled/.test(x)), "the message gone");

      // The task's detail: the same words, in the same order, as `tasks show` prints.
      await tmux("send-keys", "-t", tui, "Enter");
      await waitFor(tui, (l) => l.some((x) => /^\s*History /.test(x)), "the task's detail");
      await tmux("send-keys", "-t", tui, "g"); // its top: the facts
      const detail = await waitFor(tui, (l) => l.some((x) => /^\s?Task\s/.test(x)), "the task's facts");
      const id = /req_\S+/.exec(detail.join("\n"))?.[0] ?? "";
      const shown = `show${cols}`;
      await start(shown, cols, rows, ["tasks", "show", id.slice(-8)]);
      await waitFor(shown, (l) => l.some((x) => /^Reply/.test(x)), "tasks show");
      const printed = (await tmux("capture-pane", "-p", "-t", shown, "-S", "-100")).stdout.split("\n");
      assert.deepEqual(labelsOf(printed), labelsOf(detail));
      assert.ok(labelsOf(printed).length >= 7, printed.join("\n"));
      await tmux("send-keys", "-t", tui, "q");
    });
  }

  // After the walks above: each dispatch adds a task to the tables they count.
  for (const [cols, rows] of [
    [80, 24],
    [120, 35],
  ] as const) {
    test(`${cols}×${rows}: dispatch's messages break between words, within the width`, async () => {
      const name = `dispatch${cols}`;
      const text = "a task with a description long enough to follow the route line";
      await start(name, cols, rows, ["dispatch", text, "--to", "far", "--priority", "P3"]);
      await waitFor(name, (l) => l.some((x) => /tasks show \S+ --follow/.test(x)), "how to follow it");
      // -J joins the lines the terminal wrapped: each is still within the width, so the command
      // broke its lines itself, between words, and its commands stay on one line.
      const joined = (await tmux("capture-pane", "-p", "-J", "-t", name)).stdout.trimEnd().split("\n");
      for (const line of joined) assert.ok(line.length <= cols, `wraps at ${cols}: ${line}`);
      assert.ok(
        joined.some((l) => /(^|\s)clawos tasks show [0-9a-f]{8} --follow$/.test(l)),
        joined.join("\n"),
      );
    });
  }
});
