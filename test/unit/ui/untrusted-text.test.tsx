import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { cleanup } from "ink-testing-library";
import { cell, displayWidth } from "../../../source/present/text.js";
import { nodeColumns, taskColumns } from "../../../source/present/vocabulary.js";
import { buildDetailLines } from "../../../source/ui/detail-lines.js";
import { FakeFederation, FIXED_NOW, makeNode, makeTask } from "../../testkit/fake-federation.js";
import { ESC_KEYS, renderApp } from "./helpers.js";

afterEach(() => cleanup());

const HOSTILE =
  "\u001b[2J\u001b]0;pwned title\u0007\u001b[?1049l开发 babel 插件 🚀 v2\u001b[31m red\u009b2J\r\nsecond line\u0007";

/** Colour (SGR) is the only escape sequence the UI itself may emit; everything else would come from the data. */
function dangerousControls(output: string): string[] {
  const withoutSgr = output.replace(/\u001b\[[0-9;]*m/g, "");
  return [...withoutSgr.matchAll(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g)].map((m) =>
    JSON.stringify(m[0]),
  );
}

function column(line: string, text: string): number {
  const at = line.indexOf(text);
  return at < 0 ? -1 : displayWidth(line.slice(0, at));
}

describe("untrusted text from tasks, nodes and errors", () => {
  const fake = () =>
    new FakeFederation({
      now: () => FIXED_NOW,
      nodes: [
        makeNode({ id: "alpha", reason: "心跳 正常 🚀\u001b[2J", notes: "\u001b]0;x\u0007notes 备注" }),
        makeNode({ id: "beta", reason: "ok", notes: "plain" }),
      ],
      tasks: [
        makeTask({
          id: "req_20260227_203000_00000001",
          node: "alpha",
          target: "any",
          text: HOSTILE,
          createdAt: "2026-02-27T20:30:00Z",
        }),
        makeTask({
          id: "req_20260227_202000_00000002",
          node: "beta",
          text: "plain ascii task",
          createdAt: "2026-02-27T20:20:00Z",
        }),
        makeTask({
          id: "req_20260227_201000_00000003",
          node: "alpha",
          text: "全角文字テスト👍👍",
          createdAt: "2026-02-27T20:10:00Z",
        }),
      ],
      lastError: "\u001b[2Jboard: bad file \u001b]0;t\u0007名字.json",
    });

  it("never lets an escape sequence through, in any view", async () => {
    const app = await renderApp({ fake: fake(), size: { columns: 100, rows: 30 } });
    await app.waitFor("beta");
    await app.write(ESC_KEYS.tab);
    await app.waitFor("DESCRIPTION");
    await app.write(ESC_KEYS.enter);
    await app.waitFor("second line");
    const detail = app.frame();
    assert.match(detail, /开发 babel 插件 🚀 v2 red/);
    assert.deepEqual(dangerousControls(app.allOutput()), []);
    assert.doesNotMatch(app.allOutput(), /pwned/);
  });

  it("keeps the columns aligned with CJK, emoji and stripped escapes in the cells", async () => {
    const app = await renderApp({ fake: fake(), size: { columns: 100, rows: 30 } });
    await app.waitFor("beta");
    const nodeLines = app.frame().split("\n").slice(1, 4);
    const via = nodeLines.map((l) => column(l, l.includes("NODE") ? "TRANSPORT" : "localhost"));
    assert.equal(new Set(via).size, 1, `TRANSPORT column moves: ${via.join(",")}\n${nodeLines.join("\n")}`);
    assert.ok((via[0] ?? -1) > 0);

    await app.write(ESC_KEYS.tab);
    await app.waitFor("DESCRIPTION");
    const lines = app.frame().split("\n");
    // The tasks table sits under the nodes on the home screen: from its header on.
    const header = lines.findIndex((l) => /^\s+TASK\s/.test(l));
    const rows = lines.slice(header, header + 4);
    const states = rows.map((l) => column(l, l.includes("NODE") ? "STATE" : "pending"));
    assert.equal(new Set(states).size, 1, `STATE column moves: ${states.join(",")}\n${rows.join("\n")}`);
    const descriptions = rows.map((l) =>
      column(
        l,
        l.includes("NODE")
          ? "DESCRIPTION"
          : l.includes("开发")
            ? "开发"
            : l.includes("plain")
              ? "plain"
              : "全角",
      ),
    );
    assert.equal(
      new Set(descriptions).size,
      1,
      `DESCRIPTION column moves: ${descriptions.join(",")}\n${rows.join("\n")}`,
    );
    for (const line of lines) assert.ok(displayWidth(line) <= 100, `wider than the screen: ${line}`);
    assert.deepEqual(dangerousControls(app.allOutput()), []);
  });

  it("sanitizes failure messages coming back from the facade", async () => {
    const hostile = new FakeFederation({
      now: () => FIXED_NOW,
      nodes: [],
      tasks: [],
      discoverFinds: new Error("\u001b]52;c;ZXZpbA==\u0007clipboard \u001b[5mblink"),
    });
    const app = await renderApp({ fake: hostile });
    await app.write("i");
    await app.waitFor("Discovery failed: clipboard blink");
    assert.deepEqual(dangerousControls(app.allOutput()), []);
  });

  it("our own formatting strips them before Ink ever sees the text (defence in depth)", () => {
    const task = makeTask({
      id: "req_20260227_203000_00000001",
      text: HOSTILE,
      reply: HOSTILE,
      error: { kind: "gateway\u001b[2J", message: HOSTILE, hint: HOSTILE },
      history: [{ at: "2026-02-27T20:30:00Z", event: "claimed\u0007", detail: HOSTILE }],
    });
    const detail = buildDetailLines(task, 60, FIXED_NOW)
      .map((l) => l.text)
      .join("\n");
    assert.deepEqual(dangerousControls(detail), []);
    const node = makeNode({ id: "alpha", reason: HOSTILE, notes: HOSTILE, host: "h\u001b[2J" });
    for (const col of [
      ...taskColumns(FIXED_NOW, 80).map((c) => cell(c.value(task), 20)),
      ...nodeColumns(FIXED_NOW).map((c) => cell(c.value(node), 20)),
    ]) {
      assert.deepEqual(dangerousControls(col), [], col);
      assert.equal(displayWidth(col), 20);
    }
  });
});
