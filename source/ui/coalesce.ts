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

export function timerSchedule(ms: number): Schedule {
  return (fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  };
}

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
