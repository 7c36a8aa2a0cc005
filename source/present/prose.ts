import { displayWidth } from "./text.js";

/** Holds a command's words together while a line is wrapped; never in the output. */
const GLUE = "\uE000";
/** A command in a hint, up to the punctuation after it: "clawos tasks show ID --follow". */
const COMMAND = /(?<![\w./~-])(?:npx clawos|clawos|openclaw|npm) [^,;()`'"]*?(?=[,;()`'"]|\.(?: |$)|$)/g;

/** Narrower than this, wrapping would make a ladder of one-word lines: the terminal wraps instead. */
const NARROWEST = 30;

/**
 * Messages and hints (text the code wrote, already sanitized) broken between words so that no
 * line is wider than `width`: the terminal would cut words in two. A line's continuation is
 * indented `hang` columns (default: two more than the line itself), so it reads as one
 * statement. A command in the text is not broken (it is copied, not read) unless it is wider
 * than a line; nor is a word (a path, a URL), which then stands on a line of its own. Runs of
 * spaces inside a line are kept (aligned columns).
 */
export function wrapProse(text: string, width: number, options: { hang?: number } = {}): string {
  if (width < NARROWEST) return text;
  return text
    .split("\n")
    .map((line) => (displayWidth(line) <= width ? line : wrapLine(line, width, options.hang)))
    .join("\n");
}

function wrapLine(line: string, width: number, hangColumns?: number): string {
  const indent = /^ */.exec(line)?.[0] ?? "";
  const hang = " ".repeat(Math.min(hangColumns ?? indent.length + 2, Math.floor(width / 2)));
  const room = width - hang.length;
  const glued = line.replace(COMMAND, (command) =>
    displayWidth(command) <= room ? command.replace(/ /g, GLUE) : command,
  );
  const lines: string[] = [];
  let current = indent;
  let used = indent.length;
  let pendingSpace = "";
  for (const glueToken of glued.slice(indent.length).split(/( +)/)) {
    if (glueToken === "") continue;
    const token = glueToken.replaceAll(GLUE, " ");
    if (token.startsWith(" ")) {
      pendingSpace = token;
      continue;
    }
    const w = displayWidth(token);
    const atStart = current.trim() === "";
    if (!atStart && used + pendingSpace.length + w > width) {
      lines.push(current);
      current = hang + token;
      used = hang.length + w;
    } else {
      const space = atStart ? "" : pendingSpace;
      current += space + token;
      used += space.length + w;
    }
    pendingSpace = "";
  }
  lines.push(current);
  return lines.join("\n");
}
