import type { FleetEvent, FleetEventKind, NodeState } from "./federation-types.js";

/** What event derivation looks at: a node's health and a task's state, as of `at`. */
export interface FleetState {
  /** ISO time of the look. */
  at: string;
  nodes: readonly { id: string; status: NodeState; reason?: string }[];
  tasks: readonly {
    id: string;
    node: string;
    state: string;
    finishedAt?: string;
    error?: { message: string };
  }[];
}

const UP: ReadonlySet<NodeState> = new Set(["online", "degraded"]);
const DOWN: ReadonlySet<NodeState> = new Set(["unreachable", "stale", "asleep"]);

/**
 * Pure: the events between two looks at the fleet. A node that was up and is now unreachable,
 * stale or asleep is `node-down`; the way back is `node-up`; a task that reached `failed` (no
 * attempt left: a failed attempt with attempts left goes back to pending) is `task-failed`.
 * The first look (no `before`) is the baseline and says nothing.
 */
export function deriveEvents(before: FleetState | undefined, after: FleetState): FleetEvent[] {
  if (!before) return [];
  const events: FleetEvent[] = [];
  const was = new Map(before.nodes.map((n) => [n.id, n.status]));
  for (const node of after.nodes) {
    const from = was.get(node.id);
    if (!from || from === node.status) continue;
    const why = node.reason ? `: ${node.reason}` : "";
    if (UP.has(from) && DOWN.has(node.status))
      events.push(
        event(after.at, "node-down", node.id, `${node.id} is ${node.status}${why}`, from, node.status),
      );
    else if (DOWN.has(from) && UP.has(node.status))
      events.push(
        event(after.at, "node-up", node.id, `${node.id} is back ${node.status}${why}`, from, node.status),
      );
  }
  const wasTask = new Map(before.tasks.map((t) => [t.id, t.state]));
  const since = Date.parse(before.at);
  for (const task of after.tasks) {
    if (task.state !== "failed") continue;
    const prior = wasTask.get(task.id);
    if (prior === "failed") continue;
    // Not seen before: only a task that failed since the last look (not an old one now listed).
    if (prior === undefined && !(task.finishedAt && Date.parse(task.finishedAt) >= since)) continue;
    const why = task.error?.message ? `: ${task.error.message.split("\n")[0]?.slice(0, 200)}` : "";
    events.push({
      ...event(after.at, "task-failed", task.node, `task ${task.id} failed on ${task.node}${why}`),
      task: task.id,
      ...(prior ? { from: prior } : {}),
      to: "failed",
    });
  }
  return events;
}

/** A budget reached (the usage side calls this): the event, in the same shape as the others. */
export function budgetReachedEvent(
  node: string,
  message: string,
  at: string = new Date().toISOString(),
): FleetEvent {
  return event(at, "budget-reached", node, message);
}

function event(
  time: string,
  kind: FleetEventKind,
  node: string,
  message: string,
  from?: string,
  to?: string,
): FleetEvent {
  return { time, kind, node, ...(from ? { from } : {}), ...(to ? { to } : {}), message };
}

// ── debounce ──────────────────────────────────────────────────────────────────

/** What the debounce remembers per node and kind group. */
export interface DebounceState {
  /** Key → when the last event of that key went out, and which kind it was. */
  sent: Record<string, { at: number; kind: FleetEventKind }>;
  /** Key → the newest event held back since, sent when the window ends if it still matters. */
  held: Record<string, FleetEvent & { suppressed: number }>;
}

export const emptyDebounce = (): DebounceState => ({ sent: {}, held: {} });

/** Down and up are one group per node: a flapping node is one story, not two. */
function keyOf(e: FleetEvent): string {
  return e.kind === "node-down" || e.kind === "node-up" ? `${e.node}\u0000node` : `${e.node}\u0000${e.kind}`;
}

/**
 * Pure: which events go out now. Per node and kind (down and up together), one event per
 * `windowMs`; the rest are held. When the window ends, the newest held one goes out if it
 * changes what was last said (a node that went down, up and down again is said to be down),
 * and is dropped if not (it went down and came back: the "up" already said so). Call it with
 * no events as time passes (`tick`) so held events get out.
 */
export function debounceEvents(
  state: DebounceState,
  events: readonly FleetEvent[],
  now: number,
  windowMs: number,
): { state: DebounceState; send: FleetEvent[] } {
  const sent = { ...state.sent };
  const held = { ...state.held };
  const send: FleetEvent[] = [];
  const emit = (key: string, e: FleetEvent) => {
    sent[key] = { at: now, kind: e.kind };
    delete held[key];
    send.push(e);
  };
  for (const [key, e] of Object.entries(held)) {
    const last = sent[key];
    if (last && now - last.at < windowMs) continue;
    const { suppressed, ...event } = e;
    if (last?.kind === event.kind && event.kind !== "task-failed" && event.kind !== "budget-reached") {
      delete held[key];
      continue;
    }
    const more = suppressed > 1 ? ` (${suppressed - 1} more held back)` : "";
    emit(key, { ...event, message: `${event.message}${more}` });
  }
  for (const e of events) {
    const key = keyOf(e);
    const last = sent[key];
    if (!last || now - last.at >= windowMs) emit(key, e);
    else held[key] = { ...e, suppressed: (held[key]?.suppressed ?? 0) + 1 };
  }
  return { state: { sent, held }, send };
}
