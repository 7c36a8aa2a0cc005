/**
 * Snapshots may arrive far more often than a terminal can show them. Keep
 * only the newest and hand it over at most once per tick.
 */
export interface Coalescer<T> {
  push(value: T): void;
  /** Deliver the pending value now, if any. */
  flush(): void;
  cancel(): void;
}

/** Runs `fn` later; returns a function that cancels it. */
export type Schedule = (fn: () => void) => () => void;

export function createCoalescer<T>(deliver: (value: T) => void, schedule: Schedule): Coalescer<T> {
  let pending: { value: T } | null = null;
  let cancelTimer: (() => void) | null = null;
  const flush = () => {
    cancelTimer = null;
    const next = pending;
    pending = null;
    if (next) deliver(next.value);
  };
  return {
    push(value) {
      pending = { value };
      if (!cancelTimer) cancelTimer = schedule(flush);
    },
    flush() {
      cancelTimer?.();
      flush();
    },
    cancel() {
      cancelTimer?.();
      cancelTimer = null;
      pending = null;
    },
  };
}

/**
 * A frame budget for live data: after each delivery, the pause before the next
 * one grows with what the delivery cost, so that drawing snapshots takes at most
 * `share` of a core however big the federation is. Small federations draw at
 * the floor (`minMs`, ~20 a second); 10 000 tasks draw less often. Keys are not
 * delivered through this: they stay immediate. Smoothed, so one slow frame (a
 * GC) does not stall the screen; capped at `maxMs`.
 */
export interface FrameBudget {
  /** The pause before the next delivery. */
  readonly delayMs: number;
  /** Report what one delivery (reducer, React, Ink) took, in ms. */
  spent(ms: number): void;
}

export function createFrameBudget(options: { minMs: number; maxMs: number; share: number }): FrameBudget {
  let cost = 0;
  return {
    get delayMs() {
      const wanted = cost / options.share - cost;
      return Math.min(options.maxMs, Math.max(options.minMs, wanted));
    },
    spent(ms) {
      cost = cost === 0 ? ms : cost * 0.7 + ms * 0.3;
    },
  };
}

/**
 * A schedule whose delay is read when each wait begins, counted from the end of the last
 * delivery: a value that comes after a quiet spell (the first snapshot, above all) is
 * delivered at once instead of a whole delay later.
 */
export function budgetSchedule(
  budget: FrameBudget,
  now: () => number = performance.now.bind(performance),
): Schedule {
  let lastDone = Number.NEGATIVE_INFINITY;
  return (fn) => {
    const timer = setTimeout(
      () => {
        fn();
        lastDone = now();
      },
      Math.max(0, lastDone + budget.delayMs - now()),
    );
    return () => clearTimeout(timer);
  };
}
