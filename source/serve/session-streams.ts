import { Writable } from "node:stream";
import type { ServerChannel } from "ssh2";

/**
 * What Ink needs from a terminal, made out of one SSH channel. There is no line
 * discipline on the other side, so "\n" must become "\r\n" here (ARCHITECTURE.md §6).
 */
export class SessionOutput extends Writable {
  readonly isTTY = true;
  columns: number;
  rows: number;

  constructor(
    private readonly channel: ServerChannel,
    size: { cols: number; rows: number },
  ) {
    super({ decodeStrings: false });
    this.columns = size.cols || 80;
    this.rows = size.rows || 24;
  }

  resize(cols: number, rows: number): void {
    this.columns = cols || this.columns;
    this.rows = rows || this.rows;
    this.emit("resize");
  }

  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    const text = typeof chunk === "string" ? chunk : chunk.toString("utf8");
    if (this.channel.destroyed || !this.channel.writable) {
      callback();
      return;
    }
    this.channel.write(text.replace(/\r?\n/g, "\r\n"));
    callback();
  }

  /** Ink asks these of a WriteStream. */
  getColorDepth(): number {
    return 8;
  }
  hasColors(): boolean {
    return true;
  }
}

/** Make the channel look like a TTY ReadStream to Ink: raw mode is the client's business already. */
export function asSessionInput(channel: ServerChannel): NodeJS.ReadStream {
  const input = channel as unknown as NodeJS.ReadStream & {
    isTTY: boolean;
    setRawMode: (mode: boolean) => unknown;
  };
  input.isTTY = true;
  input.setRawMode = () => input;
  if (typeof (input as { ref?: unknown }).ref !== "function")
    (input as unknown as { ref: () => void }).ref = () => {};
  if (typeof (input as { unref?: unknown }).unref !== "function")
    (input as unknown as { unref: () => void }).unref = () => {};
  return input;
}
