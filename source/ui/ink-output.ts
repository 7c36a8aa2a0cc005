/**
 * Ink's Output with a memory of its rows, for Ink's renderer (pointed here by load-tui.ts
 * and, in the bundle, by source/build/bundle.ts).
 *
 * Ink draws every frame from nothing: a grid of width × height cell objects, every text
 * node written into it character by character, then every row turned back into a string.
 * Ten snapshots a second change a few of the ~40 rows; the rest came out the same at the
 * cost of ~5 000 new cells a frame and the garbage they make. Here a row is drawn only when
 * what is written on it changed: a row's content depends only on the writes that touch it
 * (their column, their text, the line of it, the transforms that colour it), so those are
 * its key, and a row whose key was seen lately is taken from the memo. Rows that changed
 * are drawn by Ink's own code on a grid that holds only them. A frame with clipping
 * (`overflow="hidden"`) is drawn by Ink as it is.
 */
import { styledCharsToString } from "@alcalzone/ansi-tokenize";
import InkOutput from "ink/build/output.js";
import { RecentCache } from "./recent-cache.js";

interface WriteOperation {
  type: "write";
  x: number;
  y: number;
  text: string;
  transformers: ((line: string, index: number) => string)[];
}
type Operation = WriteOperation | { type: "clip" | "unclip" };

interface Cell {
  type: "char";
  value: string;
  fullWidth: boolean;
  styles: unknown[];
}

/** What the base class keeps to itself; the same names as in Ink's output.js. */
interface InkInternals {
  operations: Operation[];
  applyWriteOperation(output: (Cell[] | undefined)[], operation: WriteOperation, clip: undefined): void;
}

// Ink writes into cells by replacing them, never in place (it copies a cell to blank it):
// one blank can stand for every empty cell of every row.
const BLANK: Cell = Object.freeze({ type: "char", value: " ", fullWidth: false, styles: [] }) as Cell;

// A transform is a closure of its Text's props: the same function object colours the same
// way. Each gets a number for the row keys; a Text drawn again gets a new one (a miss, never
// a wrong hit).
const transformIds = new WeakMap<object, number>();
let nextTransformId = 1;

function transformId(fn: object): number {
  let id = transformIds.get(fn);
  if (id === undefined) {
    id = nextTransformId++;
    transformIds.set(fn, id);
  }
  return id;
}

// Rows of the last frames by key: two screens' worth (serve's sessions share it; a row of one
// is a row of another only when every write on it is the same).
const rows = new RecentCache<string, string>(128);

/** Rows drawn and rows taken from the memo since the process started (for the benchmarks and tests). */
export const rowStats = { drawn: 0, reused: 0 };

export default class Output extends InkOutput {
  override get(): { output: string; height: number } {
    const internals = this as unknown as Partial<InkInternals>;
    const { operations } = internals;
    // Ink's internals this relies on, checked: another Ink release draws the frame itself.
    if (!Array.isArray(operations) || typeof internals.applyWriteOperation !== "function") return super.get();
    if (operations.some((op) => op.type !== "write")) return super.get();
    const writes = operations as WriteOperation[];
    const { width, height } = this;
    const keys = new Array<string>(height).fill(`${width};`);
    // The rows each write covers: its text's lines from its row on.
    const spans = new Array<number>(writes.length);
    writes.forEach((op, k) => {
      const ids = op.transformers.map(transformId).join(",");
      let line = 0;
      let at = -1;
      do {
        const y = op.y + line;
        // The text's length first: no text can pass for the end of one write and the start of another.
        if (y >= 0 && y < height) keys[y] += `${op.x},${line},${ids},${op.text.length}:${op.text}`;
        line++;
        at = op.text.indexOf("\n", at + 1);
      } while (at !== -1);
      spans[k] = line;
    });
    const lines = new Array<string>(height);
    const grid = new Array<Cell[] | undefined>(height);
    let drawn = 0;
    for (let y = 0; y < height; y++) {
      const hit = rows.get(keys[y] as string);
      if (hit === undefined) {
        grid[y] = new Array<Cell>(width).fill(BLANK);
        drawn++;
      } else lines[y] = hit;
    }
    rowStats.drawn += drawn;
    rowStats.reused += height - drawn;
    if (drawn > 0) {
      // Ink's own drawing, of the writes that touch a row to draw (it skips rows the grid lacks).
      const draw = internals as InkInternals;
      writes.forEach((op, k) => {
        const end = Math.min(height, op.y + (spans[k] as number));
        let y = Math.max(0, op.y);
        while (y < end && grid[y] === undefined) y++;
        if (y < end) draw.applyWriteOperation(grid, op, undefined);
      });
      for (let y = 0; y < height; y++) {
        const row = grid[y];
        if (row === undefined) continue;
        const text = styledCharsToString(row.filter((cell) => cell !== undefined) as never).trimEnd();
        lines[y] = text;
        rows.set(keys[y] as string, text);
      }
    }
    return { output: lines.join("\n"), height };
  }
}
