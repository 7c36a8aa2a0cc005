/** `:migrate` in the palette, and the words it and the node action's prompt accept. */

import { changingCommand } from "../changing-command.js";

export const MIGRATE_COMMAND = changingCommand(
  "migrate",
  "Move a node: :migrate NODE --to user@host[:port] [--remote-port N] [--dry-run] · :migrate --rollback NODE",
);

export const MIGRATE_USAGE =
  "Usage: :migrate NODE --to user@host[:port] [--dry-run] · :migrate --rollback NODE";

/** user@host or user@host:port (a hostname, an IPv4 address or a bracketed IPv6 one). */
const SSH_TARGET = /^[^@\s]+@(?:\[[0-9a-fA-F:.]+\]|[^@\s:[\]]+)(?::\d{1,5})?$/;

export function isSshTarget(text: string): boolean {
  return SSH_TARGET.test(text);
}

export type MigrateArgs =
  /** Words that name a node but do not make a command (checked after "a migration is running"). */
  | { kind: "invalid" }
  | { kind: "rollback"; node: string }
  | { kind: "move"; node: string; to: string; dryRun: boolean; remotePort?: number };

/**
 * `:migrate NODE --to user@host[:port] [--remote-port N] [--dry-run]` or `:migrate --rollback NODE`
 * (`--to=` and `--remote-port=` too). Null when the words do not name one node with known flags.
 */
export function parseMigrateArgs(args: string): MigrateArgs | null {
  const words = args.split(/\s+/).filter(Boolean);
  let to: string | undefined;
  let port: string | undefined;
  const flags = new Set<string>();
  const names: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? "";
    if (word === "--to") to = words[++i];
    else if (word.startsWith("--to=")) to = word.slice(5);
    else if (word === "--remote-port") port = words[++i] ?? "";
    else if (word.startsWith("--remote-port=")) port = word.slice(14);
    else if (word.startsWith("--")) flags.add(word);
    else names.push(word);
  }
  const unknown = [...flags].filter((f) => f !== "--dry-run" && f !== "--rollback");
  const node = names[0];
  const remotePort = port === undefined ? undefined : Number(port);
  if (
    !node ||
    names.length > 1 ||
    unknown.length > 0 ||
    (remotePort !== undefined && !(Number.isInteger(remotePort) && remotePort > 0 && remotePort < 65536))
  )
    return null;
  if (flags.has("--rollback"))
    return to || port !== undefined || flags.has("--dry-run")
      ? { kind: "invalid" }
      : { kind: "rollback", node };
  if (!to || !isSshTarget(to)) return { kind: "invalid" };
  return { kind: "move", node, to, dryRun: flags.has("--dry-run"), ...(remotePort ? { remotePort } : {}) };
}

/** The node action's prompt: user@host[:port], optionally --remote-port N (the same words as :migrate). */
export function parseMigrateTarget(text: string): { to: string; remotePort?: number } | null {
  const [to = "", ...rest] = text.trim().split(/\s+/);
  const port = rest[0] === "--remote-port" && rest.length === 2 ? Number(rest[1]) : undefined;
  if (!isSshTarget(to) || (rest.length > 0 && !(port && Number.isInteger(port) && port < 65536))) return null;
  return { to, ...(port ? { remotePort: port } : {}) };
}
