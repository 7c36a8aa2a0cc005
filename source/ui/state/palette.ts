/** The `:` command palette: its commands and how typed text resolves to one. */

import { AUDIT_COMMAND } from "../features/audit/command.js";
import { DISPATCH_COMMAND } from "../features/dispatch/command.js";
import { NODES_COMMAND, TASKS_COMMAND } from "../features/filter/command.js";
import { HELP_COMMAND } from "../features/help/command.js";
import { INCUBATE_COMMAND } from "../features/incubation/command.js";
import { MIGRATE_COMMAND } from "../features/migration/command.js";
import { GATEWAY_COMMAND } from "../features/node-life/command.js";

export interface CommandSpec {
  name: string;
  help: string;
  /** What may follow the name, for the help overlay ("[filter]"). */
  args?: string;
  /** Changes the federation: hidden from suggestions and refused in a read-only session. */
  mutating?: boolean;
  /** False: the help lists its key instead (room at 80×24); it is still suggested and completed. */
  listed?: false;
}

export const COMMANDS = [
  NODES_COMMAND,
  TASKS_COMMAND,
  DISPATCH_COMMAND,
  INCUBATE_COMMAND,
  MIGRATE_COMMAND,
  GATEWAY_COMMAND,
  AUDIT_COMMAND,
  { name: "refresh", help: "Re-read everything and re-probe nodes" },
  { name: "init", help: "Discover local OpenClaw profiles and add them", mutating: true },
  HELP_COMMAND,
  { name: "quit", help: "Leave the control center" },
] as const satisfies readonly CommandSpec[];

export type CommandName = (typeof COMMANDS)[number]["name"];

const ALIASES: Record<string, CommandName> = {
  q: "quit",
  exit: "quit",
  node: "nodes",
  task: "tasks",
  "?": "help",
  discover: "init",
};

export type ResolvedCommand = { ok: true; command: CommandName; args: string } | { ok: false; error: string };

function split(input: string): { word: string; args: string } {
  const trimmed = input.trim().replace(/^:/, "");
  const space = trimmed.search(/\s/);
  if (space < 0) return { word: trimmed.toLowerCase(), args: "" };
  return { word: trimmed.slice(0, space).toLowerCase(), args: trimmed.slice(space).trim() };
}

/** Commands a session may run: a read-only one has no mutating commands. */
export function availableCommands(readonly = false): CommandSpec[] {
  return COMMANDS.filter((c: CommandSpec) => !(readonly && c.mutating));
}

/** Commands whose name starts with what has been typed (before any argument). */
export function suggestCommands(input: string, readonly = false): CommandSpec[] {
  const { word } = split(input);
  return availableCommands(readonly).filter((c) => c.name.startsWith(word));
}

/** Exact name, alias, or a prefix that names exactly one command. */
export function resolveCommand(input: string): ResolvedCommand {
  const { word, args } = split(input);
  if (word === "")
    return { ok: false, error: "Type a command: nodes, tasks, dispatch, refresh, init, quit…" };
  const alias = ALIASES[word];
  if (alias) return { ok: true, command: alias, args };
  const exact = COMMANDS.find((c) => c.name === word);
  if (exact) return { ok: true, command: exact.name, args };
  const matches = COMMANDS.filter((c) => c.name.startsWith(word));
  const only = matches[0];
  if (matches.length === 1 && only) return { ok: true, command: only.name, args };
  if (matches.length > 1)
    return { ok: false, error: `':${word}' could be ${matches.map((c) => `:${c.name}`).join(" or ")}` };
  return {
    ok: false,
    error: `Unknown command ':${word}' — try :nodes :tasks :dispatch :refresh :init :quit`,
  };
}

/** Tab in the palette: complete the command name when the prefix is unambiguous. */
export function completeCommand(input: string, readonly = false): string {
  const { word, args } = split(input);
  const matches = availableCommands(readonly).filter((c) => c.name.startsWith(word));
  const only = matches[0];
  if (matches.length !== 1 || !only) return input;
  return args ? `${only.name} ${args}` : `${only.name} `;
}
