import type { AuditLine, FederationApi } from "../domain/federation-types.js";
import { type Action, type Role, roleAllows, roleRefusal } from "../domain/roles.js";
import { type AuditActor, appendAudit, audited, readAudit, whoOf } from "../infra/audit-log.js";

export interface Guard {
  role: Role;
  actor: AuditActor;
  /** The federation home, where audit.log lives. */
  home: string;
  /** Where a failure to write the audit log is reported (serve.log, stderr). */
  onAuditProblem?: (line: string) => void;
}

/**
 * The port as one caller may use it: every action is checked against the caller's role here,
 * on the serving side, whatever the UI shows or hides, and written to the audit log (ok,
 * refused or failed). Reads pass through.
 */
export function guardedApi(api: FederationApi, guard: Guard): FederationApi {
  const report = guard.onAuditProblem ?? (() => {});
  const run = async <T>(action: Action, target: string, body: () => Promise<T>): Promise<T> => {
    if (!roleAllows(guard.role, action)) {
      const refusal = roleRefusal(guard.role, action);
      const problem = await appendAudit(guard.home, {
        actor: guard.actor,
        action,
        target,
        result: "refused",
        reason: refusal.message,
      });
      if (problem) report(problem);
      throw refusal;
    }
    return audited(guard.home, guard.actor, action, target, body, report);
  };
  const guarded: FederationApi = {
    getSnapshot: () => api.getSnapshot(),
    subscribe: (listener) => api.subscribe(listener),
    refresh: () => api.refresh(),
    close: () => api.close(),
    dispatch: (input) => run("dispatch", input.to, () => api.dispatch(input)),
    retry: (id) => run("retry", id, () => api.retry(id)),
    cancel: (id) => run("cancel", id, () => api.cancel(id)),
    discover: () => run("discover", "this machine", () => api.discover()),
    auditLog: async (since) => (await readAudit(guard.home, since ? { since } : {})).entries.map(toLine),
  };
  const { incubate, migrate, nodeLifecycle, removeNode, cordon } = api;
  if (incubate)
    guarded.incubate = (input, onStep) =>
      run("incubate", input.name, () => incubate.call(api, input, onStep));
  if (migrate)
    guarded.migrate = (input, onLine) =>
      run("migrate", `${input.node} → ${input.to}`, () => migrate.call(api, input, onLine));
  if (nodeLifecycle)
    guarded.nodeLifecycle = (node, action) => run(action, node, () => nodeLifecycle.call(api, node, action));
  if (removeNode)
    guarded.removeNode = (node, options) => run("remove", node, () => removeNode.call(api, node, options));
  if (cordon) guarded.cordon = (node, action) => run(action, node, () => cordon.call(api, node, action));
  return guarded;
}

function toLine(entry: Awaited<ReturnType<typeof readAudit>>["entries"][number]): AuditLine {
  return {
    at: entry.at,
    who: whoOf(entry.actor),
    action: entry.action,
    target: entry.target,
    result: entry.result,
    ...(entry.reason ? { reason: entry.reason } : {}),
  };
}
