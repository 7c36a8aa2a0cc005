export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** How long a run took, precisely: "850 ms", "4.2 s", "3 min 5 s". */
export function formatElapsed(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${s} s`;
}

/** A coarse age for tables and notes: "42s", "5m", "3h", "7d"; "-" when it cannot be told. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** How long ago `iso` was, coarsely ("5m"), or undefined when it is missing or not a time. */
export function ageSince(iso: string | undefined, now: number): string | undefined {
  const then = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(then) ? undefined : formatAge(now - then);
}
