/** `:gateway` in the palette: a node's life (its gateway, its place in the registry, whether it takes tasks). */

import type { CordonAction } from "../../../core/domain/federation-types.js";
import { changingCommand } from "../changing-command.js";

export const GATEWAY_COMMAND = changingCommand(
  "gateway",
  "A node's life: :gateway start|stop|restart|cordon|uncordon|drain NODE · :gateway remove NODE [--keep-running] [--purge]",
);
export const GATEWAY_USAGE =
  "Usage: :gateway start|stop|restart|cordon|uncordon|drain NODE · :gateway remove NODE [--keep-running] [--purge]";

const ONE_NODE = new Set(["start", "stop", "restart", "cordon", "uncordon", "drain"]);

export type GatewayArgs =
  | { action: "start" | "stop" | "restart" | CordonAction; node: string }
  | { action: "remove"; node: string; keepRunning: boolean; purge: boolean };

/** `start|stop|restart|cordon|uncordon|drain NODE` or `remove NODE [--keep-running] [--purge]`; null for anything else. */
export function parseGatewayArgs(args: string): GatewayArgs | null {
  const [action, ...rest] = args.split(/\s+/).filter(Boolean);
  const names = rest.filter((w) => !w.startsWith("--"));
  const flags = rest.filter((w) => w.startsWith("--"));
  const node = names[0];
  if (!node || names.length > 1) return null;
  if (action && ONE_NODE.has(action))
    return flags.length ? null : { action: action as Exclude<GatewayArgs["action"], "remove">, node };
  if (action !== "remove" || flags.some((f) => f !== "--keep-running" && f !== "--purge")) return null;
  const keepRunning = flags.includes("--keep-running");
  const purge = flags.includes("--purge");
  return keepRunning && purge ? null : { action, node, keepRunning, purge };
}
