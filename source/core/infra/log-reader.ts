import { constants } from "node:fs";
import { open } from "node:fs/promises";

/** How much of a log's end is read at first: enough for hours of a worker, bounded for a huge gateway log. */
const FIRST_READ_BYTES = 512 * 1024;
/** Most read per poll when following: a burst past it skips to the newest part. */
const FOLLOW_READ_BYTES = 1024 * 1024;

/**
 * Reads a log file's new lines, from its end the first time and from where it stopped after
 * that. A file that shrank was rotated or truncated: it is read again from its start. Opened
 * non-blocking and only when it is a regular file, so a FIFO put in its place cannot hang it.
 * A missing file has no lines (it may appear later).
 */
export class LogFileReader {
  private offset: number | undefined;
  private partial = "";

  constructor(readonly path: string) {}

  async read(): Promise<string[]> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch {
      return [];
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) return [];
      const first = this.offset === undefined;
      let start = first ? Math.max(0, stats.size - FIRST_READ_BYTES) : (this.offset as number);
      // Started inside a line: the first one read is cut.
      let cut = start > 0 && first;
      if (stats.size < start) {
        start = 0;
        this.partial = "";
      }
      if (stats.size - start > FOLLOW_READ_BYTES) {
        start = stats.size - FOLLOW_READ_BYTES;
        this.partial = "";
        cut = true;
      }
      const length = stats.size - start;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = length ? await handle.read(buffer, 0, length, start) : { bytesRead: 0 };
      this.offset = start + bytesRead;
      const text = this.partial + buffer.subarray(0, bytesRead).toString("utf8");
      const lines = text.split("\n");
      this.partial = lines.pop() ?? "";
      if (cut) lines.shift();
      return lines.filter((l) => l.trim() !== "");
    } finally {
      await handle.close();
    }
  }
}
