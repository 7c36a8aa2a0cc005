import type { NodeView } from "../domain/federation-types.js";

/** Probe latencies kept per node for the control center's sparkline. */
export const LATENCY_SAMPLES = 20;

interface Ring {
  samples: Float64Array;
  /** Slot the next sample goes to. */
  next: number;
  count: number;
  /** When the newest sample was taken: the same probe seen twice is recorded once. */
  lastAt: number;
  /** The samples oldest first, built once per new sample (views share it until the next one). */
  recent: readonly number[];
}

/**
 * The last few gateway latencies of each node, in a fixed ring per node: O(1)
 * memory per node however long the process runs. A sample is recorded once, by
 * the time it was taken (a probe's, or the heartbeat that carried it), since the
 * same probe shows up in every snapshot until the next one.
 */
export class LatencyHistory {
  private readonly rings = new Map<string, Ring>();

  constructor(private readonly size = LATENCY_SAMPLES) {}

  /** Record `ms` taken at `at` (epoch ms); false when that sample is already in. */
  note(node: string, at: number, ms: number): boolean {
    if (!Number.isFinite(at) || !Number.isFinite(ms)) return false;
    let ring = this.rings.get(node);
    if (!ring) {
      ring = {
        samples: new Float64Array(this.size),
        next: 0,
        count: 0,
        lastAt: Number.NEGATIVE_INFINITY,
        recent: [],
      };
      this.rings.set(node, ring);
    }
    if (at <= ring.lastAt) return false;
    ring.samples[ring.next] = ms;
    ring.next = (ring.next + 1) % this.size;
    ring.count = Math.min(this.size, ring.count + 1);
    ring.lastAt = at;
    const recent: number[] = new Array(ring.count);
    for (let i = 0; i < ring.count; i++)
      recent[i] = ring.samples[(ring.next - ring.count + i + this.size) % this.size] as number;
    ring.recent = recent;
    return true;
  }

  /** Oldest first; empty for a node never measured. */
  recent(node: string): readonly number[] {
    return this.rings.get(node)?.recent ?? [];
  }

  /** Drop the nodes no longer in the federation. */
  keepOnly(nodes: ReadonlySet<string>): void {
    for (const id of this.rings.keys()) if (!nodes.has(id)) this.rings.delete(id);
  }
}

/**
 * The views with their recent latencies, after recording what is new: a
 * view's latency was measured at `sampledAt(view)` (undefined: not measured).
 */
export function withLatencyHistory(
  views: NodeView[],
  history: LatencyHistory,
  sampledAt: (view: NodeView) => number | undefined,
): NodeView[] {
  history.keepOnly(new Set(views.map((v) => v.id)));
  return views.map((view) => {
    const at = view.latencyMs === undefined ? undefined : sampledAt(view);
    if (at !== undefined && view.latencyMs !== undefined) history.note(view.id, at, view.latencyMs);
    const recent = history.recent(view.id);
    return recent.length > 0 ? { ...view, recentLatencyMs: recent } : view;
  });
}
