import { UserError } from "../domain/errors.js";
import type { TaskState } from "../domain/schema.js";

/**
 * What a driver refuses, as a code with the facts behind it. The words for each code are in
 * one table (blackboardErrorWords), not in the drivers, so both drivers say the same thing
 * and the CLI and the UI show it unchanged (a BlackboardError is a UserError).
 */
export type BlackboardErrorFacts =
  | { code: "not_a_task_id"; id: string }
  | { code: "no_such_task"; id: string; board: string }
  | { code: "already_finished"; id: string; state: TaskState | undefined }
  | { code: "not_retryable"; id: string; state: TaskState }
  | { code: "changed_while_retrying"; id: string }
  | { code: "foreign_file"; path: string; root: string }
  | { code: "foreign_dir"; path: string; blocked: string; root: string }
  | { code: "not_owner"; node: string; owner: string; machine: string };

export type BlackboardErrorCode = BlackboardErrorFacts["code"];

export class BlackboardError extends UserError {
  declare readonly code: BlackboardErrorCode;
  constructor(readonly facts: BlackboardErrorFacts) {
    const words = blackboardErrorWords(facts);
    super(words.message, { ...(words.hint ? { hint: words.hint } : {}), code: facts.code });
    this.name = "BlackboardError";
  }
}

export function blackboardErrorWords(facts: BlackboardErrorFacts): { message: string; hint?: string } {
  switch (facts.code) {
    case "not_a_task_id":
      return {
        message: `"${facts.id}" is not a task id.`,
        hint: "ids look like req_20260227_203220_e68aee2d",
      };
    case "no_such_task":
      return { message: `No task ${facts.id} on ${facts.board}.`, hint: "clawos tasks list shows them" };
    case "already_finished":
      return {
        message: `Task ${facts.id} has already finished (${facts.state}); there is nothing to cancel.`,
      };
    case "not_retryable":
      return {
        message: `Task ${facts.id} is ${facts.state}; only failed or cancelled tasks can be retried.`,
        hint:
          facts.state === "completed"
            ? "dispatch it again to run it once more"
            : "wait for it to finish, or cancel it first",
      };
    case "changed_while_retrying":
      return {
        message: `Task ${facts.id} changed while retrying it; look again with clawos tasks show ${facts.id}.`,
      };
    case "not_owner":
      return {
        message: `Machine ${facts.machine} cannot write node ${facts.node}'s registry record for ${facts.owner}: only the owner writes its records.`,
        hint: `run it on ${facts.owner}`,
      };
    case "foreign_file":
      return {
        message: `Left ${facts.path} alone: it is not a file clawos wrote (a link, a pipe or a directory).`,
        hint: `remove it from the blackboard (${facts.root}), then try again`,
      };
    case "foreign_dir":
      return {
        message: `Cannot use ${facts.path} in the blackboard: ${facts.blocked}; left it alone.`,
        hint: `remove it from ${facts.root}: the blackboard holds only directories and files clawos made`,
      };
  }
}
