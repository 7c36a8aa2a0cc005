import type { ScreenSize } from "./layout.js";

export const ENTER_ALTERNATE_SCREEN = "\u001b[?1049h";
export const LEAVE_ALTERNATE_SCREEN = "\u001b[?1049l";
export const SHOW_CURSOR = "\u001b[?25h";
export const HIDE_CURSOR = "\u001b[?25l";
/** xterm's title stack (XTWINOPS 22/23; both icon and window title): the control center sets
 * the title while it runs and gives the terminal back the one it had. Terminals without the
 * stack ignore both. */
export const SAVE_TITLE = "\u001b[22;0t";
export const RESTORE_TITLE = "\u001b[23;0t";

/**
 * The size of *this* terminal: only ever read from the stdout we were given
 * (an SSH session's stdout carries its own columns/rows), never process.stdout.
 */
export function readTerminalSize(stream: NodeJS.WritableStream): ScreenSize {
  const stdout = stream as NodeJS.WritableStream & { columns?: number; rows?: number };
  const columns = stdout.columns && stdout.columns > 0 ? stdout.columns : 80;
  const rows = stdout.rows && stdout.rows > 0 ? stdout.rows : 24;
  return { columns, rows };
}

export function isWritable(stream: NodeJS.WritableStream): boolean {
  const s = stream as NodeJS.WritableStream & {
    destroyed?: boolean;
    writableEnded?: boolean;
    writable?: boolean;
  };
  return !s.destroyed && !s.writableEnded && s.writable !== false;
}

/** Best effort: the stream may already be gone (lost SSH connection, closed pty). */
export function writeQuietly(stream: NodeJS.WritableStream, data: string): void {
  if (!isWritable(stream)) return;
  try {
    stream.write(data);
  } catch {
    // nothing more we can do for a terminal that has gone away
  }
}

/** Raw mode off, if this stdin has such a thing. */
export function releaseRawMode(stdin: NodeJS.ReadStream): void {
  try {
    if (stdin.isTTY && typeof stdin.setRawMode === "function" && stdin.isRaw) stdin.setRawMode(false);
  } catch {
    // a closed tty cannot be switched back; nothing to restore then
  }
}
