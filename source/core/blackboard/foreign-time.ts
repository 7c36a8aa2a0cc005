import type { NodeStatusRecord } from "../domain/schema.js";

/**
 * A time another machine reported (or a server or a synced file stamped with its own clock), as
 * this machine may use it: never later than `latest`, so a skewed clock cannot make something
 * look fresh for ever.
 */
export function notAfter(ms: number, latest: number): number {
  return Number.isFinite(ms) && ms <= latest ? ms : latest;
}

/** A heartbeat is never later than when it was stored: a writer's clock ahead cannot keep its node looking alive. */
export function heartbeatNotAfter(record: NodeStatusRecord, storedAt: number): NodeStatusRecord {
  const at = Date.parse(record.heartbeatAt);
  if (!Number.isFinite(storedAt) || !(at > storedAt)) return record;
  return { ...record, heartbeatAt: new Date(notAfter(at, storedAt)).toISOString() };
}
