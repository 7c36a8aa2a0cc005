/**
 * A client announces its terminal size, and every frame of its session is drawn at that size:
 * an unchecked 65535 × 65535 (or a window-change to a million) runs the server out of heap.
 */
export const MAX_TERMINAL = { cols: 1000, rows: 500 } as const;
/** Below this nothing is readable; the control center shows its own "too small" notice up to 40 × 10. */
export const MIN_TERMINAL = { cols: 10, rows: 3 } as const;
const DEFAULT_TERMINAL = { cols: 80, rows: 24 } as const;

function clamp(value: unknown, min: number, max: number, fallback: number): number {
  // 0 means "unknown" in SSH; pixel sizes are never read.
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) return fallback;
  return Math.min(max, Math.max(min, Math.floor(value)));
}

/** The size a session is drawn at: the client's, held within MIN_TERMINAL … MAX_TERMINAL. */
export function clampTerminalSize(
  requested: { cols?: unknown; rows?: unknown },
  fallback: { cols: number; rows: number } = DEFAULT_TERMINAL,
): { cols: number; rows: number } {
  return {
    cols: clamp(requested.cols, MIN_TERMINAL.cols, MAX_TERMINAL.cols, fallback.cols),
    rows: clamp(requested.rows, MIN_TERMINAL.rows, MAX_TERMINAL.rows, fallback.rows),
  };
}
