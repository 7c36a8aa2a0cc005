import type { FleetEvent, FleetEventKind, NodeState } from "./federation-types.js";

/** A daily budget as events see it: whether it is reached, and the line that says so. */
export interface BudgetState {
  reached: boolean;
  line: string;
}

/** What event derivation looks at: a node's health and budget, a task's state, as of `at`. */
export interface FleetState {
  /** ISO time of the look. */
  at: string;
  nodes: readonly { id: string; status: NodeState; reason?: string; budget?: BudgetState }[];
  tasks: readonly {
    id: string;
    node: string;
    state: string;
    finishedAt?: string;
    error?: { message: string };
  }[];
  /** The federation's own daily budget, when one is set. */
  budget?: BudgetState;
}

const UP: ReadonlySet<NodeState> = new Set(["online", "degraded"]);
const DOWN: ReadonlySet<NodeState> = new Set(["unreachable", "stale", "asleep"]);

/**
 * An event as one JSON line, the same for `watch --json` and an alert command's stdin: the stable
 * fields in a fixed order, absent ones as null (the federation's budget has no node).
 */
export function eventJson(event: FleetEvent): string {
  const { time, kind, node, task, from, to, message } = event;
  return JSON.stringify({
    time,
    kind,
    node: node ?? null,
    task: task ?? null,
    from: from ?? null,
    to: to ?? null,
    message,
  });
}

/**
 * Pure: the events between two looks at the fleet. A node that was up and is now unreachable,
 * stale or asleep is `node-down`; the way back is `node-up`; a task that reached `failed` (no
 * attempt left: a failed attempt with attempts left goes back to pending) is `task-failed`;
 * a budget that was not reached and now is, `budget-reached` (budgetEvents).
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
  events.push(...budgetEvents(before, after));
  return events;
}

/**
 * A daily budget that went from not reached to reached between the two looks. The
 * federation's is one event without a node; a node bound by the federation's budget (the
 * same line) says nothing of its own, so a federation cap reached is one event, not one per
 * node. A node not in the first look is baseline, as for its health.
 */
function budgetEvents(before: FleetState, after: FleetState): FleetEvent[] {
  const events: FleetEvent[] = [];
  const federation = after.budget;
  if (federation?.reached && before.budget?.reached !== true)
    events.push(budgetReachedEvent(undefined, federation.line, after.at));
  const was = new Map(before.nodes.map((n) => [n.id, n.budget?.reached === true]));
  for (const node of after.nodes) {
    const budget = node.budget;
    if (!budget?.reached || was.get(node.id) !== false) continue;
    if (federation && budget.line === federation.line) continue;
    events.push(budgetReachedEvent(node.id, budget.line, after.at));
  }
  return events;
}

/** A budget reached, a node's (`node`) or the federation's (no node), in the same shape as the others. */
export function budgetReachedEvent(
  node: string | undefined,
  message: string,
  at: string = new Date().toISOString(),
): FleetEvent {
  return event(at, "budget-reached", node, message);
}

function event(
  time: string,
  kind: FleetEventKind,
  node: string | undefined,
  message: string,
  from?: string,
  to?: string,
): FleetEvent {
  return {
    time,
    kind,
    ...(node !== undefined ? { node } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    message,
  };
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
  const node = e.node ?? "";
  return e.kind === "node-down" || e.kind === "node-up" ? `${node}\u0000node` : `${node}\u0000${e.kind}`;
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
