import type { Subscription } from "@nats-io/transport-node";
import { isValidNodeId, isValidTaskId } from "../../domain/ids.js";
import type { WatchScope } from "../types.js";
import type { NatsLink } from "./connection.js";

/**
 * Wake-ups: plain subscriptions on the subjects JetStream stores — no consumer on the server,
 * and the client re-subscribes by itself after a reconnect. Events can still be missed:
 * callers rescan. Returns the function that stops watching.
 */
export function watchStore(link: NatsLink, scope: WatchScope, onChange: () => void): () => void {
  if (!link.connection || link.closed) return () => {};
  const n = link.names;
  let subjects: string[];
  if ("inboxOf" in scope) {
    if (!isValidNodeId(scope.inboxOf)) return () => {};
    subjects = [n.inboxFilter(scope.inboxOf)];
  } else if ("task" in scope) {
    if (!isValidTaskId(scope.task)) return () => {};
    subjects = [
      `$KV.${n.tasks}.${scope.task}`,
      `$KV.${n.progress}.${scope.task}`,
      `$KV.${n.results}.${scope.task}.*`,
    ];
  } else {
    subjects = [
      n.workSubjects,
      ...[n.tasks, n.progress, n.results, n.nodes, n.registry].map((b) => `$KV.${b}.>`),
    ];
  }
  const subs: Subscription[] = subjects.map((subject) =>
    link.conn.subscribe(subject, {
      callback: () => {
        onChange();
      },
    }),
  );
  return () => {
    for (const s of subs) {
      try {
        s.unsubscribe();
      } catch {
        // the connection is already closed
      }
    }
  };
}
