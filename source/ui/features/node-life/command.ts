/** `:gateway` in the palette: a node's life (its gateway, and its place in the registry). */

import { changingCommand } from "../changing-command.js";

export const GATEWAY_COMMAND = changingCommand(
  "gateway",
  "A node's life: :gateway start|stop|restart NODE · :gateway remove NODE [--keep-running] [--purge]",
);
export const GATEWAY_USAGE =
  "Usage: :gateway start|stop|restart NODE · :gateway remove NODE [--keep-running] [--purge]";

export type GatewayArgs =
  | { action: "start" | "stop" | "restart"; node: string }
  | { action: "remove"; node: string; keepRunning: boolean; purge: boolean };

/** `start|stop|restart NODE` or `remove NODE [--keep-running] [--purge]`; null for anything else. */
export function parseGatewayArgs(args: string): GatewayArgs | null {
  const [action, ...rest] = args.split(/\s+/).filter(Boolean);
  const names = rest.filter((w) => !w.startsWith("--"));
  const flags = rest.filter((w) => w.startsWith("--"));
  const node = names[0];
  if (!node || names.length > 1) return null;
  if (action === "start" || action === "stop" || action === "restart")
    return flags.length ? null : { action, node };
  if (action !== "remove" || flags.some((f) => f !== "--keep-running" && f !== "--purge")) return null;
  const keepRunning = flags.includes("--keep-running");
  const purge = flags.includes("--purge");
  return keepRunning && purge ? null : { action, node, keepRunning, purge };
}
