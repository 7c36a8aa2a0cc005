import type { FleetEvent } from "../domain/federation-types.js";
import {
  type DebounceState,
  debounceEvents,
  deriveEvents,
  emptyDebounce,
  type FleetState,
} from "../domain/fleet-events.js";
import { runAlertCommand } from "../ops/alert-command.js";
import type { FederationCore } from "./federation.js";

/** Finished tasks looked at each round: enough to see every task that failed since the last. */
const FINISHED_LOOKED_AT = 200;

/**
 * The coordinator's alerts (`alerts` in federation.json): each round it looks at the fleet,
 * derives what changed since its last look (fleet-events.ts), debounces per node and kind,
 * and runs the alert command once per event that goes out. Only the coordinator runs rounds,
 * so one machine sends each alert; a worker that loses the lease forgets its last look, and
 * whoever takes over starts from its own first look.
 */
export class AlertRunner {
  private last: FleetState | undefined;
  private debounce: DebounceState = emptyDebounce();
  private readonly reported: FleetEvent[] = [];
  /** The commands run one after another, never holding up a coordinator round. */
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly core: FederationCore,
    private readonly log: (line: string) => void,
  ) {}

  /** An event found elsewhere in this worker: sent with the next round. */
  emit(event: FleetEvent): void {
    this.reported.push(event);
  }

  /** One look at the fleet; the alerts it gives are started, not awaited (see `settled`). */
  async round(): Promise<void> {
    const alerts = this.core.config.alerts;
    if (!alerts) return;
    const [listing, statuses] = await Promise.all([
      this.core.blackboard.list({ finishedLimit: FINISHED_LOOKED_AT }),
      this.core.blackboard.readNodeStatuses(),
    ]);
    const { views, usage } = await this.core.nodeViews({ probe: true, heartbeats: statuses.records });
    const now = new Date();
    const state: FleetState = {
      at: now.toISOString(),
      nodes: views,
      tasks: listing.tasks.map((t) => ({
        id: t.request.id,
        node: t.node,
        state: t.state,
        ...(t.result?.finishedAt ? { finishedAt: t.result.finishedAt } : {}),
        ...(t.result?.error ? { error: t.result.error } : {}),
      })),
      ...(usage.budget ? { budget: usage.budget } : {}),
    };
    const found = [...deriveEvents(this.last, state), ...this.reported.splice(0)];
    this.last = state;
    const wanted = alerts.kinds ? found.filter((e) => alerts.kinds?.includes(e.kind)) : found;
    const { state: next, send } = debounceEvents(this.debounce, wanted, now.getTime(), alerts.debounceMs);
    this.debounce = next;
    for (const event of send) {
      this.sending = this.sending.then(async () =>
        this.log(await runAlertCommand(alerts.command, event, alerts.timeoutMs)),
      );
    }
  }

  /** The lease went elsewhere: the next look, if this worker leads again, is a first look. */
  forget(): void {
    this.last = undefined;
  }

  /** Resolves when the alerts started so far have finished. */
  settled(): Promise<void> {
    return this.sending;
  }
}
