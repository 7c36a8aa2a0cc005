import { constants, type Stats } from "node:fs";
import { open } from "node:fs/promises";

/** The file exists but is not something to read as text: what it is, in words. */
export class NotARegularFile extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = "NotARegularFile";
  }
}

function describeKind(stats: Stats): string {
  if (stats.isDirectory()) return "is a directory";
  if (stats.isFIFO()) return "is a named pipe (FIFO)";
  if (stats.isSocket()) return "is a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "is a device";
  return "is not a file";
}

/**
 * Reads a small text file that must be a regular file (a symlink to one is fine: dotfile
 * managers link config files). Opened non-blocking, so a FIFO in its place cannot hang the
 * read; a FIFO, device, directory or a file over `maxBytes` throws NotARegularFile. Other
 * errors (ENOENT, EACCES) are thrown as they come.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new NotARegularFile(`${describeKind(stats)}, not a regular file`);
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, maxBytes + 1 - size));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      size += bytesRead;
      if (size > maxBytes) throw new NotARegularFile(`is larger than ${Math.round(maxBytes / 1024)} KiB`);
    }
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    await handle.close();
  }
}
