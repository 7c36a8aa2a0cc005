/**
 * `npm run docs:screenshot`: render the real control center in a pseudo-terminal (the test
 * harness), turn the screen's cells into an SVG and that into docs/control-center.png with
 * rsvg-convert (Debian: librsvg2-bin). Re-run it whenever the screen changes.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { BIN, makeWorld, profileConfig } from "./cli-harness.js";
import { spawnInPty } from "./pty-harness.js";
import { startStubGateway } from "./stub-gateway.js";

// The size of the walk-through: wide enough for the reply pane beside the tasks.
const COLS = 120;
const ROWS = 35;
const CELL_W = 8.4;
const CELL_H = 18;
// A dark theme's ANSI palette.
const PALETTE = [
  "#1e1e1e",
  "#e06c75",
  "#98c379",
  "#e5c07b",
  "#61afef",
  "#c678dd",
  "#56b6c2",
  "#dcdfe4",
  "#5c6370",
  "#e06c75",
  "#98c379",
  "#e5c07b",
  "#61afef",
  "#c678dd",
  "#56b6c2",
  "#ffffff",
];
const FG = "#dcdfe4";
const BG = "#1e1e1e";

function colour(
  mode: "fg" | "bg",
  cell: {
    isFgDefault(): boolean;
    isBgDefault(): boolean;
    isFgPalette(): boolean;
    isBgPalette(): boolean;
    isFgRGB(): boolean;
    isBgRGB(): boolean;
    getFgColor(): number;
    getBgColor(): number;
  },
): string | undefined {
  const isDefault = mode === "fg" ? cell.isFgDefault() : cell.isBgDefault();
  if (isDefault) return undefined;
  const value = mode === "fg" ? cell.getFgColor() : cell.getBgColor();
  if (mode === "fg" ? cell.isFgRGB() : cell.isBgRGB()) return `#${value.toString(16).padStart(6, "0")}`;
  if (value < 16) return PALETTE[value];
  if (value >= 232) {
    const g = 8 + (value - 232) * 10;
    return `rgb(${g},${g},${g})`;
  }
  const v = value - 16;
  const c = (n: number) => (n === 0 ? 0 : 55 + n * 40);
  return `rgb(${c(Math.floor(v / 36))},${c(Math.floor(v / 6) % 6)},${c(v % 6)})`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// The stub gateways live in this process: the CLI must run without blocking its event loop.
const run = promisify(execFile);
const world = await makeWorld();
const main = await startStubGateway({ token: "m", reply: (p) => `Done: ${p}`, deltas: 4 });
const alpha = await startStubGateway({
  token: "a",
  reply: "Backtest finished: Sharpe 1.4 over 3 years.",
  deltas: 4,
});
try {
  await world.writeProfile(null, profileConfig(main.port, "m"));
  await world.writeProfile("alpha", profileConfig(alpha.port, "a"));
  await run(process.execPath, [BIN, "init"], { env: world.env });
  execFileSync(
    process.execPath,
    [
      BIN,
      "nodes",
      "add",
      "macbook-air",
      "--machine",
      "macbook-air",
      "--port",
      "18789",
      "--token-env",
      "AIR_TOKEN",
      "--notes",
      "Sleeping, Tailscale",
    ],
    { env: world.env },
  );
  execFileSync(
    process.execPath,
    [BIN, "nodes", "add", "cloud-node", "--planned", "--notes", "AWS Lightsail ($5/mo)"],
    { env: world.env },
  );
  for (const [text, to] of [
    ["Python function that adds two numbers", "hub"],
    ["Backtest the momentum strategy", "alpha"],
    ["Summarise today's logs", "any"],
  ]) {
    await run(process.execPath, [BIN, "dispatch", text!, "--to", to!, "--wait"], { env: world.env });
  }
  execFileSync(
    process.execPath,
    [BIN, "dispatch", "Develop the browser extension v2", "--to", "macbook-air"],
    { env: world.env },
  );
  process.stderr.write("seeded; opening the control center\n");
  const pty = spawnInPty(process.execPath, [BIN, "tui"], {
    cols: COLS,
    rows: ROWS,
    env: { ...world.env, NO_COLOR: "", FORCE_COLOR: "3" },
  });
  await pty.waitForText(/alpha\s+online/);
  // A few probes (one each 5 s) for the latency trend; then the keys to the tasks, on the
  // finished backtest, so its reply shows beside them.
  await new Promise((r) => setTimeout(r, 11_000));
  pty.write("\t/Backtest\r");
  await pty.waitForText(/── Reply \S+ +completed/);
  pty.write("\u001b");
  await pty.waitForText(/Summarise today/);
  await new Promise((r) => setTimeout(r, 800));

  const buffer = pty.terminal.buffer.active;
  const parts: string[] = [];
  for (let y = 0; y < ROWS; y++) {
    const line = buffer.getLine(y);
    if (!line) continue;
    for (let x = 0; x < COLS; x++) {
      const cell = line.getCell(x);
      if (!cell || cell.getWidth() === 0) continue;
      const bg = colour("bg", cell);
      const inverse = cell.isInverse();
      const fill = inverse ? (colour("fg", cell) ?? FG) : bg;
      if (fill)
        parts.push(
          `<rect x="${x * CELL_W}" y="${y * CELL_H}" width="${CELL_W * cell.getWidth()}" height="${CELL_H}" fill="${fill}"/>`,
        );
      const ch = cell.getChars();
      if (!ch || ch === " ") continue;
      const fg = inverse ? (bg ?? BG) : (colour("fg", cell) ?? FG);
      parts.push(
        `<text x="${x * CELL_W}" y="${y * CELL_H + 13}" fill="${fg}"${cell.isBold() ? ' font-weight="bold"' : ""}>${escapeXml(ch)}</text>`,
      );
    }
  }
  pty.write("q");
  await pty.waitForExit().catch(() => {});
  pty.dispose();
  const width = Math.ceil(COLS * CELL_W) + 24;
  const height = ROWS * CELL_H + 24;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans Mono, monospace" font-size="14">
<rect width="100%" height="100%" rx="8" fill="${BG}"/>
<g shape-rendering="crispEdges">
<g transform="translate(12,12)">${parts.join("")}</g></g>
</svg>`;
  const docs = fileURLToPath(new URL("../../../docs/", import.meta.url));
  await mkdir(docs, { recursive: true });
  await writeFile(join(docs, "control-center.svg"), svg);
  execFileSync("rsvg-convert", ["-o", join(docs, "control-center.png"), join(docs, "control-center.svg")]);
  await rm(join(docs, "control-center.svg"));
  process.stdout.write(`wrote ${join(docs, "control-center.png")}\n`);
} finally {
  await main.close();
  await alpha.close();
  await world.cleanup();
}
