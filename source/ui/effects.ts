import { describeError } from "../core/domain/errors.js";
import type { FederationApi } from "../core/domain/federation-types.js";
import { followLogs, stopLogs } from "./features/logs/effect.js";
import type { AppAction, Effect } from "./state/app-state.js";

/** Where an effect's results go: back into the reducer as actions. */
export type Report = (action: AppAction) => void;

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Runs one effect the reducer queued against the federation and reports what came of
 * it as actions. Failures never escape: each becomes an action the status line shows.
 * The promise settles once the last report is made (the App does not wait for it;
 * tests do).
 */
export function runEffect(api: FederationApi, effect: Effect, report: Report): Promise<void> {
  switch (effect.type) {
    case "dispatch":
      return api.dispatch(effect.input).then(
        (outcome) => report({ type: "dispatched", outcome }),
        (error: unknown) => report({ type: "dispatchFailed", error: errorText(error) }),
      );
    case "retry":
      return eachTask(effect.ids, (id) => api.retry(id), "retry", report);
    case "cancel":
      return eachTask(effect.ids, (id) => api.cancel(id), "cancel", report);
    case "refresh":
      return api.refresh().then(
        () => report({ type: "notify", message: { text: "Refreshed.", tone: "info" } }),
        (error: unknown) =>
          report({ type: "notify", message: { text: `Refresh failed: ${errorText(error)}`, tone: "error" } }),
      );
    case "incubate":
      return incubate(api, effect, report);
    case "migrate":
      if (!api.migrate) {
        report({ type: "migrateFailed", error: "Migration is not available here." });
        return Promise.resolve();
      }
      return api
        .migrate(effect.input, (line) => report({ type: "migrateLine", line }))
        .then(
          () => report({ type: "migrateDone" }),
          (error: unknown) => report({ type: "migrateFailed", error: describeError(error) }),
        );
    case "nodeLifecycle":
      return lines(api.nodeLifecycle?.bind(api, effect.node, effect.action), report);
    case "removeNode":
      return lines(
        api.removeNode?.bind(api, effect.node, { stop: effect.stop, purge: effect.purge }),
        report,
      );
    case "logs":
      return followLogs(api, effect.node, report);
    case "stopLogs":
      return stopLogs(api);
    case "cordon":
      return lines(api.cordon?.bind(api, effect.node, effect.action), report);
    case "audit":
      if (!api.auditLog) {
        report({ type: "auditFailed", error: "the audit log is not available here." });
        return Promise.resolve();
      }
      return api.auditLog().then(
        (auditLines) => report({ type: "auditLoaded", lines: auditLines }),
        (error: unknown) => report({ type: "auditFailed", error: errorText(error) }),
      );
    case "discover":
      return api.discover().then(
        (ids) => report({ type: "discovered", ids }),
        (error: unknown) => report({ type: "discoverFailed", error: errorText(error) }),
      );
  }
}

/** A node action that answers with lines: all of them in the status line, or its error. */
function lines(call: (() => Promise<string[]>) | undefined, report: Report): Promise<void> {
  if (!call) {
    report({ type: "notify", message: { text: "Node actions are not available here.", tone: "error" } });
    return Promise.resolve();
  }
  return call().then(
    (said) => report({ type: "notify", message: { text: said.join(" "), tone: "info" } }),
    (error: unknown) => report({ type: "notify", message: { text: describeError(error), tone: "error" } }),
  );
}

/** One call per task, one after the other; one message for all of them. */
async function eachTask(
  ids: string[],
  call: (id: string) => Promise<void>,
  verb: string,
  report: Report,
): Promise<void> {
  const failures: string[] = [];
  for (const id of ids) {
    try {
      await call(id);
    } catch (error) {
      failures.push(`${id}: ${errorText(error)}`);
    }
  }
  report({
    type: "notify",
    message:
      failures.length > 0
        ? { text: `Could not ${verb} ${failures.join("; ")}`, tone: "error" }
        : { text: `Asked to ${verb} ${ids.length === 1 ? ids[0] : `${ids.length} tasks`}.`, tone: "info" },
  });
}

/** Each step as it starts goes to the status line, then where the node runs (or why nothing changed). */
function incubate(
  api: FederationApi,
  effect: Extract<Effect, { type: "incubate" }>,
  report: Report,
): Promise<void> {
  if (!api.incubate) {
    report({ type: "notify", message: { text: "Incubation is not available here.", tone: "error" } });
    return Promise.resolve();
  }
  const { name, start, configOnly } = effect;
  return api
    .incubate({ name, start, configOnly }, (step) => {
      if (step.status === "running") {
        report({
          type: "notify",
          message: { text: `[${step.step}/${step.total}] ${step.title}…`, tone: "info" },
        });
      }
    })
    .then(
      (done) =>
        report({
          type: "notify",
          message: done.cannotAnswer
            ? {
                text: `Node ${done.node} runs on 127.0.0.1:${done.port} but cannot answer yet (kept as misconfigured): ${done.cannotAnswer}`,
                tone: "error",
              }
            : {
                text: start
                  ? `Node ${done.node} is ready on 127.0.0.1:${done.port}, and it answered a first turn.`
                  : `Node ${done.node} is set up on 127.0.0.1:${done.port}; its gateway is not running yet.`,
                tone: "info",
              },
        }),
      (error: unknown) =>
        report({
          type: "notify",
          message: { text: `Incubation failed, everything rolled back: ${errorText(error)}`, tone: "error" },
        }),
    );
}
