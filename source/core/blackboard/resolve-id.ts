import { UserError } from "../domain/errors.js";
import { isValidTaskId, matchTaskIds } from "../domain/ids.js";
import { BlackboardError } from "./errors.js";
import { truncateName } from "./names.js";
import type { Blackboard } from "./types.js";

const SHOWN_MATCHES = 8;

/**
 * The full id of the one task `typed` names: a whole id, a unique prefix, or its last hex
 * digits (`a7638c2f`). Every command that takes an id goes through here. A whole id is looked
 * up directly (archived tasks too); anything shorter is matched against the board's tasks,
 * then, if none matches, against the archive's ids.
 */
export async function resolveTaskId(board: Blackboard, typed: string): Promise<string> {
  const wanted = typed.trim();
  if (isValidTaskId(wanted) && (await board.get(wanted))) return wanted;
  if (!/^[A-Za-z0-9_-]{1,84}$/.test(wanted))
    throw new BlackboardError({ code: "not_a_task_id", id: truncateName(wanted) });
  const { tasks } = await board.list({ finishedLimit: Number.POSITIVE_INFINITY });
  let matches = matchTaskIds(
    tasks.map((t) => t.request.id),
    wanted,
  );
  // Archived tasks are looked for only when no live one matches: the usual case reads no archive.
  if (matches.length === 0) matches = matchTaskIds(await board.archivedIds(), wanted);
  const [only] = matches;
  if (matches.length === 1 && only) return only;
  if (matches.length === 0)
    throw new UserError(`No task matches "${wanted}" on ${board.location}.`, {
      hint: "give a whole id, its start or its last 8 hex digits; clawos tasks list shows the ids",
      code: "no_such_task",
    });
  const listed = matches.slice(0, SHOWN_MATCHES).join(", ");
  const more = matches.length > SHOWN_MATCHES ? ` and ${matches.length - SHOWN_MATCHES} more` : "";
  throw new UserError(`"${wanted}" matches ${matches.length} tasks: ${listed}${more}.`, {
    hint: "type more of the id (or its last 8 hex digits) to name one",
    code: "ambiguous_id",
  });
}
