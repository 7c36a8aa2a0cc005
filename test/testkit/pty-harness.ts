import ptyModule from "@lydell/node-pty";
import xterm from "@xterm/headless";

/**
 * Run a program in a real pseudo-terminal and keep a headless xterm screen of
 * what it draws. Assertions read the screen grid, not the byte stream, so they
 * test what a person would see. Works the same for the fake main and, later,
 * for the real `clawos` binary: pass any command and arguments.
 */

const { Terminal } = xterm;

export const KEYS = {
  up: "\u001b[A",
  down: "\u001b[B",
  right: "\u001b[C",
  left: "\u001b[D",
  enter: "\r",
  escape: "\u001b",
  tab: "\t",
  backspace: "\u007f",
  pageUp: "\u001b[5~",
  pageDown: "\u001b[6~",
  ctrlC: "\u0003",
} as const;

export interface PtyOptions {
  cols?: number;
  rows?: number;
  cwd?: string;
  /** Added to (and overriding) a clean copy of process.env. */
  env?: Record<string, string | undefined>;
  /** Default timeout for the wait helpers. */
  timeoutMs?: number;
}

export interface ExitInfo {
  exitCode: number;
  signal?: number;
}

export interface PtySession {
  /** Resolves when the program has exited. */
  readonly exit: Promise<ExitInfo>;
  readonly exited: boolean;
  readonly pid: number;
  write(keys: string): void;
  resize(cols: number, rows: number): void;
  /** The visible screen, one string per row, trailing spaces trimmed. */
  screenLines(): string[];
  screenText(): string;
  /** Everything the program wrote, raw (for checks on escape sequences). */
  output(): string;
  isAlternateBuffer(): boolean;
  /** Whether the program left the cursor visible (DECTCEM, CSI ?25 h/l). */
  isCursorVisible(): boolean;
  waitForText(text: string | RegExp, timeoutMs?: number): Promise<string>;
  waitForNoText(text: string | RegExp, timeoutMs?: number): Promise<string>;
  waitFor(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  waitForExit(timeoutMs?: number): Promise<ExitInfo>;
  kill(signal?: string): void;
  /** Kill if still running and free the terminal. */
  dispose(): void;
  /** The headless terminal itself (cells with colours, for screenshots). */
  readonly terminal: InstanceType<typeof Terminal>;
}

export function spawnInPty(file: string, args: string[], options: PtyOptions = {}): PtySession {
  const cols = options.cols ?? 100;
  const rows = options.rows ?? 30;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, TERM: "xterm-256color", ...options.env })) {
    if (v !== undefined) env[k] = v;
  }
  const term = new Terminal({ cols, rows, allowProposedApi: true, scrollback: 0 });
  let cursorVisible = true;
  // Track DECTCEM ourselves: xterm's public modes do not expose it. Returning false lets xterm handle it too.
  const watchCursor = (visible: boolean) => (params: (number | number[])[]) => {
    if (params.includes(25)) cursorVisible = visible;
    return false;
  };
  term.parser.registerCsiHandler({ prefix: "?", final: "h" }, watchCursor(true));
  term.parser.registerCsiHandler({ prefix: "?", final: "l" }, watchCursor(false));

  const child = ptyModule.spawn(file, args, {
    name: "xterm-256color",
    cols,
    rows,
    cwd: options.cwd ?? process.cwd(),
    env,
  });
  let raw = "";
  let exited = false;
  let pendingWrites = 0;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  child.onData((data) => {
    raw += data;
    pendingWrites++;
    term.write(data, () => {
      pendingWrites--;
      wake();
    });
  });
  const exit = new Promise<ExitInfo>((resolve) => {
    child.onExit(({ exitCode, signal }) => {
      exited = true;
      // Let xterm finish parsing what arrived before the exit.
      term.write("", () => {
        resolve({ exitCode, ...(signal ? { signal } : {}) });
        wake();
      });
    });
  });

  const screenLines = (): string[] => {
    const buffer = term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < term.rows; y++) {
      lines.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? "");
    }
    return lines;
  };
  const screenText = () => screenLines().join("\n");

  const waitFor = (predicate: () => boolean, what: string, ms = timeoutMs): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (pendingWrites === 0 && predicate()) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; screen:\n${screenText()}`));
      }, ms);
      waiters.add(check);
      check();
    });

  const matches = (text: string | RegExp) =>
    typeof text === "string" ? screenText().includes(text) : text.test(screenText());

  return {
    terminal: term,
    exit,
    get exited() {
      return exited;
    },
    pid: child.pid,
    write: (keys) => child.write(keys),
    resize: (c, r) => {
      term.resize(c, r);
      child.resize(c, r);
    },
    screenLines,
    screenText,
    output: () => raw,
    isAlternateBuffer: () => term.buffer.active.type === "alternate",
    isCursorVisible: () => cursorVisible,
    waitFor,
    async waitForText(text, ms) {
      await waitFor(() => matches(text), `text ${String(text)}`, ms);
      return screenText();
    },
    async waitForNoText(text, ms) {
      await waitFor(() => !matches(text), `text ${String(text)} to go away`, ms);
      return screenText();
    },
    async waitForExit(ms = timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out waiting for exit (exited: ${exited}); screen:\n${screenText()}`)),
          ms,
        );
      });
      try {
        return await Promise.race([exit, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    kill: (signal = "SIGTERM") => {
      if (!exited) child.kill(signal);
    },
    dispose() {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
      term.dispose();
    },
  };
}

/** Convenience: run a compiled script under the current Node (the test's own, Node 24). */
export function spawnNodeScript(script: string, args: string[] = [], options: PtyOptions = {}): PtySession {
  return spawnInPty(process.execPath, [script, ...args], options);
}
