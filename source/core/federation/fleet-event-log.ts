import type { FleetEvent, Snapshot } from "../domain/federation-types.js";
import { deriveEvents, type FleetState } from "../domain/fleet-events.js";

/** How many of the latest events a snapshot carries (the control center shows the last one or two). */
const RECENT = 5;

/**
 * The events one process sees: derived from each new look at the fleet (`observe`), plus any
 * other part reports (`emit`). Listeners hear each event once.
 */
export class FleetEventLog {
  private last: FleetState | undefined;
  private readonly latest: FleetEvent[] = [];
  private readonly listeners = new Set<(event: FleetEvent) => void>();

  /** A new look at the fleet; returns (and tells the listeners) what changed since the last one. */
  observe(state: FleetState): FleetEvent[] {
    const events = deriveEvents(this.last, state);
    this.last = state;
    for (const event of events) this.emit(event);
    return events;
  }

  /** An event found elsewhere: kept and told like the derived ones. */
  emit(event: FleetEvent): void {
    this.latest.push(event);
    if (this.latest.length > RECENT) this.latest.shift();
    for (const listener of this.listeners) listener(event);
  }

  /** The latest events, oldest first. */
  get recent(): FleetEvent[] {
    return [...this.latest];
  }

  subscribe(listener: (event: FleetEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The part of a snapshot events are derived from. */
export function fleetStateOf(
  snapshot: Pick<Snapshot, "updatedAt" | "nodes" | "tasks" | "usage">,
): FleetState {
  const budget = snapshot.usage?.budget;
  return {
    at: snapshot.updatedAt,
    nodes: snapshot.nodes,
    tasks: snapshot.tasks,
    ...(budget ? { budget } : {}),
  };
}
