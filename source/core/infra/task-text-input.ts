import { UserError } from "../domain/errors.js";
import { MAX_TASK_TEXT } from "../domain/schema.js";

/**
 * UTF-8 needs at most 3 bytes per UTF-16 unit, so any text within MAX_TASK_TEXT fits in this;
 * the slack is for trailing whitespace (echo's newline) that is trimmed off.
 */
export const MAX_STDIN_TASK_BYTES = MAX_TASK_TEXT * 3 + 4096;

/**
 * The task text piped to `clawos dispatch -`. Reads at most MAX_STDIN_TASK_BYTES and stops
 * there (the rest is never buffered); more than that is refused.
 */
export async function readTaskText(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > MAX_STDIN_TASK_BYTES) {
      // Leaving the loop destroys the stream: the producer gets EPIPE instead of filling memory.
      throw new UserError(
        `The task text on stdin is longer than ${Math.round(MAX_STDIN_TASK_BYTES / 1024)} KiB; a task holds at most ${MAX_TASK_TEXT} characters.`,
        {
          hint: "put the long part in a file on the node's machine and ask the agent to read it, or split the task",
          code: "usage",
        },
      );
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString("utf8");
}
