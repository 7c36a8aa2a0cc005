import { EventEmitter } from "node:events";
import { render as inkRender } from "ink";
import { render } from "ink-testing-library";
import type { ReactElement } from "react";
import type { NodeView, Snapshot, TaskView } from "../../../source/core/domain/federation-types.js";
import { App } from "../../../source/ui/app.js";
import type { KeyPress } from "../../../source/ui/input.js";
import { resolveKeymap } from "../../../source/ui/keymap.js";
import type { ScreenSize } from "../../../source/ui/layout.js";
import { appReducer } from "../../../source/ui/state/app-reducer.js";
import { type AppState, initialState } from "../../../source/ui/state/app-state.js";
import { createTheme, ThemeContext } from "../../../source/ui/theme.js";
import {
  FakeFederation,
  type FakeFederationOptions,
  FIXED_NOW,
  seedNodes,
  seedTasks,
} from "../../testkit/fake-federation.js";

export const SIZE_80x24: ScreenSize = { columns: 80, rows: 24 };
export const SIZE_120x40: ScreenSize = { columns: 120, rows: 40 };

export function snapshotOf(nodes: NodeView[] = seedNodes(), tasks: TaskView[] = seedTasks()): Snapshot {
  return new FakeFederation({ nodes, tasks, now: () => FIXED_NOW }).getSnapshot();
}

export function stateOf(
  options: {
    snapshot?: Snapshot;
    size?: ScreenSize;
    readonly?: boolean;
    keys?: Record<string, string | string[]>;
  } = {},
): AppState {
  return initialState({
    snapshot: options.snapshot ?? snapshotOf(),
    size: options.size ?? SIZE_120x40,
    keymap: resolveKeymap(options.keys ?? {}),
    readonly: options.readonly ?? false,
  });
}

/** Press keys by the keymap's names: "j", "G", "enter", "escape", "ctrl+c", "space"… one key per argument. */
export function press(state: AppState, ...names: string[]): AppState {
  let s = state;
  for (const name of names) {
    const key: KeyPress =
      [...name].length === 1 ? { name, text: name } : name === "space" ? { name, text: " " } : { name };
    s = appReducer(s, { type: "key", key });
  }
  return s;
}

/** Type text into a focused text field (each character a key press). */
export function type(state: AppState, text: string): AppState {
  let s = state;
  for (const c of text)
    s = appReducer(s, { type: "key", key: c === " " ? { name: "space", text: " " } : { name: c, text: c } });
  return s;
}

export function withTheme(node: ReactElement, noColor = true): ReactElement {
  return <ThemeContext.Provider value={createTheme(noColor)}>{node}</ThemeContext.Provider>;
}

export const ESC_KEYS = {
  up: "\u001b[A",
  down: "\u001b[B",
  enter: "\r",
  escape: "\u001b",
  tab: "\t",
  pageDown: "\u001b[6~",
  backspace: "\u007f",
} as const;

export async function waitUntil(
  predicate: () => boolean,
  describe: () => string,
  timeoutMs = 5000,
): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met in time:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface RenderedApp {
  fake: FakeFederation;
  frame(): string;
  /** How many frames have been rendered so far. */
  frames(): number;
  /** Every byte written to the terminal so far. */
  allOutput(): string;
  write(data: string): Promise<void>;
  waitFor(text: string | RegExp | ((frame: string) => boolean), timeoutMs?: number): Promise<string>;
  unmount(): void;
}

/** The whole App over a fake federation, in ink-testing-library, with a fixed clock and size. */
export async function renderApp(
  options: {
    fake?: FakeFederation;
    fakeOptions?: FakeFederationOptions;
    readonly?: boolean;
    keys?: Record<string, string | string[]>;
    size?: ScreenSize;
  } = {},
): Promise<RenderedApp> {
  const fake =
    options.fake ??
    new FakeFederation({
      nodes: seedNodes(),
      tasks: seedTasks(),
      now: () => FIXED_NOW,
      ...options.fakeOptions,
    });
  const instance = render(
    withTheme(
      <App
        api={fake}
        keymap={resolveKeymap(options.keys ?? {})}
        readonly={options.readonly ?? false}
        clock={() => FIXED_NOW}
        size={options.size ?? SIZE_120x40}
        snapshotIntervalMs={1}
      />,
    ),
  );
  const frame = () => instance.lastFrame() ?? "";
  const waitFor = async (text: string | RegExp | ((frame: string) => boolean), timeoutMs = 5000) => {
    const test =
      typeof text === "function"
        ? text
        : typeof text === "string"
          ? (f: string) => f.includes(text)
          : (f: string) => text.test(f);
    await waitUntil(
      () => test(frame()),
      () => `waiting for ${String(text)}; frame:\n${frame()}`,
      timeoutMs,
    );
    return frame();
  };
  // Wait for the first frame and for the input hook to be attached.
  await waitUntil(
    () => frame() !== "" && instance.stdin.listenerCount("readable") > 0,
    () => frame(),
  );
  return {
    fake,
    frame,
    frames: () => instance.frames.length,
    allOutput: () => instance.frames.join(""),
    async write(data: string) {
      instance.stdin.write(data);
      // Let Ink parse the chunk (a lone ESC is held briefly in case a sequence follows).
      await new Promise((r) => setTimeout(r, data === "\u001b" ? 60 : 5));
    },
    waitFor,
    unmount: () => instance.unmount(),
  };
}

/**
 * One frame of `node` on a terminal `columns` wide. ink-testing-library's terminal is
 * always 100 columns, and Ink shrinks a wider screen to it: wide layouts need this.
 */
export function frameAtWidth(node: ReactElement, columns: number): string {
  let last = "";
  const stdout = Object.assign(new EventEmitter(), {
    columns,
    rows: 1000,
    write: (frame: string) => {
      last = frame;
      return true;
    },
  });
  const instance = inkRender(node, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: Object.assign(new EventEmitter(), { isTTY: false }) as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const frame = last;
  instance.unmount();
  return frame;
}
