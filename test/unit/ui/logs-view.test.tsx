import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { cleanup } from "ink-testing-library";
import type { LogEntry, LogOptions, LogView } from "../../../source/core/domain/federation-types.js";
import { FakeFederation, FIXED_NOW, seedNodes, seedTasks } from "../../testkit/fake-federation.js";
import { ESC_KEYS, renderApp, SIZE_80x24, waitUntil } from "./helpers.js";

afterEach(() => cleanup());

const entry = (minute: number, level: string, text: string): LogEntry => ({
  at: new Date(FIXED_NOW - (10 - minute) * 60_000).toISOString(),
  source: "worker",
  level,
  text,
});

/** A fake whose `logs` hands out a first batch, then whatever the test pushes, until stopped. */
function fakeWithLogs() {
  const fake = new FakeFederation({ nodes: seedNodes(), tasks: seedTasks(), now: () => FIXED_NOW });
  const opened: { node: string; options: LogOptions }[] = [];
  let push: ((view: LogView) => void) | undefined;
  Object.assign(fake, {
    logs(node: string, options: LogOptions, onLines: (view: LogView) => void): Promise<void> {
      opened.push({ node, options });
      onLines({
        node,
        origin: "worker log ~/w.log and gateway log /tmp/g.log",
        initial: true,
        entries: [
          entry(1, "info", "worker started"),
          entry(2, "warn", "gateway down: refused"),
          entry(3, "info", "gateway is back \u001b[31mred\u001b[0m"),
        ],
      });
      push = (view) => onLines(view);
      return new Promise<void>((resolve) => options.signal?.addEventListener("abort", () => resolve()));
    },
  });
  return { fake, opened, push: (view: LogView) => push?.(view) };
}

describe("the log view (l)", () => {
  it("opens the selected node's log, follows new lines, filters with /, and Esc closes it", async () => {
    const { fake, opened, push } = fakeWithLogs();
    const app = await renderApp({ fake, size: SIZE_80x24 });
    await app.waitFor("NODE");
    await app.write("l");
    await app.waitFor("worker started");
    const node = opened[0]?.node as string;
    assert.ok(node, "the facade was asked for a log");
    assert.equal(opened[0]?.options.follow, true);
    assert.match(app.frame(), new RegExp(`Log of ${node} · worker log ~/w\\.log`));
    assert.match(app.frame(), /gateway down: refused/);
    assert.ok(!app.frame().includes("\u001b[31m"), "no escape from a log line reaches the screen");

    push({
      node,
      origin: "worker log ~/w.log",
      initial: false,
      entries: [entry(4, "error", "claim failed")],
    });
    await app.waitFor("claim failed");

    await app.write("/");
    await app.write("gateway");
    await app.waitFor(/filter: gateway/);
    await app.write(ESC_KEYS.enter);
    await app.waitFor((f) => /filter "gateway" \(2 of 4\)/.test(f) && !f.includes("worker started"));
    assert.match(app.frame(), /gateway is back/);

    await app.write(ESC_KEYS.escape);
    await app.waitFor((f) => f.includes("worker started") && !f.includes('filter "gateway"'));
    await app.write(ESC_KEYS.escape);
    await app.waitFor(/NODE\s+STATUS/);
    assert.ok(!app.frame().includes("Log of"));
    await waitUntil(
      () => opened[0]?.options.signal?.aborted === true,
      () => "closing the view stops following",
    );
  });

  it("from the tasks table, l opens the selected task's node", async () => {
    const { fake, opened } = fakeWithLogs();
    const app = await renderApp({ fake });
    await app.write(ESC_KEYS.tab);
    await app.waitFor("TARGET→NODE");
    await app.write("l");
    await app.waitFor("Log of");
    assert.ok(
      seedTasks().some((t) => t.node === opened[0]?.node),
      "the node of a task",
    );
  });

  it("help lists l", async () => {
    const app = await renderApp({ fakeOptions: {} });
    await app.write("?");
    await app.waitFor(/l\s+Node log/);
  });
});
