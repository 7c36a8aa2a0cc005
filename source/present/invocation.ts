/**
 * The command a message tells the user to type: `clawos …` for an installed CLI, `npx clawos …`
 * in a checkout. The CLI says which once (`setInvocation`, from how it was started); every
 * hint then goes through `cmd` (text written here) or `forInvocation` (text written elsewhere,
 * core's hints among them, which name `clawos …`).
 */

let prefix = "clawos";
let mention: RegExp | undefined;

/**
 * From now on, hints name `command` ("clawos" or "npx clawos"). `names` are the subcommands:
 * only "clawos NAME" (or "clawos --help") is a command to rewrite, not "the clawos home".
 */
export function setInvocation(command: string, names: readonly string[]): void {
  prefix = command;
  const words = [...names].sort((a, b) => b.length - a.length).join("|");
  // Not inside a path or a longer word, and not already "npx clawos".
  mention = new RegExp(`(?<![\\w./~-]|npx )clawos(?= (?:(?:${words})\\b|--?[a-zA-Z]))`, "g");
}

/** The command to type: `cmd("tasks show ID")` → "npx clawos tasks show ID". */
export function cmd(args: string): string {
  return `${prefix} ${args}`;
}

/** Text that names `clawos …` commands, with each named the way this user runs the CLI. */
export function forInvocation(text: string): string {
  return prefix === "clawos" || !mention ? text : text.replace(mention, prefix);
}
