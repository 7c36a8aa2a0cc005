/** `:incubate` in the palette, and the words it accepts. */

import { changingCommand } from "../changing-command.js";

export const INCUBATE_COMMAND = changingCommand(
  "incubate",
  "New local node: :incubate NAME [--start] [--config-only]",
);

export const INCUBATE_USAGE =
  "Usage: :incubate NAME [--start] [--config-only]  (e.g. :incubate beta --start)";

export interface IncubateArgs {
  name: string;
  start: boolean;
  configOnly: boolean;
}

/** `NAME [--start] [--config-only]`, in any order; null for no name or an unknown flag. */
export function parseIncubateArgs(args: string): IncubateArgs | null {
  const words = args.split(/\s+/).filter(Boolean);
  const name = words.find((w) => !w.startsWith("--"));
  const unknown = words.filter((w) => w.startsWith("--") && w !== "--start" && w !== "--config-only");
  if (!name || unknown.length) return null;
  return { name, start: words.includes("--start"), configOnly: words.includes("--config-only") };
}
