import { displayWidth, pad, truncate } from "../../../present/text.js";
import { helpEntries, type Keymap, primaryKey } from "../../keymap.js";
import { availableCommands } from "../../state/palette.js";
import type { Tone } from "../../theme.js";

export interface Segment {
  text: string;
  tone?: Tone;
  bold?: boolean;
}

/** One row of the help overlay. */
export type HelpLine = Segment[];

const FORM_KEYS: [string, string][] = [
  ["Enter / Esc", "Send / close unsent"],
  ["Tab ↑ ↓", "Next / previous field"],
  ["← → Space", "Change target/priority"],
];

/** A read-only session has no dispatch form: only the filter and palette prompts. */
const PROMPT_KEYS: [string, string][] = [
  ["Enter", "Apply"],
  ["Esc", "Close, nothing changed"],
];

const FILTER_ITEMS = [
  "free text",
  "state:failed",
  "node:alpha",
  "priority:P0",
  "target:any",
  "id:req_…",
  "· state:a,b either",
  "· -term not",
];

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
 * A titled paragraph of items ("state:failed", ":nodes [filter]") wrapped to the
 * width between items, never inside one; continuation lines indented under the text.
 */
function paragraph(title: string, items: string[], width: number): HelpLine[] {
  const head = `${title}  `;
  const indent = " ".repeat(displayWidth(head));
  const room = Math.max(10, width - indent.length);
  const rows: string[] = [];
  let line = "";
  for (const item of items) {
    if (line !== "" && displayWidth(line) + 2 + displayWidth(item) > room) {
      rows.push(line);
      line = item;
    } else {
      line = line === "" ? item : `${line}  ${item}`;
    }
  }
  if (line !== "") rows.push(line);
  return rows.map((row, i) => [
    i === 0 ? { text: head, bold: true, tone: "accent" } : { text: indent },
    { text: truncate(row, room), tone: "muted" },
  ]);
}

/**
 * The help overlay's lines, generated from the resolved keymap (so a rebinding
 * shows up here automatically) and from the palette's commands. Two columns
 * when the screen is wide enough, so that everything fits on an 80×24 terminal.
 */
export function buildHelpLines(keymap: Keymap, readonly: boolean, width: number): HelpLine[] {
  const groups = helpEntries(keymap, readonly);
  const formKeys = readonly ? PROMPT_KEYS : FORM_KEYS;
  const twoColumns = width >= 76;
  const columnWidth = twoColumns ? Math.floor(width / 2) - 1 : width;
  const keyWidth = Math.min(
    12,
    Math.max(
      ...groups.flatMap((g) => g.entries.map((e) => displayWidth(e.keys))),
      ...formKeys.map(([k]) => displayWidth(k)),
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
  blocks.push(block(readonly ? "Prompts" : "Forms and prompts", formKeys, keyWidth, columnWidth));
  const palette = primaryKey(keymap, "palette");
  const commands = availableCommands(readonly)
    .filter((c) => c.listed !== false)
    .map((c) => `:${c.name}${c.args ? ` ${c.args}` : ""}`);
  const footer: HelpLine[] = [
    ...(palette ? paragraph("Commands", [...commands, "(Tab completes)"], width) : []),
    ...paragraph("Filter", FILTER_ITEMS, width),
  ];
  // Only a read-only session needs a word up front; everything else is in the hint line.
  const intro: HelpLine[] = readonly
    ? [
        [
          {
            text: "Read-only session: dispatch, retry, cancel, discovery and migration are off.",
            tone: "error",
          },
        ],
        [],
      ]
    : [];

  if (!twoColumns) return [...intro, ...blocks.flatMap((b, i) => (i > 0 ? [[], ...b] : b)), [], ...footer];

  // The groups in order, split where the taller column is shortest; no blank line between
  // groups (their titles stand out), so 80×24 keeps free lines for keys yet to come.
  const total = blocks.reduce((n, b) => n + b.length, 0);
  let split = 1;
  let tallest = Number.POSITIVE_INFINITY;
  for (let k = 1, above = 0; k < blocks.length; k++) {
    above += blocks[k - 1]?.length ?? 0;
    const height = Math.max(above, total - above);
    if (height < tallest) [split, tallest] = [k, height];
  }
  const left = blocks.slice(0, split).flat();
  const right = blocks.slice(split).flat();
  const rows: HelpLine[] = [...intro];
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const l = left[i] ?? [];
    const gap = Math.max(1, columnWidth + 2 - lineWidth(l));
    rows.push([...l, { text: " ".repeat(gap) }, ...(right[i] ?? [])]);
  }
  // The footer's bold titles set it apart: no blank line before it, so all of it fits 80×24.
  rows.push(...footer);
  return rows;
}
