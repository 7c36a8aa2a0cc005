import type { FleetEvent, LogEntry, NodeView } from "../core/domain/federation-types.js";
import { type SafeText, safeLine } from "./safe-text.js";

/** "12-05 20:40:01": month-day and time (UTC, as the worker log writes it); blank when undated. */
function stamp(at: string | undefined): string {
  return at ? at.slice(5, 19).replace("T", " ") : " ".repeat(14);
}

/** One log line as both faces show it: time, where it came from, level, text (sanitized again). */
export function logLine(entry: LogEntry): SafeText {
  return safeLine(`${stamp(entry.at)}  ${entry.source.padEnd(7)} ${entry.level.padEnd(5)} ${entry.text}`);
}

/** One event as `clawos watch` prints it and the control center's event line shows it. */
export function eventLine(event: FleetEvent): SafeText {
  return safeLine(`${stamp(event.time)}  ${event.kind.padEnd(14)} ${event.message}`);
}

const DOWN = new Set(["unreachable", "stale", "asleep", "misconfigured"]);

/** The terminal title: "clawos · 3 online · 1 down" (counts that are zero are left out). */
export function fleetTitle(nodes: readonly Pick<NodeView, "status">[]): string {
  const online = nodes.filter((n) => n.status === "online" || n.status === "degraded").length;
  const down = nodes.filter((n) => DOWN.has(n.status)).length;
  return ["clawos", `${online} online`, ...(down ? [`${down} down`] : [])].join(" · ");
}

/** How long the latest event stays on the control center's summary line. */
const EVENT_SHOWN_MS = 15 * 60_000;

/** The latest event for one line ("2m ago: hub is unreachable: …"), while it is recent. */
export function latestEvent(
  events: readonly FleetEvent[] | undefined,
  now: number,
): { text: SafeText; bad: boolean } | undefined {
  const last = events?.at(-1);
  const at = last ? Date.parse(last.time) : Number.NaN;
  if (!last || !(now - at < EVENT_SHOWN_MS)) return undefined;
  const age = Math.max(0, Math.round((now - at) / 60_000));
  // The age first: the message may be cut at the line's end.
  return {
    text: safeLine(`${age ? `${age}m ago` : "just now"}: ${last.message}`),
    bad: last.kind !== "node-up",
  };
}
