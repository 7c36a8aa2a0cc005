import { formatAge } from "./durations.js";
import type { NodeState } from "./federation-types.js";

/**
 * What the last turn on a node said about its model, kept so that every later dispatch (and,
 * through the node's heartbeat, every machine) knows a gateway that is up but cannot answer.
 */
export interface TurnRecord {
  node: string;
  at: string;
  ok: boolean;
  /** GatewayError kind of the failure. */
  kind?: string;
  error?: string;
  hint?: string;
}

/** Failures that say the node cannot run turns, whatever the task: they move an `any` task on. */
export const NODE_FAULT_KINDS: ReadonlySet<string> = new Set([
  "model_auth",
  "model_not_found",
  "unknown_agent",
  "provider_timeout",
  "unauthorized",
  "endpoint_disabled",
  "token",
]);

/** Turn failures that need a fix on the node: it stays misconfigured until a turn answers. */
const MISCONFIGURED_KINDS: ReadonlySet<string> = new Set(["model_auth", "model_not_found", "unknown_agent"]);
/** Turn failures of the provider, which may come back by itself: degraded for a while. */
const DEGRADED_KINDS: ReadonlySet<string> = new Set(["provider_timeout"]);
/** How long a provider failure keeps a node out of `any` before it is tried again. */
export const DEGRADED_FOR_MS = 5 * 60_000;

/** The failures worth remembering (other failures, such as a stopped gateway, the probe sees itself). */
export function isTurnFact(kind: string | undefined): boolean {
  return kind !== undefined && (MISCONFIGURED_KINDS.has(kind) || DEGRADED_KINDS.has(kind));
}

/** Pure: the newer of two records (a local one and one from the node's heartbeat). */
export function newestTurn(...records: (TurnRecord | undefined)[]): TurnRecord | undefined {
  let best: TurnRecord | undefined;
  for (const r of records) if (r && (!best || Date.parse(r.at) > Date.parse(best.at))) best = r;
  return best;
}

/** Pure: how the last turn changes a node that answers its probes, or nothing. */
export function turnHealth(
  turn: TurnRecord | undefined,
  now: number,
): { status: NodeState; reason: string; hint?: string } | undefined {
  if (!turn || turn.ok || !turn.kind) return undefined;
  const age = now - Date.parse(turn.at);
  const cause = turn.error ?? turn.kind;
  const hint = turn.hint ? { hint: turn.hint } : {};
  if (MISCONFIGURED_KINDS.has(turn.kind)) {
    return { status: "misconfigured", reason: `last turn failed ${formatAge(age)} ago: ${cause}`, ...hint };
  }
  if (DEGRADED_KINDS.has(turn.kind) && age < DEGRADED_FOR_MS) {
    return { status: "degraded", reason: `last turn failed ${formatAge(age)} ago: ${cause}`, ...hint };
  }
  return undefined;
}
