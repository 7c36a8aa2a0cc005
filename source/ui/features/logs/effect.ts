import { describeError } from "../../../core/domain/errors.js";
import type { FederationApi } from "../../../core/domain/federation-types.js";
import type { AppAction } from "../../state/app-state.js";
import { FIRST_LOG_LINES } from "./state.js";

/** The log each facade is following for its view: one at a time, stopped when the view closes. */
const following = new WeakMap<FederationApi, AbortController>();

/** Start following a node's log; each batch goes to the reducer. Stops the one before. */
export function followLogs(
  api: FederationApi,
  node: string,
  report: (action: AppAction) => void,
): Promise<void> {
  stopLogs(api);
  if (!api.logs) {
    report({ type: "notify", message: { text: "Logs are not available here.", tone: "error" } });
    return Promise.resolve();
  }
  const stop = new AbortController();
  following.set(api, stop);
  return api
    .logs(node, { follow: true, tail: FIRST_LOG_LINES, signal: stop.signal }, (view) => {
      if (!stop.signal.aborted) report({ type: "logLines", view });
    })
    .catch((error: unknown) => {
      if (!stop.signal.aborted)
        report({
          type: "notify",
          message: { text: `Log of ${node}: ${describeError(error)}`, tone: "error" },
        });
    });
}

export function stopLogs(api: FederationApi): Promise<void> {
  following.get(api)?.abort();
  following.delete(api);
  return Promise.resolve();
}
