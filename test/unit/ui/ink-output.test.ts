/**
 * Ink's Output with a memory of its rows (source/ui/ink-output.ts): every frame comes out
 * exactly as Ink's own Output draws it, rows that did not change are taken from the memo,
 * and the control center's Ink uses it. In a child process: the resolve hooks that point
 * Ink at it are process-wide (load-tui.ts).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const UI = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "source", "ui");

function run(body: string): string {
  const script = `
    const { loadTui } = await import(${JSON.stringify(path.join(UI, "load-tui.js"))});
    await loadTui();
    const { default: Ours, rowStats } = await import(${JSON.stringify(path.join(UI, "ink-output.js"))});
    const { default: Ink } = await import(new URL("./output.js", import.meta.resolve("ink")).href);
    ${body}
  `;
  return execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: UI, encoding: "utf8" });
}

describe("Ink's Output with a memory of its rows", () => {
  it("draws every frame as Ink's Output does, over frames that change a few writes at a time", () => {
    const out = run(`
      let seed = 7;
      const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
      const TEXTS = ["plain", "任务 完成", "🚀 v2", "\\u001b[31mred\\u001b[39m tail", "two\\nlines", "a\\nb\\nc", "x", "宽字符宽字符宽字符宽字符宽字符宽字符"];
      const bold = (line) => "\\u001b[1m" + line + "\\u001b[22m";
      const byLine = (line, i) => (i === 0 ? line : line.toUpperCase());
      const transforms = () => [[], [bold], [byLine], [bold, byLine], [(line) => "\\u001b[7m" + line + "\\u001b[27m"]][rand(5)];
      const write = () => ({ x: rand(34) - 2, y: rand(12) - 1, text: TEXTS[rand(TEXTS.length)], transformers: transforms() });
      let writes = Array.from({ length: 14 }, write);
      let frames = 0;
      let mismatches = 0;
      for (let f = 0; f < 400; f++) {
        // A few writes change, the rest stay the same objects (memoized rows).
        writes = writes.map((w) => (rand(6) === 0 ? write() : w));
        const clip = f % 50 === 49;
        const width = f < 300 ? 32 : 24;
        const pair = [new Ours({ width, height: 10 }), new Ink({ width, height: 10 })];
        for (const output of pair) {
          if (clip) output.clip({ x1: 2, x2: 20, y1: 1, y2: 8 });
          for (const w of writes) output.write(w.x, w.y, w.text, { transformers: w.transformers });
          if (clip) output.unclip();
        }
        const [ours, ink] = pair.map((o) => o.get());
        frames++;
        if (ours.output !== ink.output || ours.height !== ink.height) mismatches++;
      }
      process.stdout.write(JSON.stringify({ frames, mismatches, ...rowStats }));
    `);
    const result = JSON.parse(out) as { frames: number; mismatches: number; drawn: number; reused: number };
    assert.equal(result.frames, 400);
    assert.equal(result.mismatches, 0);
    assert.ok(result.reused > result.drawn, `most rows come from the memo: ${out}`);
  });

  it("is what the control center's Ink draws with: a row whose writes did not change is reused", () => {
    const out = run(`
      const { render, Text, Box } = await import("ink");
      const { createElement: h, memo, useState } = await import("react");
      const { Writable } = await import("node:stream");
      const frames = [];
      const stdout = Object.assign(new Writable({ write(chunk, _e, done) { frames.push(String(chunk)); done(); } }), { columns: 40, rows: 6, isTTY: false });
      // A memoized row keeps its Text's colour function from frame to frame, as the tables' rows do.
      const Fixed = memo(() => h(Text, { color: "green" }, "fixed row"));
      let bump;
      const Count = () => {
        const [n, setN] = useState(1);
        bump = () => setN(2);
        return h(Text, null, "count " + n);
      };
      // React renders from its scheduler: wait for the frame itself, not for a guessed time.
      const drawn = async (text) => {
        const end = Date.now() + 20000;
        while (!frames.some((f) => f.includes(text)) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      };
      const app = render(h(Box, { flexDirection: "column" }, h(Fixed), h(Count)), { stdout, debug: true, patchConsole: false });
      await drawn("count 1");
      const before = { ...rowStats };
      bump();
      await drawn("count 2");
      const afterChange = { drawn: rowStats.drawn - before.drawn, reused: rowStats.reused - before.reused };
      app.unmount();
      process.stdout.write(JSON.stringify({ afterChange, last: frames.filter((f) => f.includes("count")).at(-1) }));
    `);
    const result = JSON.parse(out) as { afterChange: { drawn: number; reused: number }; last: string };
    assert.match(result.last, /fixed row[\s\S]*count 2/);
    assert.ok(result.afterChange.reused >= 1, `the unchanged row came from the memo: ${out}`);
    assert.ok(result.afterChange.drawn >= 1, `the changed row was drawn: ${out}`);
  });
});
