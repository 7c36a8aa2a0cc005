import { JetStreamApiError } from "@nats-io/jetstream";
import { NoRespondersError, TimeoutError } from "@nats-io/transport-node";

/** How the server refuses a write whose expected last sequence (the CAS revision) has moved on. */
const WRONG_LAST_SEQUENCE = 10071;

export function isNoResponders(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (e instanceof NoRespondersError) return true;
  return false;
}

export function isTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (e instanceof TimeoutError) return true;
  return false;
}

export function isWrongLastSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE;
}

/** A JetStream API error with this code (e.g. 10059 stream not found). */
export function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/** Errors a reconnect or a restarting server cures. */
export function isTransient(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof TimeoutError || e instanceof NoRespondersError) return true;
    if (e instanceof JetStreamApiError) return e.status === 503 || e.code === 10008;
    if (
      /timeout|timed out|no responders|disconnect|reconnect|connection (closed|lost|refused)/i.test(e.message)
    )
      return true;
  }
  return false;
}
