/**
 * Times of day as both faces show them: absolute times in the local zone, saying which zone
 * ("2026-02-27 20:37 UTC+08:00"); how long ago is `formatAge` ("3m").
 */

const p = (n: number) => String(n).padStart(2, "0");

/** "UTC", or "UTC+08:00": the local zone at `date`. */
export function zoneOf(date: Date): string {
  const offset = -date.getTimezoneOffset();
  if (offset === 0) return "UTC";
  const a = Math.abs(offset);
  return `UTC${offset < 0 ? "-" : "+"}${p(Math.floor(a / 60))}:${p(a % 60)}`;
}

function dayOf(date: Date): string {
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}`;
}

function timeOf(date: Date, seconds: boolean): string {
  return `${p(date.getHours())}:${p(date.getMinutes())}${seconds ? `:${p(date.getSeconds())}` : ""}`;
}

/** "2026-02-27 20:37 UTC+08:00" (with `seconds`, "20:37:05"): the local time, and its zone. */
export function localStamp(date: Date, options: { seconds?: boolean } = {}): string {
  return `${dayOf(date)} ${timeOf(date, Boolean(options.seconds))} ${zoneOf(date)}`;
}

/**
 * The local time of an ISO stamp without its zone (said once nearby): "20:37" (with `seconds`,
 * "20:37:05"), the day first when it is not today. Undefined when it is not a time.
 */
export function clockOf(
  iso: string | undefined,
  now: number,
  options: { seconds?: boolean } = {},
): string | undefined {
  const at = iso ? new Date(iso) : undefined;
  if (!at || Number.isNaN(at.getTime())) return undefined;
  const time = timeOf(at, Boolean(options.seconds));
  return new Date(now).toDateString() === at.toDateString() ? time : `${dayOf(at)} ${time}`;
}
