import type { Column } from "./columns.js";

/** Eight heights, lowest first: one character per sample. */
export const SPARK_BARS = "▁▂▃▄▅▆▇█";

/**
 * The last `width` samples as bars, scaled from zero to the largest of them
 * (from zero, so a steady 3 ms does not look like a storm). Empty when there is
 * no sample or no room; never wider than `width` (each bar is one column).
 */
export function sparkline(samples: readonly number[], width: number): string {
  const room = Math.max(0, Math.floor(width));
  if (room === 0 || samples.length === 0) return "";
  const shown = samples.slice(-room).map((v) => (Number.isFinite(v) && v > 0 ? v : 0));
  const max = Math.max(...shown);
  if (max <= 0) return SPARK_BARS[0]?.repeat(shown.length) ?? "";
  const top = SPARK_BARS.length - 1;
  let out = "";
  for (const v of shown) out += SPARK_BARS[Math.min(top, Math.max(0, Math.ceil((v / max) * (top + 1)) - 1))];
  return out;
}

/** Samples a trend cell shows (the core keeps a few more). */
export const TREND_WIDTH = 12;

/**
 * The nodes table's latency trend, after LATENCY: dropped before it on a narrow
 * screen (a number says more than a picture in few columns).
 */
export function latencyTrendColumn<Row extends { recentLatencyMs?: readonly number[] }>(): Column<Row> {
  return {
    id: "trend",
    header: "TREND",
    drop: 6.5,
    value: (n) => sparkline(n.recentLatencyMs ?? [], TREND_WIDTH),
    tone: () => "info",
    max: TREND_WIDTH,
  };
}
