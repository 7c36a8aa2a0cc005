import { helpEntries, type Keymap } from "./keymap.js";
import { displayWidth, pad, truncate } from "./text.js";
import type { Tone } from "./theme.js";

export interface Segment {
  text: string;
  tone?: Tone;
  bold?: boolean;
}

/** One row of the help overlay. */
export type HelpLine = Segment[];

const FORM_KEYS: [string, string][] = [
  ["Enter", "Send / apply"],
  ["Esc", "Close, nothing sent"],
  ["Tab ↑ ↓", "Next / previous field"],
  ["← → Space", "Change target/priority"],
];

const FOOTER =
  "Filter terms: free text, state:failed node:alpha priority:P0 target:any id:req_… ; commas = or, -term = not.";

function block(title: string, rows: [string, string][], keyWidth: number, width: number): HelpLine[] {
  const lines: HelpLine[] = [[{ text: title, bold: true, tone: "accent" }]];
  for (const [keys, help] of rows) {
    const head = `  ${pad(keys, keyWidth)} `;
    lines.push([
      { text: head, tone: "info" },
      { text: truncate(help, Math.max(1, width - displayWidth(head))) },
    ]);
  }
  return lines;
}

function lineWidth(line: HelpLine): number {
  return line.reduce((n, s) => n + displayWidth(s.text), 0);
}

/**
 * The help overlay's lines, generated from the resolved keymap (so a rebinding
 * shows up here automatically). Two columns when the screen is wide enough,
 * so that everything fits on an 80×24 terminal.
 */
export function buildHelpLines(keymap: Keymap, readonly: boolean, width: number): HelpLine[] {
  const groups = helpEntries(keymap, readonly);
  const twoColumns = width >= 76;
  const columnWidth = twoColumns ? Math.floor(width / 2) - 1 : width;
  const keyWidth = Math.min(
    12,
    Math.max(
      ...groups.flatMap((g) => g.entries.map((e) => displayWidth(e.keys))),
      ...FORM_KEYS.map(([k]) => k.length),
    ),
  );
  const blocks: HelpLine[][] = groups.map((g) =>
    block(
      g.group,
      g.entries.map((e) => [e.keys, e.help]),
      keyWidth,
      columnWidth,
    ),
  );
  blocks.push(block("Forms and prompts", FORM_KEYS, keyWidth, columnWidth));
  const intro: HelpLine = [
    { text: "Keys", bold: true },
    {
      text: readonly
        ? "  read-only session: dispatch, retry, cancel and discovery are off"
        : "  ? or Esc closes",
    },
  ];
  const footer: HelpLine = [{ text: truncate(FOOTER, width), tone: "muted" }];

  if (!twoColumns) return [intro, ...blocks.flatMap((b) => [[] as HelpLine, ...b]), [], footer];

  const total = blocks.reduce((n, b) => n + b.length, 0);
  const left: HelpLine[] = [];
  const right: HelpLine[] = [];
  for (const b of blocks) {
    const goesLeft =
      right.length === 0 && (left.length === 0 || left.length + b.length <= Math.ceil(total / 2) + 1);
    const column = goesLeft ? left : right;
    if (column.length > 0) column.push([]);
    column.push(...b);
  }
  const rows: HelpLine[] = [intro, []];
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const l = left[i] ?? [];
    const gap = Math.max(1, columnWidth + 2 - lineWidth(l));
    rows.push([...l, { text: " ".repeat(gap) }, ...(right[i] ?? [])]);
  }
  rows.push([], footer);
  return rows;
}
