import { z } from "zod";
import { UserError } from "./errors.js";
import { lazySchema } from "./lazy-schema.js";

/**
 * Who may do what through the control center served over SSH. Local use (the CLI, a control
 * center started here) is admin: whoever runs it already holds this machine's files.
 */
export const ROLES = ["viewer", "operator", "admin"] as const;
export const Role = lazySchema(() => z.enum(ROLES));
export type Role = z.infer<typeof Role>;

/** Every action that changes something, as the audit log names it. */
export const ACTIONS = [
  "dispatch",
  "retry",
  "cancel",
  "discover",
  "incubate",
  "migrate",
  "start",
  "stop",
  "restart",
  "remove",
  "cordon",
  "uncordon",
  "drain",
  "nodes-add",
  "nodes-rename",
  "join",
] as const;
export type Action = (typeof ACTIONS)[number];

/** The least role each action needs: operators run work, admins change the fleet. */
export const ACTION_ROLE: Record<Action, Role> = {
  dispatch: "operator",
  retry: "operator",
  cancel: "operator",
  discover: "admin",
  incubate: "admin",
  migrate: "admin",
  start: "admin",
  stop: "admin",
  restart: "admin",
  remove: "admin",
  cordon: "admin",
  uncordon: "admin",
  drain: "admin",
  "nodes-add": "admin",
  "nodes-rename": "admin",
  join: "admin",
};

/** A key with no role set gets this: it can look, not act (see the README's "Roles"). */
export const DEFAULT_SERVE_ROLE: Role = "viewer";

export function roleAllows(role: Role, action: Action): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(ACTION_ROLE[action]);
}

/** The refusal for an action the role may not take: what was refused and who can grant it. */
export function roleRefusal(role: Role, action: Action): UserError {
  const needed = ACTION_ROLE[action];
  return new UserError(`${action} needs the ${needed} role; this session is ${role}.`, {
    hint: `ask an admin to set clawos-role="${needed}" on your key's line in the serve authorized_keys file`,
    code: "forbidden",
  });
}
