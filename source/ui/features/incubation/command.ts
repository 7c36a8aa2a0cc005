/** `:incubate` in the palette, and the words it accepts. */

export const INCUBATE_COMMAND = {
  name: "incubate",
  help: "New local node: :incubate NAME [--start] [--config-only]",
  mutating: true,
} as const;

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
